// The local queue: `warden task add` drops a request file; the daemon reads it on its next poll.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  enqueueCommand,
  enqueueTask,
  QueueError,
  queueDir,
  QueueWriteError,
  readQueue,
  rejectQueued,
  removeQueued,
} from '../../../src/tasks/local-queue.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('local-queue-test');
const req = (id: string, addedAt = 1) => ({ id, prompt: `do ${id}`, priority: 2, addedAt });

describe('enqueueTask', () => {
  test('writes one <id>.json with the request, and no temp file', () => {
    const stateDir = join(tmp.fresh('s'), 'state');
    const file = enqueueTask(stateDir, req('gh-1'));
    assert.equal(file, join(queueDir(stateDir), 'gh-1.json'));
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), req('gh-1'));
    assert.deepEqual(readdirSync(queueDir(stateDir)), ['gh-1.json']);
  });

  test('a temp file another command is writing blocks the ID; one left over a minute ago is taken over', () => {
    const stateDir = tmp.fresh('s');
    mkdirSync(queueDir(stateDir), { recursive: true });
    const t = join(queueDir(stateDir), '.a.json.tmp');
    writeFileSync(t, '');
    assert.throws(() => enqueueTask(stateDir, req('a')), /being queued by another command/);
    assert.ok(existsSync(t), 'not ours to remove');
    const old = new Date(Date.now() - 120_000);
    utimesSync(t, old, old);
    enqueueTask(stateDir, req('a'));
    assert.deepEqual(readdirSync(queueDir(stateDir)), ['a.json']);
  });

  test('a write the filesystem refuses leaves nothing behind and says nothing was queued', () => {
    // a regular file where the queue directory should be: mkdir fails, as on a disk with no inodes
    const stateDir = tmp.fresh('s');
    writeFileSync(queueDir(stateDir), '');
    assert.throws(
      () => enqueueTask(stateDir, req('a')),
      (err: Error) => err instanceof QueueWriteError && /nothing was queued/.test(err.message),
    );
  });

  test('an invalid ID is refused before anything is written', () => {
    const stateDir = join(tmp.fresh('s'), 'state');
    assert.throws(() => enqueueTask(stateDir, req('../x')), QueueError);
    assert.equal(existsSync(queueDir(stateDir)), false);
  });

  test('the same ID queued twice is refused and the first request is kept', () => {
    const stateDir = tmp.fresh('s');
    enqueueTask(stateDir, req('a'));
    assert.throws(() => enqueueTask(stateDir, { ...req('a'), prompt: 'other' }), /already queued/);
    assert.equal(readQueue(stateDir)[0]?.request?.prompt, 'do a');
  });
});

describe('readQueue', () => {
  test('no queue directory is an empty queue', () => {
    assert.deepEqual(readQueue(tmp.fresh('s')), []);
  });

  test('requests come oldest first', () => {
    const stateDir = tmp.fresh('s');
    enqueueTask(stateDir, req('late', 30));
    enqueueTask(stateDir, req('early', 10));
    enqueueTask(stateDir, req('middle', 20));
    assert.deepEqual(
      readQueue(stateDir).map((e) => e.request?.id),
      ['early', 'middle', 'late'],
    );
  });

  test('unreadable entries are reported with an error, never dropped; temp files are skipped', () => {
    const stateDir = tmp.fresh('s');
    const dir = queueDir(stateDir);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'broken.json'), '{not json');
    writeFileSync(join(dir, 'shape.json'), JSON.stringify({ id: 'x', prompt: 'p' }));
    writeFileSync(join(dir, 'badid.json'), JSON.stringify(req('-bad')));
    writeFileSync(join(dir, '.half.json.tmp'), '{');
    const entries = readQueue(stateDir);
    assert.equal(entries.length, 3);
    for (const e of entries) {
      assert.equal(e.request, null);
      assert.ok(e.error, `${e.file} has an error`);
    }
  });
});

