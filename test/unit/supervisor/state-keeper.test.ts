import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../../src/log/logger.ts';
import type { WardenState } from '../../../src/state/types.ts';
import { StateKeeper } from '../../../src/supervisor/state-keeper.ts';
import { stateWith } from '../../helpers/tasks.ts';

function keeper(full: { on: boolean }) {
  const saved: WardenState[] = [];
  const calls = { faulted: 0, recovered: 0 };
  const k = new StateKeeper({
    stateDir: '/x',
    log: createLogger({ write: () => {} }),
    now: () => 0,
    faulted: () => calls.faulted++,
    recovered: () => calls.recovered++,
    save: (_dir, s) => {
      if (full.on) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      saved.push(s);
    },
  });
  return { k, saved, calls };
}

describe('state keeper', () => {
  test('a failed save never throws: memory keeps the new state, unsaved, and a retry saves it once the disk has room', async () => {
    const full = { on: false };
    const { k, saved, calls } = keeper(full);
    const s0 = stateWith([{ id: 'a' }]);
    k.load(s0);
    full.on = true;
    const s1 = stateWith([{ id: 'a' }, { id: 'b' }]);
    assert.equal(k.commit(s1), false);
    assert.equal(k.state, s1);
    assert.equal(k.writeFault?.unsaved, true);
    assert.equal(calls.faulted, 1);
    assert.match(k.problems()[0] ?? '', /ENOSPC/);
    assert.equal(k.commit(s1), false); // the tick retries too
    assert.equal(calls.faulted, 1, 'one alert per fault');
    full.on = false;
    await sleep(1100); // the retry timer: 0.5 s, then 1 s
    assert.equal(saved.at(-1), s1);
    assert.equal(k.writeFault, null);
    assert.deepEqual(k.problems(), []);
    assert.equal(calls.recovered, 1);
    k.stop();
  });

  test('a claim the disk refuses is dropped: memory keeps the previous state', () => {
    const full = { on: true };
    const { k } = keeper(full);
    const s0 = stateWith([{ id: 'a' }]);
    k.load(s0);
    assert.equal(k.commit(stateWith([{ id: 'b' }]), true), false);
    assert.equal(k.state, s0);
    k.stop();
  });

  test('another failed write holds spawning without marking the state unsaved; the retry ends it', async () => {
    const { k, calls } = keeper({ on: false });
    k.load(stateWith([]));
    k.noteWriteFailure('cannot start the worker of a', 'ENOSPC');
    assert.equal(k.writeFault?.unsaved, false);
    assert.match(k.problems()[0] ?? '', /cannot start the worker of a: ENOSPC/);
    await sleep(700);
    assert.equal(k.writeFault, null);
    assert.equal(calls.recovered, 1);
    k.stop();
  });

  test('after stop (the shutdown), failures neither alert nor retry; finalSave says whether the disk took it', () => {
    const full = { on: true };
    const { k, calls } = keeper(full);
    k.load(stateWith([]));
    k.stop();
    assert.equal(k.finalSave(stateWith([{ id: 'a' }])), false);
    assert.equal(calls.faulted, 0);
    full.on = false;
    assert.equal(k.finalSave(stateWith([{ id: 'a' }])), true);
  });
});
