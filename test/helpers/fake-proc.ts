// A fake /proc tree in a temp dir (meminfo, loadavg, pressure/memory) that admission samples, set
// to values around warden's default thresholds.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SampleSource } from '../../src/admission/sample.ts';
import { tempRoot } from './tmp.ts';
import { KiB } from './units.ts';

/** The CPUs the fake host has. */
const CPUS = 4;

// Made when a test file imports this module, at its top level, as tempRoot asks.
const tmp = tempRoot('fake-proc');

export interface HostValues {
  memAvailableKiB: number;
  load1: string;
  psiSomeAvg10: string | null; // null: no /proc/pressure/memory (PSI off)
}

/** Exactly at every threshold, which is still admitted (the rules are strict inequalities). */
export const AT_THRESHOLDS: HostValues = {
  memAvailableKiB: (2048 + 768) * KiB, // MemAvailable - memory_max == min_available_memory
  load1: '6.00', // 6.00 / 4 CPUs == 1.5
  psiSomeAvg10: '20.00',
};

export class FakeProc {
  readonly root: string;
  constructor(values: HostValues) {
    this.root = tmp.fresh('proc');
    mkdirSync(join(this.root, 'pressure'), { recursive: true });
    this.write(values);
  }
  get src(): SampleSource {
    return { procRoot: this.root, cpus: CPUS };
  }
  write(v: HostValues): void {
    writeFileSync(
      join(this.root, 'meminfo'),
      `MemTotal:        8039392 kB\nMemFree:          412300 kB\nMemAvailable:   ${String(v.memAvailableKiB).padStart(8)} kB\nBuffers:           98764 kB\n`,
    );
    writeFileSync(join(this.root, 'loadavg'), `${v.load1} 0.80 0.60 2/412 31337\n`);
    const psi = join(this.root, 'pressure', 'memory');
    if (v.psiSomeAvg10 === null) rmSync(psi, { force: true });
    else
      writeFileSync(
        psi,
        `some avg10=${v.psiSomeAvg10} avg60=0.00 avg300=0.00 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=6789\n`,
      );
  }
}
