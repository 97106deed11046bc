// Admission control read from a fake /proc tree in a temp dir, on a fake clock: crossing any
// threshold pauses spawning at once; it resumes only after recover_after below every threshold.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { admissionViolations, pauseDueNow } from '../../../src/admission/evaluate.ts';
import { sampleHost } from '../../../src/admission/sample.ts';
import { planTick } from '../../../src/policy/tick.ts';
import { emptyState } from '../../../src/state/types.ts';
import { AT_THRESHOLDS, FakeProc, type HostValues } from '../../helpers/fake-proc.ts';
import { DEFAULT_SETTINGS } from '../../helpers/settings.ts';
import { oneTask } from '../../helpers/tasks.ts';
import { MINUTE, MiB } from '../../helpers/units.ts';

/** Real defaults: memory_max 2G, min_available_memory 768M, 1.5 load per CPU, PSI 20%, recover after 2m. */
const S = DEFAULT_SETTINGS;
assert.equal(S.memoryMax, 2048 * MiB);
assert.equal(S.admission.minAvailableMemory, 768 * MiB);
assert.equal(S.admission.recoverAfter, 2 * MINUTE);

const thresholds: { name: string; over: HostValues; reason: RegExp }[] = [
  {
    name: 'memory (MemAvailable - memory_max < min_available_memory)',
    over: { ...AT_THRESHOLDS, memAvailableKiB: AT_THRESHOLDS.memAvailableKiB - 1 },
    reason: /^memory: MemAvailable .* minus worker memory_max 2G is under min_available_memory 768M$/,
  },
  {
    name: 'load per CPU',
    over: { ...AT_THRESHOLDS, load1: '6.04' },
    reason: /^load: 1\.51 per CPU is over max_load_per_cpu 1\.5$/,
  },
  {
    name: 'PSI memory some avg10',
    over: { ...AT_THRESHOLDS, psiSomeAvg10: '20.01' },
    reason: /^memory pressure: PSI some avg10 20\.01% is over max_memory_pressure 20%$/,
  },
];

test('values exactly at every threshold are admitted: no violation, the task is spawned', () => {
  const proc = new FakeProc(AT_THRESHOLDS);
  const sample = sampleHost(1000, proc.src);
  assert.deepEqual(sample.errors, []);
  assert.deepEqual(admissionViolations(sample, S.admission, S.memoryMax), []);
  assert.equal(planTick(oneTask(), 1000, sample, S).spawns.length, 1);
});

for (const th of thresholds) {
  describe(`threshold: ${th.name}`, () => {
    const T0 = 1_000_000;
    /** Over the threshold at T0, back under at T1; returns the state at T1 and T1. */
    function crossThenClear() {
      const proc = new FakeProc(th.over);
      const entered = planTick(oneTask(), T0, sampleHost(T0, proc.src), S);
      proc.write(AT_THRESHOLDS);
      const T1 = T0 + 5000;
      const clearing = planTick(entered.state, T1, sampleHost(T1, proc.src), S);
      return { proc, entered, clearing, T1 };
    }

    test('crossing it pauses with reason pressure: pause.pressure set, no spawns, event pressure_entered', () => {
      const proc = new FakeProc(th.over);
      const tick = planTick(oneTask(), T0, sampleHost(T0, proc.src), S);
      assert.equal(tick.spawns.length, 0);
      assert.ok(tick.state.pause.pressure, 'state.pause.pressure is set');
      assert.equal(tick.state.pause.pressure.since, T0);
      assert.equal(tick.state.pause.pressure.reasons.length, 1);
      assert.match(tick.state.pause.pressure.reasons[0] ?? '', th.reason);
      const entered = tick.events.filter((e) => e.type === 'pressure_entered');
      assert.equal(entered.length, 1);
      assert.match(tick.heldBy ?? '', /^paused: pressure/);
      assert.equal(tick.state.tasks['gh-1']!.state, 'pending');
    });

    test('values back under it do NOT resume before recover_after', () => {
      const { proc, clearing, T1 } = crossThenClear();
      assert.equal(clearing.spawns.length, 0);
      assert.ok(clearing.events.some((e) => e.type === 'pressure_recovering'));
      assert.equal(clearing.state.pause.pressure?.clearSince, T1);
      assert.equal(clearing.wakeAt, T1 + S.admission.recoverAfter);
      const T2 = T1 + S.admission.recoverAfter - 1;
      const still = planTick(clearing.state, T2, sampleHost(T2, proc.src), S);
      assert.equal(still.spawns.length, 0);
      assert.ok(still.state.pause.pressure, 'still paused 1 ms before recover_after');
    });

    test('values back under it DO resume once recover_after has passed', () => {
      const { proc, clearing, T1 } = crossThenClear();
      const T2 = T1 + S.admission.recoverAfter;
      const resumed = planTick(clearing.state, T2, sampleHost(T2, proc.src), S);
      assert.equal(resumed.state.pause.pressure, null);
      assert.ok(resumed.events.some((e) => e.type === 'pressure_left'));
      assert.deepEqual(resumed.spawns, [{ taskId: 'gh-1', attempt: 1, probe: false }]);
    });

    test('crossing it again while recovering restarts the recover_after clock', () => {
      const { proc, clearing, T1 } = crossThenClear();
      proc.write(th.over);
      const T2 = T1 + MINUTE;
      const again = planTick(clearing.state, T2, sampleHost(T2, proc.src), S);
      assert.equal(again.state.pause.pressure?.clearSince, null);
      proc.write(AT_THRESHOLDS);
      const T3 = T2 + 1000;
      const clearAgain = planTick(again.state, T3, sampleHost(T3, proc.src), S);
      const T4 = T1 + S.admission.recoverAfter; // would have resumed here without the relapse
      assert.equal(planTick(clearAgain.state, T4, sampleHost(T4, proc.src), S).spawns.length, 0);
    });
  });
}

