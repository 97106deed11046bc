// The one way warden replaces a file: the old file or the new one, never a torn write, and a
// failed write leaves nothing behind.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isDiskFull, writeFileAtomic } from '../../../src/host/write-file-atomic.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('write-file-atomic-test');

test('writes a new file (and its directory) with the mode asked, and replaces it whole', () => {
  const dir = join(tmp.fresh('w'), 'sub');
  const path = join(dir, 'state.json');
  writeFileAtomic(path, '{"a":1}');
  assert.equal(readFileSync(path, 'utf8'), '{"a":1}');
  assert.equal(statSync(path).mode & 0o777, 0o640);
  writeFileAtomic(path, '{"a":2}', 0o600);
  assert.equal(readFileSync(path, 'utf8'), '{"a":2}');
  assert.deepEqual(readdirSync(dir), ['state.json'], 'no temp file left');
});

test('a write that fails (here: the rename, over a directory) changes nothing and leaves no temporary file', () => {
  const dir = tmp.fresh('fail');
  mkdirSync(join(dir, 'target', 'inside'), { recursive: true });
  assert.throws(() => writeFileAtomic(join(dir, 'target'), 'new'), /EISDIR|ENOTEMPTY|EEXIST/);
  assert.deepEqual(readdirSync(dir), ['target']);
  assert.deepEqual(readdirSync(join(dir, 'target')), ['inside']);
});

test('isDiskFull: no space, no inodes or over quota, also as the cause of another error', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(isDiskFull(err('ENOSPC')), true);
  assert.equal(isDiskFull(err('EDQUOT')), true);
  assert.equal(isDiskFull(new Error('cannot save the state', { cause: err('ENOSPC') })), true);
  assert.equal(isDiskFull(err('EACCES')), false);
  assert.equal(isDiskFull(null), false);
});
