// The sandboxed systemd executor (`[executor] sandbox = true`): each attempt is a transient
// service `warden-<task>.service` with the limits of the scope executor plus the confinement of
// sandbox.ts (ProtectSystem=strict, only its worktree, HOME and run files writable, no
// capabilities, loopback denied, ...). Execution settings exist only for services, hence a service
// and not a scope.
//
// A service is started by PID 1, not exec'd by systemd-run, so the worker does not inherit
// warden's file descriptors by itself: `--pipe` hands systemd-run's stdin, stdout and stderr (the
// prompt file and the attempt log, opened by warden with O_NOFOLLOW) to the service, and `--wait`
// keeps systemd-run until the unit has ended, so its exit is the attempt's end as for a scope.
// The worker's PID is the wrapper's pid file (its MainPID). What both executors share is in
// systemd-unit.ts.
import type { ChildProcess } from 'node:child_process';
import { chownSync, existsSync, lchownSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ensureDirsUnder, readRegularOrNull } from '../host/safe-open.js';
import { readPidFile, WRAPPER_SCRIPT } from './process-info.js';
import { sandboxEnv, sandboxLine, sandboxProperties, type SandboxLimits } from './sandbox.js';
import { SystemdUnitExecutor, type SystemdExecutorOptions } from './systemd-unit.js';
import type { WorkerSpec } from './types.js';

export interface SandboxOptions {
  stateDir: string;
  /** worktree.base_dir (the other tasks' worktrees), or null without [worktree]. */
  worktreeBase: string | null;
  /** worktree.repo: its git directory stays writable (commits write objects and refs there). */
  repo: string | null;
  writable: readonly string[];
  /** Made inaccessible: /etc/warden, the config file, the control socket, token and env files. */
  inaccessible: readonly string[];
  limits: Omit<SandboxLimits, 'tasksMax'>;
  /** What this host cannot enforce (sandboxGaps). */
  gaps: readonly string[];
}

/** The per-task HOME (Claude Code keeps `~/.claude` there, across the task's attempts). */
export function taskHome(stateDir: string, taskId: string): string {
  return join(stateDir, 'homes', taskId);
}

/** The git directory of a clone: `<repo>/.git` when it is a directory, else the repository itself (bare). */
export function gitDirOf(repo: string): string {
  const dotGit = join(repo, '.git');
  return existsSync(dotGit) && statSync(dotGit).isDirectory() ? dotGit : repo;
}

export class SandboxedExecutor extends SystemdUnitExecutor {
  readonly sandbox: string;
  /** What this host cannot enforce of the sandbox (sandboxGaps). */
  readonly gaps: readonly string[];
  protected readonly unitType = 'service';

  constructor(
    opts: SystemdExecutorOptions,
    private readonly box: SandboxOptions,
  ) {
    super(opts);
    this.gaps = box.gaps;
    this.sandbox = sandboxLine(true, box.gaps);
  }

  /**
   * The per-task HOME, made level by level (a planted symlink is refused) and given to the worker
   * user; and what is the task's own in the clone's git directory (`worktrees/<task>`: its index
   * and HEAD; its branch ref and reflog), which root's `git worktree add` made root's, so that the
   * worker can commit. The shared parts (objects/, refs/heads/warden/) must be writable for the
   * worker user already, as README "Sandboxed workers" says.
   */
  protected override prepare(spec: WorkerSpec): void {
    const home = ensureDirsUnder(this.box.stateDir, ['homes', spec.taskId], 0o700);
    const user = this.opts.user;
    if (!user) return;
    chownSync(home, user.uid, user.gid);
    if (this.box.repo === null) return;
    const gitDir = gitDirOf(this.box.repo);
    const admin = worktreeAdminDir(spec.cwd, gitDir);
    if (admin !== null) lchownTree(admin, user.uid, user.gid);
    // the task's own branch and its reflog, which `git worktree add -b` made root's
    for (const own of [`refs/heads/warden/${spec.taskId}`, `logs/refs/heads/warden/${spec.taskId}`]) {
      const path = join(gitDir, own);
      if (lstatOrNull(path)?.isFile()) lchownSync(path, user.uid, user.gid);
    }
  }

  properties(spec: WorkerSpec): string[] {
    const b = this.box;
    return sandboxProperties(
      {
        worktree: spec.cwd,
        home: taskHome(b.stateDir, spec.taskId),
        runFiles: [`${spec.runBase}.pid`, `${spec.runBase}.exit`],
        promptFile: spec.stdinFile,
        readOnlyDirs: spec.env.WARDEN_FLEET_HEARTBEAT ? [dirname(spec.env.WARDEN_FLEET_HEARTBEAT)] : [],
        gitDir: b.repo === null ? null : gitDirOf(b.repo),
        writable: b.writable,
        hiddenDirs: [b.stateDir, ...(b.worktreeBase === null ? [] : [b.worktreeBase])],
        inaccessible: b.inaccessible,
      },
      { ...b.limits, tasksMax: spec.tasksMax },
    );
  }

  unitArgs(spec: WorkerSpec): string[] {
    const env = { ...sandboxEnv(spec.env), HOME: taskHome(this.box.stateDir, spec.taskId) };
    return [
      '--service-type=exec',
      '--pipe',
      '--wait',
      ...this.commonArgs(spec),
      `--working-directory=${spec.cwd}`,
      ...this.properties(spec).flatMap((p) => ['-p', p]),
      // by name: the value comes from systemd-run's environment (spawn gives it spec.env)
      ...Object.keys(env)
        .filter((k) => k !== 'HOME')
        .map((k) => `--setenv=${k}`),
      `--setenv=HOME=${env.HOME}`,
      ...['/bin/sh', '-c', WRAPPER_SCRIPT, spec.runBase, ...spec.argv].map(literalForExecStart),
    ];
  }

  /** systemd-run stays the client (--wait); the service's main process wrote its PID. */
  protected workerPid(_child: ChildProcess, runBase: string): number {
    return readPidFile(runBase) as number;
  }
}

/**
 * A service's command line is an ExecStart=, where systemd replaces `$$` by `$` and `${NAME}` by
 * the variable: the wrapper's `echo $$` wrote a literal `$`. Doubling every `$` keeps each word as
 * written (a scope's command is exec'd by systemd-run itself, untouched).
 */
export function literalForExecStart(word: string): string {
  return word.replaceAll('$', () => '$$');
}

/**
 * The worktree's admin directory, from its `.git` file (`gitdir: <gitDir>/worktrees/<name>`), only
 * when it really is one directly under the clone's `worktrees/`: the worker owns the worktree and
 * could point that file anywhere.
 */
export function worktreeAdminDir(worktree: string, gitDir: string): string | null {
  const m = /^gitdir: (.+)$/m.exec(readRegularOrNull(join(worktree, '.git')) ?? '');
  if (!m?.[1]) return null;
  const dir = resolve(worktree, m[1].trim());
  const parent = join(gitDir, 'worktrees');
  if (resolve(dir, '..') !== parent) return null;
  try {
    return lstatSync(dir).isDirectory() ? dir : null;
  } catch {
    return null;
  }
}

/** chown without following a symlink anywhere (lchown, and no descent into links). */
function lchownTree(path: string, uid: number, gid: number): void {
  lchownSync(path, uid, gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) lchownTree(join(path, name), uid, gid);
}

function lstatOrNull(path: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
