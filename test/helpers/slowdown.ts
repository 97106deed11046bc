// How much slower this machine is, right now, than the one the deadlines were written on. Tests
// that depend on a process being scheduled in time (a lease renewed, a worker started within its
// startup window) scale their durations by it, so that a loaded CI host, an emulated VM or a Pi 4
// runs the same scenario more slowly instead of failing by timing. It never shortens a duration.
import { spawnSync } from 'node:child_process';

/**
 * Measured once per test file: the fastest of three `node -e 0` starts against 80 ms (an idle
 * 2-core x86 host starts node in about 50-80 ms; at load 12 it was 151 ms, factor 1.9; under TCG
 * emulation 5-30; a Pi 4 about 3). WARDEN_TEST_SLOWDOWN=N sets it by hand.
 */
export function measureSlowdown(): number {
  const fixed = Number(process.env.WARDEN_TEST_SLOWDOWN);
  if (fixed > 0) return fixed;
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const factor = Math.max(1, Math.round((best / 80) * 10) / 10);
  console.log(`# machine slowdown factor ${factor} (node -e 0 in ${best.toFixed(0)} ms; deadlines scale with it)`);
  return factor;
}