describe('the pressure watch between ticks (pauseDueNow)', () => {
  const healthy = sampleHost(1000, new FakeProc(AT_THRESHOLDS).src);
  const empty = emptyState(S.breaker.cooldown).pause;
  for (const th of thresholds) {
    test(`${th.name}: crossed with no pause in force brings the tick forward; that tick enters the pause`, () => {
      const over = sampleHost(1000, new FakeProc(th.over).src);
      assert.equal(pauseDueNow(empty, over, S.admission, S.memoryMax), true);
      const tick = planTick(oneTask(), 1000, over, S);
      assert.ok(tick.state.pause.pressure, 'the tick the watch asked for pauses');
      assert.equal(pauseDueNow(tick.state.pause, over, S.admission, S.memoryMax), false, 'a pause in force needs no further tick');
    });
  }
  test('a healthy sample never brings the tick forward, paused or not', () => {
    assert.equal(pauseDueNow(empty, healthy, S.admission, S.memoryMax), false);
    const paused = { ...empty, pressure: { since: 1, reasons: ['x'], clearSince: null } };
    assert.equal(pauseDueNow(paused, healthy, S.admission, S.memoryMax), false);
  });
  test('a crossing while the pause is only recovering brings the tick forward, which restarts recover_after', () => {
    const recovering = { ...empty, pressure: { since: 1, reasons: ['x'], clearSince: 500 } };
    const over = sampleHost(1000, new FakeProc(thresholds[0]!.over).src);
    assert.equal(pauseDueNow(recovering, over, S.admission, S.memoryMax), true);
    const state = { ...oneTask(), pause: recovering };
    assert.equal(planTick(state, 1000, over, S).state.pause.pressure?.clearSince, null);
  });
  test('heat and under-voltage count too, each against its own pause', () => {
    const hot = { ...healthy, temperatureC: 90, thermalZone: 'cpu-thermal' };
    assert.equal(pauseDueNow(empty, hot, S.admission, S.memoryMax), true);
    assert.equal(pauseDueNow({ ...empty, thermal: { since: 1, reasons: ['t'], clearSince: null } }, hot, S.admission, S.memoryMax), false);
    const underVolted = { ...healthy, throttled: 0x1 };
    assert.equal(pauseDueNow(empty, underVolted, S.admission, S.memoryMax), true);
    assert.equal(
      pauseDueNow({ ...empty, power: { since: 1, reasons: ['p'], clearSince: null } }, underVolted, S.admission, S.memoryMax),
      false,
    );
  });
});
