// Spawn cost without systemd (issue 7, part 3, "the direct executor otherwise, against a bare
// spawn"): DirectExecutor.spawn(spec) from dist/ against a bare child_process.spawn of the same
// command, interleaved call by call. Two timings each:
//   - to running: warden's promise resolves after the child's 'spawn' event and one /proc read
//     (the pid's start time); the floor stops at its own 'spawn' event;
//   - to exit: warden's `exited` promise (which also reads the wrapper's exit record) against the
//     floor's 'exit' event.
// Warden runs the worker through its `sh` wrapper (pid and exit files), so the command is the
// same but the process tree is not: the wrapper's cost is part of what is measured.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nowNs, summarize, type Summary } from './stats.js';

export interface DirectSpawnResult {
  iterations: number;
  warmup: number;
  command: string[];
  toRunning: { warden: Summary; floor: Summary; ratioP50: number };
  toExit: { warden: Summary; floor: Summary; ratioP50: number };
  goal: { ratio: number; met: boolean };
}

export async function measureDirectSpawn(opts: { quick: boolean; root: URL }): Promise<DirectSpawnResult> {
  const directMod = (await import(new URL('dist/executors/direct.js', opts.root).href)) as typeof import('../src/executors/direct.js');
  const ex = new directMod.DirectExecutor({ stopGraceMs: 10_000 });
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-direct-'));
  const argv = ['/bin/true'];
  const prompt = join(dir, 'p.prompt');
  writeFileSync(prompt, 'trivial\n');
  const warmup = opts.quick ? 3 : 10;
  const iterations = opts.quick ? 15 : 100;
  const series = { wRun: [] as number[], wExit: [] as number[], fRun: [] as number[], fExit: [] as number[] };
  try {
    for (let i = 0; i < warmup + iterations; i++) {
      const cwd = join(dir, `w${i}`);
      mkdirSync(cwd);
      const t0 = nowNs();
      const h = await ex.spawn({
        taskId: `bench-${i}`,
        attempt: 1,
        argv,
        cwd,
        stdinFile: prompt,
        logFile: join(dir, 'logs', `${i}.log`),
        runBase: join(dir, 'run', `${i}.1`),
        memoryMax: 0,
        cpuQuota: 0,
        tasksMax: 512,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      });
      const t1 = nowNs();
      await h.exited;
      const t2 = nowNs();
      const f0 = nowNs();
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
      const f1 = await new Promise<bigint>((resolve, reject) => {
        child.once('spawn', () => resolve(nowNs()));
        child.once('error', reject);
      });
      const f2 = await new Promise<bigint>((resolve) => child.once('exit', () => resolve(nowNs())));
      if (i < warmup) continue;
      series.wRun.push(Number(t1 - t0));
      series.wExit.push(Number(t2 - t0));
      series.fRun.push(Number(f1 - f0));
      series.fExit.push(Number(f2 - f0));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const toRunning = { warden: summarize(series.wRun), floor: summarize(series.fRun), ratioP50: 0 };
  toRunning.ratioP50 = toRunning.warden.p50 / toRunning.floor.p50;
  const toExit = { warden: summarize(series.wExit), floor: summarize(series.fExit), ratioP50: 0 };
  toExit.ratioP50 = toExit.warden.p50 / toExit.floor.p50;
  return { iterations, warmup, command: argv, toRunning, toExit, goal: { ratio: 1.5, met: toRunning.ratioP50 <= 1.5 } };
}
