// What a benchmark part needs to also run alone (`node --import tsx bench/<part>.ts`): whether it
// is the entry script, its options from the environment, and where its results file goes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNow, machineInfo, machineLine, type MachineInfo } from './machine.js';

/** True when the module at `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(moduleUrl);
}

export interface StandaloneOptions {
  quick: boolean;
  /** The checkout, without a trailing slash. */
  root: string;
  log: (s?: string) => void;
}

export function standaloneOptions(): StandaloneOptions {
  return {
    quick: process.env.BENCH_QUICK === '1',
    root: fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, ''),
    log: (s = '') => process.stdout.write(s + '\n'),
  };
}

/** Writes `bench/results/<file>` and says where, with the load at the end and the run's length. */
export function writeResults(o: StandaloneOptions, file: string, result: { durationMs: number }): void {
  const dir = join(o.root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, file);
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  o.log('');
  o.log(`load average at end: ${loadNow().join(' ')}`);
  o.log(`results: ${out} (${(result.durationMs / 1000).toFixed(1)} s)`);
}

/**
 * The start of a part run alone inside the real-systemd container: refuse (exit 2, with the command
 * that works) when `why` says this is not the place, else print the title, the machine and the load.
 */
export function startInContainer(
  part: string,
  title: string,
  why: string | null,
): { o: StandaloneOptions; machine: MachineInfo; startedAt: Date } {
  if (why) {
    process.stderr.write(
      `bench/${part}.ts must run as root inside the real-systemd container (${why}):\n` +
        `  npm run build && NAME=warden-${part} scripts/with-systemd.sh test node --import tsx bench/${part}.ts\n`,
    );
    process.exit(2);
  }
  const o = standaloneOptions();
  const machine = machineInfo();
  const startedAt = new Date();
  o.log(`${title}, ${startedAt.toISOString()}${o.quick ? ' (BENCH_QUICK)' : ''}`);
  o.log(machineLine(machine));
  o.log(`load average at start: ${machine.loadavgAtStart.join(' ')} (a shared machine: compare ratios measured in the same window)`);
  return { o, machine, startedAt };
}
