// `warden doctor`'s sandbox check: start a probe service with exactly the settings a sandboxed
// attempt gets (SandboxedExecutor.properties), let `systemd-analyze security` score it, stop it.
// The score judges the unit's settings, not what this kernel enforces: the gaps (sandboxGaps) are
// reported beside it.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stopUnit, WORKER_SLICE } from '../executors/systemd-unit.js';
import type { SandboxedExecutor } from '../executors/systemd-service.js';
import type { UserIds } from '../host/users.js';
import type { Check } from './check.js';

const run = promisify(execFile);

/** The exposure goal of a sandboxed worker (README "What a worker can and cannot touch"). */
export const EXPOSURE_GOAL = 2.5;

/** `→ Overall exposure level for x.service: 2.1 OK 🙂` → 2.1 and `OK`. */
export function parseExposure(stdout: string): { score: number; label: string } | null {
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?) (\S+)/.exec(stdout);
  return m ? { score: Number(m[1]), label: m[2] ?? '' } : null;
}

/** Starts the probe unit, scores it, stops it; a failure says which step failed. */
export async function measureExposure(
  executor: SandboxedExecutor,
  user: UserIds | null,
  hiddenDirs: readonly string[],
): Promise<{ score: number; label: string } | { error: string }> {
  // TemporaryFileSystem= needs its directory: state_dir and base_dir exist once warden has run
  for (const d of hiddenDirs) mkdirSync(d, { recursive: true, mode: 0o711 });
  const dir = mkdtempSync(join(tmpdir(), 'warden-doctor-'));
  const unit = `warden_doctor-sandbox-${process.pid}.service`; // not warden-*: those are workers
  try {
    for (const f of ['prompt', 'run.pid', 'run.exit']) writeFileSync(join(dir, f), '');
    // the probe's own paths stand in for the worktree, HOME and run files; the rest is the config's
    const props = executor.properties({
      taskId: 'doctor',
      attempt: 0,
      argv: [],
      cwd: dir,
      stdinFile: join(dir, 'prompt'),
      logFile: join(dir, 'log'),
      runBase: join(dir, 'run'),
      memoryMax: 32 * 1024 ** 2,
      cpuQuota: 10,
      tasksMax: 16,
      env: {},
    });
    const home = props.find((p) => p.startsWith('BindPaths=') && p.includes('/homes/'));
    const args = [
      '--quiet',
      '--collect',
      '--service-type=exec',
      `--unit=${unit}`,
      `--slice=${WORKER_SLICE}`,
      '--description=warden doctor: sandbox exposure probe',
      ...(user ? [`--uid=${user.uid}`, `--gid=${user.gid}`] : []),
      // the per-task HOME of a probe does not exist: bind the probe directory in its place
      ...props.map((p) => (p === home ? `BindPaths=${dir}` : p)).flatMap((p) => ['-p', p]),
      '/bin/sleep',
      '30',
    ];
    try {
      await run('systemd-run', args, { timeout: 15_000 });
    } catch (err) {
      return { error: `the probe service did not start: ${firstLine(err)}` };
    }
    try {
      const { stdout } = await run('systemd-analyze', ['security', '--no-pager', unit], { timeout: 30_000 });
      return parseExposure(stdout) ?? { error: 'systemd-analyze security printed no overall exposure level' };
    } catch (err) {
      return { error: `systemd-analyze security failed: ${firstLine(err)}` };
    }
  } finally {
    await stopUnit(unit, 1000);
    rmSync(dir, { recursive: true, force: true });
  }
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return ((e.stderr ?? '').trim() || (e.message ?? String(err))).split('\n')[0] ?? '';
}

/** The doctor line: the sandbox state, its score against the goal, and what this host lacks. */
export function sandboxCheck(line: string, gaps: readonly string[], r: { score: number; label: string } | { error: string } | null): Check {
  if (r === null)
    return { id: 'sandbox', status: 'info', summary: `${line} (${gaps.length ? gaps.join('; ') : 'exposure not measured: needs root'})` };
  if ('error' in r)
    return { id: 'sandbox', status: 'fail', summary: `${line}, but ${r.error}`, fix: 'see journalctl -u warden_doctor-sandbox-*.service' };
  const data = { exposure: r.score };
  const scored = `${line}; exposure ${r.score} ${r.label} (systemd-analyze security; goal < ${EXPOSURE_GOAL})`;
  if (gaps.length > 0)
    return {
      id: 'sandbox',
      status: 'warn',
      summary: scored,
      fix: 'boot with the unified cgroup hierarchy (cgroup v2: systemd.unified_cgroup_hierarchy=1 on the kernel command line; Pi OS Bookworm has it), or add the LAN to a firewall',
      data,
    };
  if (r.score >= EXPOSURE_GOAL) return { id: 'sandbox', status: 'warn', summary: scored, data };
  return { id: 'sandbox', status: 'pass', summary: scored, data };
}
