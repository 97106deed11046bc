// A pressure pause that can never lift (src/policy/pressure.ts), on a fake clock: the default
// config on an idle 2 GB Pi (memory_max 2G + min_available_memory 768M cannot fit in MemTotal
// 1.8G). It is said once, as an error with the values that would fit, kept across a restart,
// shown in status, and forgotten when a reload makes the config fit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alertFor } from '../../../src/alerts/alert.ts';
import { EVENTS, type CoreEvent } from '../../../src/events/catalog.ts';
import { describeEvent, eventLevel } from '../../../src/log/events.ts';
import { nextPressure } from '../../../src/policy/pressure.ts';
import type { CoreSettings } from '../../../src/policy/settings.ts';
import { planTick } from '../../../src/policy/tick.ts';
import { stateSchema, type WardenState } from '../../../src/state/types.ts';
import { statusLine } from '../../../src/supervisor/report.ts';
import { FakeClock } from '../../helpers/clock.ts';
import { MEM_TOTAL } from '../../helpers/hosts.ts';
import { DEFAULT_SETTINGS } from '../../helpers/settings.ts';
import { hostSample, PRESSURED_SAMPLE, stateWith } from '../../helpers/tasks.ts';
import { KiB, MINUTE, MiB } from '../../helpers/units.ts';

/** An idle Pi 4 2GB (test/fixtures/hosts/pi4-2gb-bookworm): MemAvailable 1.6G of 1.8G. */
const IDLE_2G = hostSample({ memTotal: MEM_TOTAL['2G'], memAvailable: 1641320 * KiB, cpus: 4, load1: 0.08 });
/** What `warden config suggest` writes for it. */
const SIZED_2G: CoreSettings = {
  ...DEFAULT_SETTINGS,
  memoryMax: 1152 * MiB,
  admission: { ...DEFAULT_SETTINGS.admission, minAvailableMemory: 256 * MiB },
};
const WHY =
  'memory_max 2G + min_available_memory 768M exceed what this host can ever have available (MemTotal 1.8G minus 128M for the system)';
const FIX = 'memory_max = "1152M" and min_available_memory = "256M" would fit (sized for this host by `warden config suggest`)';

const types = (events: readonly CoreEvent[]) => events.map((e) => e.type);
const roundTrip = (s: WardenState): WardenState => stateSchema.parse(JSON.parse(JSON.stringify(s)));

