import assert from 'node:assert/strict';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { atomicTmpPid, isQueueTmp, removeStaleTemps } from '../../../src/state/stale-temps.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('stale');

describe('stale temporary files', () => {
  test('names', () => {
    assert.equal(atomicTmpPid('state.json.tmp-123'), 123);
    assert.equal(atomicTmpPid('state.json'), null);
    assert.equal(atomicTmpPid('x.tmp-abc'), null);
    assert.equal(isQueueTmp('.a.json.tmp'), true);
    assert.equal(isQueueTmp('a.json'), false);
  });

  test('removes the state and prompt temps of other PIDs and old queue temps; keeps fresh queue temps, own files and others', () => {
    const dir = tmp.fresh();
    mkdirSync(join(dir, 'queue'));
    mkdirSync(join(dir, 'prompts'));
    const files = {
      stateTmp: join(dir, 'state.json.tmp-999999'),
      ownTmp: join(dir, `state.json.tmp-${process.pid}`),
      alertLive: join(dir, `alerts.json.tmp-${process.ppid}`),
      promptTmp: join(dir, 'prompts', 'a.prompt.tmp-999999'),
      oldQueue: join(dir, 'queue', '.a.json.tmp'),
      freshQueue: join(dir, 'queue', '.b.json.tmp'),
      queued: join(dir, 'queue', 'c.json'),
      state: join(dir, 'state.json'),
    };
    for (const f of Object.values(files)) writeFileSync(f, '');
    const old = new Date(Date.now() - 120_000);
    utimesSync(files.oldQueue, old, old);
    const removed = removeStaleTemps(dir).sort();
    assert.deepEqual(removed, [files.oldQueue, files.promptTmp, files.stateTmp].sort());
    for (const k of ['ownTmp', 'alertLive', 'freshQueue', 'queued', 'state'] as const) assert.ok(existsSync(files[k]), k);
  });

  test('a missing directory is nothing to clean', () => {
    assert.deepEqual(removeStaleTemps(join(tmp.path, 'none')), []);
  });
});
