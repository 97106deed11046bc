// TickLoop on mocked timers and a fake clock: one turn at a time, a request during a turn runs
// right after it, an idle loop sleeps until the core's wake-up or maxDelay, a failed turn does
// not stop the loop, and stop() ends it.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { setImmediate as settle } from 'node:timers/promises';
import { TickLoop } from '../../../src/supervisor/loop.ts';

let clock = 0;
/** Advances the fake clock and the mocked timers together, letting each turn's promises settle. */
async function advance(ms: number): Promise<void> {
  for (let i = 0; i < ms; i += 1) {
    clock += 1;
    mock.timers.tick(1);
    await settle();
  }
}

interface Probe {
  loop: TickLoop;
  turns: number[];
  heartbeats: number;
  failures: string[];
  /** What the next turn returns as its wake-up time; a function to block a turn. */
  next: () => Promise<number | null>;
}

function probe(maxDelay = 1_000): Probe {
  const p: Probe = { turns: [], heartbeats: 0, failures: [], next: async () => null, loop: undefined as unknown as TickLoop };
  p.loop = new TickLoop({
    now: () => clock,
    body: () => {
      p.turns.push(clock);
      return p.next();
    },
    failed: (err) => p.failures.push(err.message),
    after: () => (p.heartbeats += 1),
    maxDelay: () => maxDelay,
  });
  return p;
}

beforeEach(() => {
  clock = 0;
  mock.timers.enable({ apis: ['setTimeout'] });
});
afterEach(() => mock.timers.reset());

test('an idle loop turns once per maxDelay, with a heartbeat after each turn', async () => {
  const p = probe(1_000);
  p.loop.request();
  await advance(3_500);
  assert.deepEqual(p.turns, [1, 1_001, 2_001, 3_001]);
  assert.equal(p.heartbeats, 4);
  p.loop.stop();
});

test("the core's wake-up comes before maxDelay when it is sooner (5 ms late, never early)", async () => {
  const p = probe(10_000);
  p.next = async () => (clock < 100 ? clock + 200 : null);
  p.loop.request();
  await advance(500);
  // the first turn (at 1) says: wake at 201; the loop turns 5 ms after it
  assert.deepEqual(p.turns, [1, 206]);
  p.loop.stop();
});

test('requests during a turn run one more turn right after it, never two at once', async () => {
  const p = probe(10_000);
  let release: () => void = () => {};
  let running = 0;
  let most = 0;
  p.next = () => {
    running += 1;
    most = Math.max(most, running);
    return new Promise((resolve) => {
      release = () => {
        running -= 1;
        resolve(null);
      };
    });
  };
  p.loop.request();
  await advance(5);
  assert.equal(p.turns.length, 1);
  assert.equal(p.loop.ticking, true);
  p.loop.request();
  p.loop.request();
  p.loop.request();
  await advance(5);
  assert.equal(p.turns.length, 1, 'no second turn while the first runs');
  release();
  await advance(5);
  assert.equal(p.turns.length, 2, 'three requests during the turn make one more turn');
  release();
  await advance(50);
  assert.equal(p.turns.length, 2);
  assert.equal(most, 1);
  p.loop.stop();
});

test('a turn that throws is reported and the loop goes on', async () => {
  const p = probe(100);
  p.next = async () => {
    if (p.turns.length === 1) throw new Error('state file unreadable');
    return null;
  };
  p.loop.request();
  await advance(250);
  assert.deepEqual(p.failures, ['state file unreadable']);
  assert.ok(p.turns.length >= 3, `turns: ${p.turns.join(',')}`);
  assert.equal(p.heartbeats, p.turns.length, 'a failed turn still beats (the loop is alive)');
  assert.ok(p.loop.lastTickAt > 0);
  p.loop.stop();
});

test('stop() ends the loop: no turn after it, and requests are ignored', async () => {
  const p = probe(100);
  p.loop.request();
  await advance(150);
  const before = p.turns.length;
  p.loop.stop();
  p.loop.request();
  await advance(1_000);
  assert.equal(p.turns.length, before);
});

test('a stop during a turn lets that turn finish and sends no heartbeat after it', async () => {
  const p = probe(100);
  let release: () => void = () => {};
  p.next = () => new Promise((resolve) => (release = () => resolve(null)));
  p.loop.request();
  await advance(5);
  p.loop.stop();
  release();
  await advance(500);
  assert.equal(p.turns.length, 1);
  assert.equal(p.heartbeats, 0);
});
