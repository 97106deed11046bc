// The sandboxed executor's systemd-run arguments, without systemd: what a service is given, what it
// is not (warden's secrets), and the command line systemd must not rewrite.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../../../src/config/load.ts';
import { sandboxOptions } from '../../../src/executors/choose.ts';
import { CONFINEMENT } from '../../../src/executors/sandbox.ts';
import { literalForExecStart, SandboxedExecutor, worktreeAdminDir } from '../../../src/executors/systemd-service.ts';
import type { WorkerSpec } from '../../../src/executors/types.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('sandbox-service');

const config = parseConfigText(
  `[supervisor]
state_dir = "/var/lib/warden"
[worker]
deny_networks = ["192.168.1.0/24"]
tasks_max = 64
[worktree]
repo = "/srv/project"
base_dir = "/var/lib/warden/worktrees"
[control]
socket = "/run/warden/warden.sock"
[executor]
sandbox = true
`,
  '/etc/warden/config.toml',
);

const spec: WorkerSpec = {
  taskId: 'gh-7',
  attempt: 2,
  argv: ['claude', '-p', 'echo $HOME ${USER}'],
  cwd: '/var/lib/warden/worktrees/gh-7',
  stdinFile: '/var/lib/warden/prompts/gh-7',
  logFile: '/var/lib/warden/logs/gh-7/2.log',
  runBase: '/var/lib/warden/run/gh-7.2',
  memoryMax: 2 * 1024 ** 3,
  cpuQuota: 100,
  tasksMax: 64,
  env: { PATH: '/usr/bin:/bin', ANTHROPIC_API_KEY: 'sk-secret', WARDEN_TASK_ID: 'gh-7' },
};

const executor = new SandboxedExecutor(
  { user: { name: 'warden', uid: 990, gid: 990 }, maxRuntimeMs: 3_600_000, stopGraceMs: 10_000, memoryEnforced: true },
  sandboxOptions(config, '/etc/warden/config.toml', []),
);

test('a transient service of exec type, its stdio handed over and waited for, named after the task', () => {
  const args = executor.unitArgs(spec);
  for (const a of ['--service-type=exec', '--pipe', '--wait', '--collect', '--unit=warden-gh-7.service', '--slice=warden-workers.slice'])
    assert.ok(args.includes(a), a);
  assert.ok(args.includes('--working-directory=/var/lib/warden/worktrees/gh-7'), 'a service does not inherit the cwd');
  assert.ok(args.includes('--uid=990') && args.includes('--gid=990'));
  const props = args.filter((_, i) => args[i - 1] === '-p');
  for (const p of ['MemoryMax=2147483648', 'MemorySwapMax=0', 'CPUQuota=100%', 'TasksMax=64', 'IPAddressDeny=localhost 192.168.1.0/24'])
    assert.ok(props.includes(p), p);
  for (const r of CONFINEMENT) assert.ok(props.includes(`${r.setting}=${r.value}`), r.setting);
  assert.equal(executor.sandbox, 'sandbox: on');
});

test("warden's secrets never reach the command line or the unit's Environment=; variables go by name", () => {
  const args = executor.unitArgs(spec);
  assert.ok(!args.some((a) => a.includes('sk-secret') || a.includes('ANTHROPIC_API_KEY')));
  assert.ok(args.includes('--setenv=PATH') && args.includes('--setenv=WARDEN_TASK_ID'));
  assert.ok(args.includes('--setenv=HOME=/var/lib/warden/homes/gh-7'), 'the per-task HOME');
});

test('hidden from the worker: state_dir, the worktrees, /etc/warden, the config file and the control socket', () => {
  const props = executor.properties(spec);
  assert.ok(props.includes('TemporaryFileSystem=/var/lib/warden:ro'));
  assert.ok(props.includes('TemporaryFileSystem=/var/lib/warden/worktrees:ro'));
  for (const p of ['/etc/warden', '/etc/warden/config.toml', '/run/warden/warden.sock', '/etc/warden/env'])
    assert.equal(props.filter((x) => x === `InaccessiblePaths=-${p}`).length, 1, p);
  assert.ok(props.includes('BindPaths=/var/lib/warden/run/gh-7.2.pid') && props.includes('BindPaths=/var/lib/warden/run/gh-7.2.exit'));
});

test("systemd's ExecStart expansion cannot rewrite the command: every $ is doubled, nothing else changes", () => {
  assert.equal(literalForExecStart('echo $$ ${HOME} $0.pid'), 'echo $$$$ $${HOME} $$0.pid');
  assert.equal(literalForExecStart('plain'), 'plain');
  const args = executor.unitArgs(spec);
  assert.deepEqual(args.slice(-4), ['/var/lib/warden/run/gh-7.2', 'claude', '-p', 'echo $$HOME $${USER}']);
  assert.ok(
    args.some((a) => a.includes('echo $$$$ 1<> "$$0.pid"')),
    'the wrapper writes its own PID, not a literal $',
  );
});

test("a worktree's admin directory is taken only from directly under the clone's worktrees/", () => {
  const root = tmp.fresh('admin');
  const gitDir = join(root, 'repo/.git');
  mkdirSync(join(gitDir, 'worktrees/t1'), { recursive: true });
  mkdirSync(join(root, 'wt1'));
  writeFileSync(join(root, 'wt1/.git'), `gitdir: ${gitDir}/worktrees/t1\n`);
  assert.equal(worktreeAdminDir(join(root, 'wt1'), gitDir), join(gitDir, 'worktrees/t1'));
  // the worker owns its worktree: a .git file pointing elsewhere is not followed
  mkdirSync(join(root, 'wt2'));
  writeFileSync(join(root, 'wt2/.git'), 'gitdir: /etc\n');
  assert.equal(worktreeAdminDir(join(root, 'wt2'), gitDir), null);
  writeFileSync(join(root, 'wt2/.git'), `gitdir: ${gitDir}/worktrees/t1/../../..\n`);
  assert.equal(worktreeAdminDir(join(root, 'wt2'), gitDir), null);
  assert.equal(worktreeAdminDir(join(root, 'none'), gitDir), null);
});
