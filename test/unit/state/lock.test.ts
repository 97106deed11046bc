// The state directory's lock: one holder per real path, a refusal that names the holder's pid, and
// a lock that is free again once released (the kernel does the same when the holder dies).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { acquireStateLock, lockName, StateLocked } from '../../../src/state/lock.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('lock');

test('a second acquire on the same directory is refused with the holder pid; after release it succeeds', async () => {
  const dir = tmp.fresh();
  const lock = await acquireStateLock(dir);
  await assert.rejects(acquireStateLock(dir), (err: unknown) => {
    assert.ok(err instanceof StateLocked);
    assert.equal(err.pid, process.pid);
    assert.equal(err.message, `another warden daemon (pid ${process.pid}) holds ${dir}; not starting a second one`);
    return true;
  });
  await lock.release();
  const again = await acquireStateLock(dir);
  await again.release();
});

test('the lock is per real path: a symlink to a locked directory is locked too, another directory is not', async () => {
  const dir = tmp.fresh();
  const link = join(tmp.path, `link-${Date.now()}`);
  symlinkSync(dir, link);
  const lock = await acquireStateLock(dir);
  await assert.rejects(acquireStateLock(link), StateLocked);
  await assert.rejects(acquireStateLock(join(dir, '.')), StateLocked);
  const other = await acquireStateLock(tmp.fresh());
  assert.notEqual(other.name, lock.name);
  assert.equal(lock.name, lockName(realpathSync(dir)));
  assert.match(lock.name, /^warden-state-[0-9a-f]{32}$/);
  await other.release();
  await lock.release();
});

test('a missing state directory is created before it is locked', async () => {
  const dir = join(tmp.fresh(), 'a', 'b');
  const lock = await acquireStateLock(dir);
  assert.equal(realpathSync(dir), dir);
  await lock.release();
});

test('kill -9 of the holder frees the lock at once (no stale lock)', async () => {
  const dir = tmp.fresh();
  // a child process holds the lock, then is killed with SIGKILL
  const src = new URL('../../../src/state/lock.ts', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import(${JSON.stringify(src)}).then(async (m) => { await m.acquireStateLock(${JSON.stringify(dir)}); console.log('held'); setInterval(() => {}, 1000); });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
  await assert.rejects(acquireStateLock(dir), (err: unknown) => err instanceof StateLocked && err.pid === child.pid);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  const lock = await acquireStateLock(dir);
  await lock.release();
});
