// How an attempt's end is read: the wrapper's exit record (cgroup v1 and v2 forms), the shell's
// 128+N convention, and the fallbacks when no record was written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readExitFile, WRAPPER_SCRIPT } from '../../../src/executors/process-info.ts';
import { exitFrom, oomFromRecord } from '../../../src/executors/worker-exit.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('worker-exit-test');
const base = () => join(tmp.fresh('exit'), 'task.1');

describe('the exit record', () => {
  test('cgroup v1 record with the memcg OOM counter moved: oom_killed when capped', () => {
    const b = base();
    writeFileSync(`${b}.exit`, '137 oom_kill=1 peak=67108864 limit=67108864\n');
    const e = exitFrom(b, 137, null, false, true);
    assert.equal(e.signal, 'SIGKILL');
    assert.equal(e.oomKilled, true);
    assert.equal(e.memoryPeak, 67108864, 'the peak goes into the attempt record');
  });

  test('cgroup v2 record (memory.events oom_kill, memory.max "max" unlimited) is parsed', () => {
    const b = base();
    writeFileSync(`${b}.exit`, '137 oom_kill=2 peak=1048576 limit=max\n');
    assert.deepEqual(readExitFile(b), { rc: 137, oomKill: 2, peak: 1048576, limit: null });
    assert.equal(exitFrom(b, null, null, true, true).oomKilled, true);
  });

  test('without an OOM counter, a SIGKILL at the memory limit is an OOM kill; below it, not', () => {
    assert.equal(oomFromRecord({ rc: 137, oomKill: null, peak: 64, limit: 64 }, 'SIGKILL'), true);
    assert.equal(oomFromRecord({ rc: 137, oomKill: null, peak: 10, limit: 64 }, 'SIGKILL'), false);
    assert.equal(oomFromRecord({ rc: 1, oomKill: null, peak: 64, limit: 64 }, null), false);
  });

  test('a worker that exits 0 is never OOM-killed, even if a subprocess was', () => {
    assert.equal(oomFromRecord({ rc: 0, oomKill: 1, peak: 64, limit: 64 }, null), false);
  });

  test('the direct executor (no cap) never reports an OOM kill from the record', () => {
    const b = base();
    writeFileSync(`${b}.exit`, '137 oom_kill=5 peak=1 limit=1\n');
    assert.equal(exitFrom(b, 137, null, false, false).oomKilled, false);
  });

  test('no record: the child status is used, and an adopted worker with neither is "lost"', () => {
    const b = base();
    assert.deepEqual(
      { ...exitFrom(b, 3, null), endedAt: 0 },
      { spawnError: null, exitCode: 3, signal: null, oomKilled: false, lost: false, endedAt: 0 },
    );
    assert.equal(exitFrom(b, null, 'SIGTERM').signal, 'SIGTERM');
    assert.equal(exitFrom(b, null, null, true).lost, true);
  });

  test('a garbled record is ignored rather than misread', () => {
    const b = base();
    writeFileSync(`${b}.exit`, 'garbage\n');
    assert.equal(readExitFile(b), null);
  });
});

describe('the worker wrapper, run for real by /bin/sh', () => {
  test('records its pid and the worker exit code', () => {
    const b = base();
    const r = spawnSync('/bin/sh', ['-c', WRAPPER_SCRIPT, b, 'sh', '-c', 'exit 7']);
    assert.equal(r.status, 7);
    assert.match(readFileSync(`${b}.pid`, 'utf8'), /^\d+\n$/);
    assert.equal(readExitFile(b)?.rc, 7);
  });

  test('a worker killed by a signal is recorded as 128+N and decoded as that signal', () => {
    const b = base();
    spawnSync('/bin/sh', ['-c', WRAPPER_SCRIPT, b, 'sh', '-c', 'kill -9 $$']);
    assert.equal(readExitFile(b)?.rc, 137);
    assert.equal(exitFrom(b, null, null).signal, 'SIGKILL');
  });
});
