// A permission problem as the person sees it: the fix names the group that owns the path.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { describeFix, isPermissionError, permissionDenied } from '../../../src/host/permission.ts';
import { groupName, userInGroup } from '../../../src/host/users.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('permission');

describe('describeFix', () => {
  test('a group not yet joined: the usermod line; joined but not in this login: log in again; root only: sudo', () => {
    assert.equal(
      describeFix('warden', { inThisLogin: false, inGroupFile: false }),
      'add yourself to group warden: sudo usermod -aG warden $USER (then log in again)',
    );
    assert.match(
      describeFix('warden', { inThisLogin: false, inGroupFile: true }),
      /^you are in group warden, but this login is not yet: log in again/,
    );
    assert.match(describeFix(null, { inThisLogin: false, inGroupFile: false }), /^run it with sudo/);
    assert.match(describeFix('warden', { inThisLogin: true, inGroupFile: true }), /group warden is not allowed this: run it with sudo/);
  });
});

test('isPermissionError: EACCES and EPERM only', () => {
  assert.equal(isPermissionError(Object.assign(new Error('x'), { code: 'EACCES' })), true);
  assert.equal(isPermissionError(Object.assign(new Error('x'), { code: 'EPERM' })), true);
  assert.equal(isPermissionError(Object.assign(new Error('x'), { code: 'ENOENT' })), false);
  assert.equal(isPermissionError(null), false);
});

describe('the group files', () => {
  const dir = tmp.fresh();
  const group = join(dir, 'group');
  const passwd = join(dir, 'passwd');
  writeFileSync(group, 'root:x:0:\nwarden:x:990:pi,bob\nwarden-worker:x:991:\n');
  writeFileSync(
    passwd,
    'root:x:0:0::/root:/bin/sh\nwarden:x:995:991::/nonexistent:/usr/sbin/nologin\ncarol:x:1002:990::/home/carol:/bin/sh\n',
  );
  test('groupName by ID', () => {
    assert.equal(groupName(990, group), 'warden');
    assert.equal(groupName(12345, group), null);
  });
  test('userInGroup: listed as a member, or by primary group; the worker user in its own group is not in warden', () => {
    assert.equal(userInGroup('bob', 'warden', { passwd, group }), true);
    assert.equal(userInGroup('carol', 'warden', { passwd, group }), true, 'primary group');
    assert.equal(userInGroup('warden', 'warden', { passwd, group }), false);
    assert.equal(userInGroup('warden', 'warden-worker', { passwd, group }), true);
  });
});

test(
  'permissionDenied names the path, the action and the group owning the path (or its directory)',
  { skip: process.getuid?.() !== 0 ? 'needs root to chown' : false },
  () => {
    const users = groupName(100);
    if (users === null) return;
    const dir = tmp.fresh();
    const file = join(dir, 'config.toml');
    writeFileSync(file, '');
    chownSync(file, 0, 100);
    chmodSync(file, 0o640);
    assert.match(
      permissionDenied(file, 'read the config').message,
      new RegExp(`^permission denied: cannot read the config ${file}; .*group ${users}`),
    );
    const sub = join(dir, 'q');
    mkdirSync(sub);
    chownSync(sub, 0, 100);
    assert.match(
      permissionDenied(join(sub, 'missing.json'), 'queue a task in').message,
      new RegExp(`group ${users}`),
      'the nearest existing ancestor',
    );
    chownSync(file, 0, 0);
    assert.match(permissionDenied(file, 'read').message, /; run it with sudo/);
  },
);
