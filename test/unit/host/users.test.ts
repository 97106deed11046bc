// Users and groups by name, from the system's files.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { lookupGroupId } from '../../../src/host/users.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('users-test').path;

test('lookupGroupId reads /etc/group', () => {
  const f = join(tmp, 'group');
  writeFileSync(f, 'root:x:0:\nwarden:x:998:alice,bob\n');
  assert.equal(lookupGroupId('warden', f), 998);
  assert.equal(lookupGroupId('nope', f), null);
});
