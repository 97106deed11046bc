// One statfs of a real filesystem (src/host/disk-usage.ts).
import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { readDiskUsage } from '../../../src/host/disk-usage.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('disk-usage-test').path;

test('readDiskUsage is one statfs of a real directory: the blocks an unprivileged user may take, and free inodes', () => {
  const u = readDiskUsage('state_dir', tmp);
  const s = statfsSync(tmp);
  assert.equal(u.role, 'state_dir');
  assert.equal(u.path, tmp);
  assert.ok(u.freeBytes > 0);
  assert.ok(Math.abs(u.freeBytes - s.bavail * s.bsize) < 64 * 1024 * 1024, `${u.freeBytes} vs ${s.bavail * s.bsize}`);
  assert.ok(u.freeInodes === null || u.freeInodes > 0);
});

test('a path that cannot be read throws', () => {
  assert.throws(() => readDiskUsage('worktrees', `${tmp}/missing/dir`), /ENOENT/);
});

test('free disk space comes from statfs', () => {
  assert.ok(readDiskUsage('worktrees', tmpdir()).freeBytes > 0);
});
