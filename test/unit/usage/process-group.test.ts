import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseStatUsage, parseStatusMemory, readGroupUsage } from '../../../src/usage/process-group.ts';
import { tempRoot } from '../../helpers/tmp.ts';
import { MiB } from '../../helpers/units.ts';

const tmp = tempRoot('procgroup');

/** A /proc/PID/stat line: state, ppid, pgrp, session, then utime (field 14) and stime (15). */
function stat(pid: number, comm: string, state: string, pgrp: number, utime: number, stime: number): string {
  const rest = [state, 1, pgrp, pgrp, 0, -1, 0, 0, 0, 0, 0, utime, stime, 0, 0, 20, 0, 1, 0, 12345].join(' ');
  return `${pid} (${comm}) ${rest}\n`;
}

function fakeProc(
  procs: { pid: number; comm?: string; state?: string; pgrp: number; utime: number; stime: number; rssKb: number; hwmKb: number }[],
): string {
  const root = tmp.fresh('proc');
  mkdirSync(join(root, 'self'));
  for (const p of procs) {
    mkdirSync(join(root, String(p.pid)));
    writeFileSync(join(root, String(p.pid), 'stat'), stat(p.pid, p.comm ?? 'node', p.state ?? 'S', p.pgrp, p.utime, p.stime));
    writeFileSync(join(root, String(p.pid), 'status'), `Name:\tnode\nVmHWM:\t  ${p.hwmKb} kB\nVmRSS:\t  ${p.rssKb} kB\n`);
  }
  return root;
}

describe('process-group usage (the direct executor)', () => {
  test('stat: a comm with spaces and parentheses does not shift the fields', () => {
    assert.deepEqual(parseStatUsage(stat(7, 'a) (b c', 'R', 7, 30, 12)), { state: 'R', pgrp: 7, session: 7, cpuTicks: 42 });
  });

  test('status: VmRSS and VmHWM in bytes; a kernel thread has neither', () => {
    assert.deepEqual(parseStatusMemory('VmHWM:\t 2048 kB\nVmRSS:\t 1024 kB\n'), { rss: 1024 * 1024, hwm: 2048 * 1024 });
    assert.deepEqual(parseStatusMemory('Name:\tkthreadd\n'), { rss: null, hwm: null });
  });

  test('sums RSS and CPU over the live members of the group; others and zombies are left out', () => {
    const root = fakeProc([
      { pid: 100, pgrp: 100, utime: 100, stime: 50, rssKb: 10 * 1024, hwmKb: 30 * 1024 },
      { pid: 101, pgrp: 100, utime: 50, stime: 0, rssKb: 5 * 1024, hwmKb: 6 * 1024 },
      { pid: 102, pgrp: 100, state: 'Z', utime: 999, stime: 999, rssKb: 999 * 1024, hwmKb: 999 * 1024 },
      { pid: 200, pgrp: 200, utime: 999, stime: 999, rssKb: 999 * 1024, hwmKb: 999 * 1024 },
    ]);
    assert.deepEqual(readGroupUsage(100, root), { source: 'proc', processes: 2, memoryBytes: 15 * MiB, peakBytes: 30 * MiB, cpuNs: 2e9 });
  });

  test('a group with no live member: null', () => {
    assert.equal(readGroupUsage(300, fakeProc([{ pid: 100, pgrp: 100, utime: 1, stime: 1, rssKb: 1, hwmKb: 1 }])), null);
  });

  test('the real /proc: this test process group is found, with memory and CPU', () => {
    const u = readGroupUsage(Number(parseStatUsage(readFileSync('/proc/self/stat', 'latin1'))?.pgrp));
    assert.ok(u && u.processes >= 1 && u.memoryBytes > 1 * MiB && u.cpuNs > 0, JSON.stringify(u));
  });
});
