// openRegular and friends: nothing under state_dir is opened unless it is a regular file (or a
// directory warden made). A symlink, FIFO, directory or socket is refused at once, never followed
// and never waited on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, readFileSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  checkRealDir,
  ensureDirsUnder,
  openRegular,
  readRegularOrNull,
  readRegularText,
  UnsafeFileError,
} from '../../../src/host/safe-open.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('safe-open-test');
const unsafe = (re: RegExp) => (err: unknown) => err instanceof UnsafeFileError && re.test(err.message);
const { O_WRONLY, O_APPEND, O_CREAT } = constants;

test('a regular file is read, and created and appended to with O_CREAT|O_APPEND', () => {
  const dir = tmp.fresh('regular');
  writeFileSync(join(dir, 'a.json'), '{"x":1}');
  assert.equal(readRegularText(join(dir, 'a.json')), '{"x":1}');
  const fd = openRegular(join(dir, 'new.log'), O_WRONLY | O_APPEND | O_CREAT, 0o640);
  writeSync(fd, 'one\n');
  closeSync(fd);
  assert.equal(readFileSync(join(dir, 'new.log'), 'utf8'), 'one\n');
});

test('a symlink is refused, even to a regular file, and even with O_CREAT; the target is untouched', () => {
  const dir = tmp.fresh('symlink');
  const outside = join(tmp.fresh('outside'), 'target');
  writeFileSync(outside, 'secret');
  symlinkSync(outside, join(dir, 'link'));
  assert.throws(() => readRegularText(join(dir, 'link')), unsafe(/symbolic link/));
  assert.throws(() => openRegular(join(dir, 'link'), O_WRONLY | O_APPEND | O_CREAT), unsafe(/symbolic link/));
  symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
  assert.throws(() => openRegular(join(dir, 'dangling'), O_WRONLY | O_CREAT), unsafe(/symbolic link/));
  assert.equal(readFileSync(outside, 'utf8'), 'secret');
  assert.equal(readRegularOrNull(join(dir, 'link')), null);
});

test('a FIFO is refused at once for reading and for writing (no reader), never waited on', () => {
  const dir = tmp.fresh('fifo');
  const fifo = join(dir, 'req.json');
  execFileSync('mkfifo', [fifo]);
  const t0 = Date.now();
  assert.throws(() => readRegularText(fifo), unsafe(/FIFO/));
  assert.throws(() => openRegular(fifo, O_WRONLY | O_APPEND | O_CREAT), unsafe(/FIFO/));
  assert.equal(readRegularOrNull(fifo), null);
  assert.ok(Date.now() - t0 < 1000, 'no blocking open');
});

test('a directory is refused as a file; checkRealDir accepts it, and refuses a symlink to one', () => {
  const dir = tmp.fresh('dir');
  mkdirSync(join(dir, 'sub.json'));
  assert.throws(() => readRegularText(join(dir, 'sub.json')), unsafe(/directory/));
  checkRealDir(join(dir, 'sub.json'));
  symlinkSync(join(dir, 'sub.json'), join(dir, 'linkdir'));
  assert.throws(() => checkRealDir(join(dir, 'linkdir')), unsafe(/symbolic link, not a directory/));
  assert.throws(() => checkRealDir(join(dir, 'missing')), /ENOENT/);
});

test('a unix socket is refused', async () => {
  const dir = tmp.fresh('sock');
  const path = join(dir, 's.json');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  try {
    assert.throws(() => readRegularText(path), unsafe(/socket/));
    assert.throws(() => openRegular(path, O_WRONLY | O_APPEND | O_CREAT), unsafe(/socket/));
  } finally {
    server.close();
  }
});

test('a missing file is ENOENT, not an unsafe-file error', () => {
  const dir = tmp.fresh('missing');
  assert.throws(
    () => readRegularText(join(dir, 'none')),
    (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT',
  );
});

test('ensureDirsUnder makes each level and refuses a symlink at any level, creating nothing outside', () => {
  const root = tmp.fresh('root');
  assert.equal(ensureDirsUnder(root, ['logs', 't1']), join(root, 'logs', 't1'));
  checkRealDir(join(root, 'logs', 't1'));
  const outside = tmp.fresh('elsewhere');
  symlinkSync(outside, join(root, 'run'));
  assert.throws(() => ensureDirsUnder(root, ['run', 'x']), unsafe(/run is a symbolic link/));
  symlinkSync(outside, join(root, 'logs', 't2'));
  assert.throws(() => ensureDirsUnder(root, ['logs', 't2']), unsafe(/t2 is a symbolic link/));
  assert.deepEqual(execFileSync('ls', ['-A', outside], { encoding: 'utf8' }), '');
});
