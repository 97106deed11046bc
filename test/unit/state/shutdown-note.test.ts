import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  decodeShutdownNote,
  encodeShutdownNote,
  readShutdownNote,
  reserveShutdownNote,
  SHUTDOWN_NOTE_BYTES,
  shutdownNotePath,
  writeShutdownNote,
} from '../../../src/state/shutdown-note.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('note');
const note = { stoppedAt: 5, attempts: [{ taskId: 'a', attempt: 1, claimedAt: 2 }] };

describe('shutdown note', () => {
  test('encodes padded to the reserved size and decodes back; spaces or junk are no note', () => {
    const buf = encodeShutdownNote(note);
    assert.equal(buf?.length, SHUTDOWN_NOTE_BYTES);
    assert.deepEqual(decodeShutdownNote(buf?.toString() ?? ''), note);
    assert.equal(decodeShutdownNote(' '.repeat(100)), null);
    assert.equal(decodeShutdownNote('{"stoppedAt":'), null);
    assert.equal(decodeShutdownNote('{"x":1}'), null);
    assert.equal(encodeShutdownNote(note, 10), null);
  });

  test('64 workers with 64-character IDs fit', () => {
    const attempts = Array.from({ length: 64 }, (_, i) => ({ taskId: `${i}`.padEnd(64, 'x'), attempt: 99, claimedAt: Date.now() }));
    assert.notEqual(encodeShutdownNote({ stoppedAt: Date.now(), attempts }), null);
  });

  test('reserve, write in place, read; reserving again clears it without changing the size', () => {
    const dir = tmp.fresh();
    assert.equal(readShutdownNote(dir), null);
    assert.equal(reserveShutdownNote(dir), null);
    assert.equal(statSync(shutdownNotePath(dir)).size, SHUTDOWN_NOTE_BYTES);
    assert.equal(readShutdownNote(dir), null);
    const ino = statSync(shutdownNotePath(dir)).ino;
    writeShutdownNote(dir, note);
    assert.equal(statSync(shutdownNotePath(dir)).ino, ino, 'written in place');
    assert.deepEqual(readShutdownNote(dir), note);
    reserveShutdownNote(dir);
    assert.equal(readFileSync(shutdownNotePath(dir), 'utf8').trim(), '');
    assert.equal(statSync(shutdownNotePath(dir)).size, SHUTDOWN_NOTE_BYTES);
  });

  test('a missing state directory: reserving reports the error instead of throwing', () => {
    assert.match(reserveShutdownNote('/nonexistent/dir') ?? '', /ENOENT/);
  });
});
