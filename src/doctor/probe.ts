// The real proof that worker limits hold: start a tiny transient scope the way the systemd executor
// does, with a small MemoryMax, and read back from inside it what the kernel applied to its cgroup.
// On a kernel with the memory controller off, systemd accepts MemoryMax= and no limit file exists.
import { execFile } from 'node:child_process';
import { WORKER_SLICE } from '../executors/systemd-unit.js';

export const PROBE_MEMORY_MAX = 32 * 1024 * 1024;

// Runs inside the scope: for each cgroup the shell is in, print the memory limit the kernel holds
// (v1 memory.limit_in_bytes, v2 memory.max). Builtins only.
const PROBE_SCRIPT = [
  'while IFS=: read -r _ c p; do',
  '  case "$c" in',
  '    memory) f=/sys/fs/cgroup/memory$p/memory.limit_in_bytes; if [ -r "$f" ]; then read -r v < "$f"; echo "v1 $v $p"; fi ;;',
  '    "") f=/sys/fs/cgroup$p/memory.max; if [ -r "$f" ]; then read -r v < "$f"; echo "v2 $v $p"; fi ;;',
  '  esac',
  'done < /proc/self/cgroup',
  'echo done',
].join('\n');

export type ProbeResult = { ok: true; limit: number; file: string; cgroup: string; ms: number } | { ok: false; why: string; ms: number };

/** Reads the probe's output: the limit must equal what was asked for. */
export function parseProbeOutput(
  stdout: string,
  expected: number,
): { ok: true; limit: number; file: string; cgroup: string } | { ok: false; why: string } {
  const lines = stdout.split('\n').map((l) => l.trim().split(/\s+/));
  if (!lines.some((l) => l[0] === 'done'))
    return { ok: false, why: `the probe did not run to its end (output: ${JSON.stringify(stdout.slice(0, 200))})` };
  const found = lines.filter((l) => l[0] === 'v1' || l[0] === 'v2');
  if (found.length === 0)
    return {
      ok: false,
      why: "no memory limit file in the probe scope's cgroup: the memory controller is not in use, so MemoryMax does nothing",
    };
  for (const [kind, value, cgroup] of found) {
    const n = Number(value);
    if (n === expected) return { ok: true, limit: n, file: kind === 'v1' ? 'memory.limit_in_bytes' : 'memory.max', cgroup: cgroup ?? '?' };
  }
  const [kind, value] = found[0] ?? [];
  return {
    ok: false,
    why: `asked for MemoryMax=${expected} but the kernel holds ${kind === 'v1' ? 'memory.limit_in_bytes' : 'memory.max'} = ${value}`,
  };
}

export function runMemoryProbe(timeoutMs = 15_000): Promise<ProbeResult> {
  const unit = `warden_doctor-${process.pid}-${Date.now()}.scope`; // not warden-*.scope: those are workers
  const args = [
    '--scope',
    '--quiet',
    '--collect',
    `--unit=${unit}`,
    `--slice=${WORKER_SLICE}`,
    '--description=warden doctor: memory limit probe',
    '-p',
    `MemoryMax=${PROBE_MEMORY_MAX}`,
    '-p',
    'MemorySwapMax=0',
    '/bin/sh',
    '-c',
    PROBE_SCRIPT,
  ];
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    execFile('systemd-run', args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (err) {
        const why =
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? 'systemd-run not found'
            : ((stderr.trim() || err.message).split('\n')[0] ?? err.message);
        resolve({ ok: false, why: `cannot start a probe scope: ${why}`, ms });
        return;
      }
      const r = parseProbeOutput(stdout, PROBE_MEMORY_MAX);
      resolve({ ...r, ms });
    });
  });
}
