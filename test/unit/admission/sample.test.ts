// Sampling the host from a fake /proc tree: what is missing or unreadable, failing closed, and
// never a child process.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import childProcess from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { admissionViolations } from '../../../src/admission/evaluate.ts';
import { sampleHost } from '../../../src/admission/sample.ts';
import { planTick } from '../../../src/policy/tick.ts';
import { AT_THRESHOLDS, FakeProc } from '../../helpers/fake-proc.ts';
import { DEFAULT_SETTINGS as S } from '../../helpers/settings.ts';
import { oneTask } from '../../helpers/tasks.ts';

test('a missing /proc/pressure/memory means psiAvailable false and no pressure violation', () => {
  const proc = new FakeProc({ ...AT_THRESHOLDS, psiSomeAvg10: null });
  const sample = sampleHost(1000, proc.src);
  assert.equal(sample.psiAvailable, false);
  assert.equal(sample.memoryPressure, null);
  assert.deepEqual(sample.errors, []);
  assert.deepEqual(admissionViolations(sample, S.admission, S.memoryMax), []);
  const tick = planTick(oneTask(), 1000, sample, S);
  assert.equal(tick.state.pause.pressure, null);
  assert.equal(tick.spawns.length, 1);
});

test('an unreadable meminfo fails closed: pressure pause, no spawns', () => {
  const proc = new FakeProc(AT_THRESHOLDS);
  rmSync(join(proc.root, 'meminfo'));
  mkdirSync(join(proc.root, 'meminfo')); // reading a directory fails with EISDIR, even as root
  const sample = sampleHost(1000, proc.src);
  assert.equal(sample.memAvailable, null);
  assert.match(sample.errors.join('\n'), /cannot read meminfo/);
  const tick = planTick(oneTask(), 1000, sample, S);
  assert.equal(tick.spawns.length, 0);
  assert.deepEqual(tick.state.pause.pressure?.reasons, ['memory: MemAvailable could not be read (failing closed)']);
  assert.ok(tick.events.some((e) => e.type === 'pressure_entered'));
});

test('a meminfo without a MemAvailable line fails closed too', () => {
  const proc = new FakeProc(AT_THRESHOLDS);
  writeFileSync(join(proc.root, 'meminfo'), 'MemTotal:        8039392 kB\nMemFree:          412300 kB\n');
  const sample = sampleHost(1000, proc.src);
  assert.equal(sample.memAvailable, null);
  assert.equal(planTick(oneTask(), 1000, sample, S).spawns.length, 0);
});

test('sampleHost is synchronous and starts no child process', () => {
  // Count every entry point of node:child_process (calls pass through unchanged), including the
  // ESM named-import bindings, which syncBuiltinESMExports re-points at the wrappers.
  const cp = childProcess as unknown as Record<string, unknown>;
  const names = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
  const originals = new Map(names.map((n) => [n, cp[n] as (...a: unknown[]) => unknown]));
  let calls = 0;
  for (const [n, fn] of originals) {
    cp[n] = function (this: unknown, ...args: unknown[]) {
      calls++;
      return fn.apply(this, args);
    };
  }
  syncBuiltinESMExports();
  try {
    execFileSync(process.execPath, ['-e', '']); // control: the counter sees a real spawn
    assert.equal(calls, 1, 'the spawn counter works');
    calls = 0;
    const proc = new FakeProc({ ...AT_THRESHOLDS, load1: '9.00' });
    const result: unknown = sampleHost(1000, proc.src);
    assert.equal(calls, 0, 'sampleHost started a child process');
    assert.equal(typeof (result as { then?: unknown }).then, 'undefined', 'returns a value, not a promise');
    assert.equal((result as { load1: number }).load1, 9);
  } finally {
    for (const [n, fn] of originals) cp[n] = fn;
    syncBuiltinESMExports();
  }
});