describe('the default config on an idle 2 GB Pi', () => {
  const clock = new FakeClock();
  const first = planTick(stateWith([{ id: 't1' }]), clock.now(), IDLE_2G, DEFAULT_SETTINGS);

  test('the first tick pauses with one event, pressure_stuck, and no pressure_entered beside it', () => {
    assert.deepEqual(types(first.events), ['pressure_stuck']);
    assert.deepEqual(first.spawns, []);
    const e = first.events[0];
    assert.ok(e?.type === 'pressure_stuck');
    assert.deepEqual([e.why, e.fix], [WHY, FIX]);
    assert.match(e.reasons[0] ?? '', /^memory: MemAvailable 1\.6G minus worker memory_max 2G is under min_available_memory 768M$/);
  });

  test('the pause keeps why and which values would fit; status and heldBy say it cannot lift', () => {
    assert.deepEqual(first.state.pause.pressure?.stuck, { why: WHY, fix: FIX });
    assert.equal(first.heldBy, `paused: pressure (cannot lift: ${WHY})`);
    assert.equal(statusLine(first.state, 1, first.heldBy), `0/1 workers, 1 queued, paused: pressure (cannot lift: ${WHY})`);
  });

  test('logged as an error that names the fix; one alert of its own, which pressure_left clears', () => {
    const e = first.events[0]!;
    assert.equal(eventLevel(e), 'error');
    assert.equal(EVENTS.pressure_stuck.level, 'error');
    assert.equal(
      describeEvent(e),
      `paused: pressure, and it cannot lift: ${WHY}. No worker can start on this host until the config changes: ${FIX}, then \`systemctl reload warden\``,
    );
    const alert = alertFor(e, { now: clock.now(), host: 'pi' });
    assert.equal(alert?.title, 'pi: paused: pressure that cannot lift');
    assert.equal(alert?.key, 'paused:pressure:stuck');
    assert.match(alert?.message ?? '', /No worker can ever start on this host with this config: .*memory_max = "1152M"/);
    assert.ok(alertFor({ type: 'pressure_left' }, { now: clock.now(), host: 'pi' })?.clears.includes('paused:pressure:stuck'));
  });

  test('an hour of idle ticks says nothing more, and the pause keeps its start and its verdict', async () => {
    let state = first.state;
    for (let i = 0; i < 12; i++) {
      await clock.advance(5 * MINUTE);
      const r = planTick(state, clock.now(), IDLE_2G, DEFAULT_SETTINGS);
      assert.deepEqual(r.events, []);
      assert.equal(r.state.pause.pressure?.since, first.state.pause.pressure?.since);
      assert.deepEqual(r.state.pause.pressure?.stuck, { why: WHY, fix: FIX });
      state = r.state;
    }
  });

  test('after a restart (the state saved and loaded) it is not said again', async () => {
    await clock.advance(MINUTE);
    const r = planTick(roundTrip(first.state), clock.now(), IDLE_2G, DEFAULT_SETTINGS);
    assert.deepEqual(r.events, []);
    assert.deepEqual(r.state.pause.pressure?.stuck, { why: WHY, fix: FIX });
  });

  test('a reload with the sized values lifts it after recover_after, and status no longer says "cannot lift"', async () => {
    await clock.advance(MINUTE);
    const recovering = planTick(first.state, clock.now(), IDLE_2G, SIZED_2G);
    assert.deepEqual(types(recovering.events), ['pressure_recovering']);
    assert.equal(recovering.state.pause.pressure?.stuck, undefined);
    assert.doesNotMatch(statusLine(recovering.state, 1, recovering.heldBy), /cannot lift/);
    await clock.advance(SIZED_2G.admission.recoverAfter);
    const lifted = planTick(recovering.state, clock.now(), IDLE_2G, SIZED_2G);
    assert.deepEqual(types(lifted.events), ['pressure_left', 'task_spawn']);
  });
});

describe('pauses that can lift are not called stuck', () => {
  test('an 8 GB host under pressure: pressure_entered, nothing stuck', () => {
    const r = planTick(stateWith([{ id: 't1' }]), new FakeClock().now(), PRESSURED_SAMPLE, DEFAULT_SETTINGS);
    assert.deepEqual(types(r.events), ['pressure_entered']);
    assert.equal(r.state.pause.pressure?.stuck, undefined);
  });
  test('a 2 GB Pi with the sized config while other programs hold its memory: an ordinary pressure pause', () => {
    const busy = { ...IDLE_2G, memAvailable: 900 * MiB };
    const r = nextPressure(null, busy, new FakeClock().now(), SIZED_2G);
    assert.deepEqual(types(r.events), ['pressure_entered']);
    assert.equal(r.pressure?.stuck, undefined);
  });
  test('the load alone over its threshold on a 2 GB Pi whose config fits: not stuck either', () => {
    const r = nextPressure(null, { ...IDLE_2G, load1: 40 }, new FakeClock().now(), SIZED_2G);
    assert.deepEqual(types(r.events), ['pressure_entered']);
    assert.equal(r.pressure?.stuck, undefined);
  });
});

test('an ordinary pressure pause that a reload makes stuck says so then, once', async () => {
  const clock = new FakeClock();
  const busy = { ...IDLE_2G, memAvailable: 900 * MiB };
  const entered = nextPressure(null, busy, clock.now(), SIZED_2G);
  assert.deepEqual(types(entered.events), ['pressure_entered']);
  await clock.advance(MINUTE);
  const stuck = nextPressure(entered.pressure, busy, clock.now(), DEFAULT_SETTINGS);
  assert.deepEqual(types(stuck.events), ['pressure_stuck']);
  assert.equal(stuck.pressure?.since, entered.pressure?.since, 'the same pause goes on');
  await clock.advance(MINUTE);
  assert.deepEqual(nextPressure(stuck.pressure, busy, clock.now(), DEFAULT_SETTINGS).events, []);
});
