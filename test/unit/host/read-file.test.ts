// Host files that some machines lack: absent reads as null instead of throwing.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readOrNull } from '../../../src/host/read-file.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('read-file-test');

test('an existing file is read as text', () => {
  const file = join(tmp.path, 'meminfo');
  writeFileSync(file, 'MemTotal: 1 kB\n');
  assert.equal(readOrNull(file), 'MemTotal: 1 kB\n');
});

test('a missing file is null', () => {
  assert.equal(readOrNull(join(tmp.path, 'no-such-file')), null);
});

test('a directory (unreadable as a file) is null', () => {
  assert.equal(readOrNull(tmp.path), null);
});

test('latin1 by default, so any byte reads back as one character', () => {
  const file = join(tmp.path, 'model');
  writeFileSync(file, Buffer.from([0x50, 0x69, 0x00, 0xff]));
  assert.equal(readOrNull(file), 'Pi\u0000\u00ff');
  assert.equal(readOrNull(file, 'utf8')?.length, 4);
});