describe('after reading', () => {
  test('removeQueued deletes the request; removing it again is not an error', () => {
    const stateDir = tmp.fresh('s');
    const file = enqueueTask(stateDir, req('a'));
    removeQueued(file);
    removeQueued(file);
    assert.deepEqual(readQueue(stateDir), []);
  });

  test('rejectQueued moves the request aside, out of the queue, keeping its content', () => {
    const stateDir = tmp.fresh('s');
    const file = enqueueTask(stateDir, req('a'));
    const dest = rejectQueued(stateDir, file);
    assert.match(dest, /\/queue\/rejected\/\d+-a\.json$/);
    assert.deepEqual(JSON.parse(readFileSync(dest, 'utf8')), req('a'));
    assert.deepEqual(readQueue(stateDir), []);
  });
});

describe('one check for the CLI and the daemon', () => {
  test('enqueueTask refuses what readQueue would refuse: a huge priority, an oversized or invalid prompt', () => {
    const stateDir = tmp.fresh('s');
    assert.throws(() => enqueueTask(stateDir, { ...req('p1'), priority: 1e20 }), /integer from -1000 to 1000/);
    assert.throws(() => enqueueTask(stateDir, { ...req('p2'), prompt: 'x'.repeat(256 * 1024 + 1) }), /over the limit/);
    assert.throws(() => enqueueTask(stateDir, { ...req('p3'), prompt: 'a\uFFFD' }), /not valid UTF-8/);
    assert.equal(existsSync(queueDir(stateDir)), false, 'nothing written');
  });

  test('a request file written past the CLI with a huge priority is reported by readQueue, not accepted', () => {
    const stateDir = tmp.fresh('s');
    mkdirSync(queueDir(stateDir), { recursive: true });
    writeFileSync(join(queueDir(stateDir), 'h.json'), JSON.stringify({ ...req('h'), priority: 1e20 }));
    const [entry] = readQueue(stateDir);
    assert.equal(entry?.request, null);
    assert.match(entry?.error ?? '', /integer from -1000 to 1000/);
  });
});

describe('queued task commands (given while the daemon is down)', () => {
  test('each is its own +<addedAt>-<pid>-<id>.<command>.json, several per task, read back in order among the adds', () => {
    const stateDir = tmp.fresh('s');
    enqueueTask(stateDir, req('a', 10));
    const cancel = enqueueCommand(stateDir, { command: 'cancel', id: 'a', addedAt: 20 }, 42);
    enqueueCommand(stateDir, { command: 'priority', id: 'a', priority: -5, addedAt: 30 }, 42);
    enqueueCommand(stateDir, { command: 'retry', id: 'a', addedAt: 30 }, 43); // same time: the name orders it
    enqueueTask(stateDir, req('b', 40));
    assert.equal(cancel, join(queueDir(stateDir), '+20-42-a.cancel.json'));
    assert.deepEqual(
      readQueue(stateDir).map((e) => (e.request ? `add ${e.request.id}` : `${e.command?.command} ${e.command?.id}`)),
      ['add a', 'cancel a', 'priority a', 'retry a', 'add b'],
    );
    assert.deepEqual(readQueue(stateDir)[2]?.command, { command: 'priority', id: 'a', priority: -5, addedAt: 30 });
  });

  test('a command with a bad ID or priority is refused before anything is written', () => {
    const stateDir = tmp.fresh('s');
    assert.throws(() => enqueueCommand(stateDir, { command: 'retry', id: '../x', addedAt: 1 }), QueueError);
    assert.throws(
      () => enqueueCommand(stateDir, { command: 'priority', id: 'a', priority: 5000, addedAt: 1 }),
      /integer from -1000 to 1000/,
    );
    assert.equal(existsSync(queueDir(stateDir)), false, 'nothing written');
  });

  test('a command file that does not parse is reported, never applied', () => {
    const stateDir = tmp.fresh('s');
    mkdirSync(queueDir(stateDir), { recursive: true });
    writeFileSync(join(queueDir(stateDir), '+1-1-a.explode.json'), JSON.stringify({ command: 'explode', id: 'a', addedAt: 1 }));
    const [entry] = readQueue(stateDir);
    assert.equal(entry?.command, null);
    assert.equal(entry?.request, null);
    assert.ok(entry?.error);
  });
});
