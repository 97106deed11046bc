import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { History, HISTORY_MAX_BYTES } from '../../../src/history/history.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { hostSample } from '../../helpers/tasks.ts';
import { tempRoot } from '../../helpers/tmp.ts';
import { HOUR, MINUTE, SECOND } from '../../helpers/units.ts';

const tmp = tempRoot('history');
const T0 = Date.UTC(2026, 10, 29, 0, 0, 0);

function history(stateDir: string, clock: { now: number }, lines: string[] = []): History {
  const h = new History({ stateDir, log: createLogger({ write: (l) => lines.push(l) }), now: () => clock.now });
  h.open('test');
  return h;
}

const dirBytes = (dir: string) => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

describe('History', () => {
  test('at most one point a minute, written once its minute is over', () => {
    const clock = { now: T0 };
    const h = history(tmp.fresh(), clock);
    for (let t = 0; t < 5 * MINUTE; t += 15 * SECOND) h.sample(hostSample({ at: T0 + t, load1: t / MINUTE }));
    const r = h.read(T0);
    assert.deepEqual(
      r.points.map((p) => [(p.at - T0) / MINUTE, p.load1]),
      [
        [0, 0.75],
        [1, 1.75],
        [2, 2.75],
        [3, 3.75],
        [4, 4.75], // the minute still open, from memory
      ],
    );
  });

  test('events are kept, and survive a restart with the last points', () => {
    const dir = tmp.fresh();
    const clock = { now: T0 };
    const h = history(dir, clock);
    h.events([{ type: 'task_spawn', taskId: 't1', attempt: 1, probe: false }]);
    h.sample(hostSample({ at: T0 }));
    h.sample(hostSample({ at: T0 + MINUTE }));
    clock.now = T0 + 2 * MINUTE;
    const again = history(dir, clock);
    assert.deepEqual(
      again.recent().map((e) => e.text),
      ['warden test started', 'spawning t1 attempt 1', 'warden test started'],
    );
    assert.equal(again.read(T0).points.length, 1);
    // the same minute is not written twice after a quick restart
    again.sample(hostSample({ at: T0 + 10 * SECOND }));
    again.sample(hostSample({ at: T0 + 2 * MINUTE }));
    assert.equal(again.read(T0).points.length, 2, 'the old minute 0 again is dropped; minute 2 is pending');
  });

  test('a torn line from a crash is skipped, and the next start cuts it', () => {
    const dir = tmp.fresh();
    const clock = { now: T0 };
    const logged: string[] = [];
    const h = history(dir, clock);
    h.note('x', 'one');
    appendFileSync(join(dir, 'history', 'events.jsonl'), '{"t":1,"e":"x","x":"tw');
    assert.deepEqual(
      h.read(0).events.map((e) => e.text),
      ['warden test started', 'one'],
    );
    history(dir, clock, logged);
    assert.match(logged.join('\n'), /cut a torn last line/);
  });

  test('three days of samples every 30 s: the last 24 h are all there, and the files stay within HISTORY_MAX_BYTES', () => {
    const dir = tmp.fresh();
    const clock = { now: T0 };
    const h = history(dir, clock);
    for (let t = 0; t < 72 * HOUR; t += 30 * SECOND) {
      clock.now = T0 + t;
      // the widest lines a real host writes: big numbers, a temperature, fractions
      h.sample(hostSample({ at: clock.now, memAvailable: 7_999_999_999 - t, memoryPressure: 12.34, load1: 10.55, temperatureC: 65.4 }));
      if (t % (10 * MINUTE) === 0) h.events([{ type: 'task_spawn', taskId: 'task-with-a-longish-name', attempt: 3, probe: false }]);
    }
    const r = h.read(clock.now - 24 * HOUR);
    assert.ok(r.points.length >= 24 * 60, `${r.points.length} points in the last 24 h`);
    assert.ok(dirBytes(h.dir) <= HISTORY_MAX_BYTES, `${dirBytes(h.dir)} bytes on disk`);
    assert.equal(r.disk.bytes, dirBytes(h.dir));
    // bytes written per day: about one point a minute plus the events
    assert.ok(r.written.bytes > 1440 * 50 && r.written.bytes < 1440 * 120, `${r.written.bytes} bytes written today`);
  });

  test('a history that cannot be written warns once and never throws', () => {
    const dir = tmp.fresh();
    const clock = { now: T0 };
    const logged: string[] = [];
    const h = history(join(dir, 'missing', '\0bad'), clock, logged);
    h.note('x', 'y');
    h.note('x', 'z');
    assert.equal(logged.filter((l) => /history: cannot write/.test(l)).length, 1);
    assert.notEqual(h.read(0).problem, null);
  });
});
