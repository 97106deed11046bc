// The control group's access under state_dir, on a real directory (as root: chown needs it).
import assert from 'node:assert/strict';
import { chownSync, lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeFileAtomic } from '../../../src/host/write-file-atomic.ts';
import { lookupGroupId } from '../../../src/host/users.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { grantGroupAccess, LOGS_DIR_MODE, QUEUE_DIR_MODE } from '../../../src/state/group-access.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('group-access');
const GROUP = 'users';
const gid = lookupGroupId(GROUP);
const skip = process.getuid?.() !== 0 ? 'needs root to chown' : gid === null ? `no group ${GROUP} here` : false;

test(
  'queue/ and logs/ become setgid directories of the group, existing logs and the state file get the group, state_dir stays as it was',
  { skip },
  () => {
    const stateDir = tmp.fresh('state');
    mkdirSync(join(stateDir, 'logs/t1'), { recursive: true });
    writeFileSync(join(stateDir, 'logs/t1/1.log'), 'x');
    writeFileSync(join(stateDir, 'state.json'), '{}');
    const before = lstatSync(stateDir);
    const lines: string[] = [];
    grantGroupAccess(stateDir, GROUP, createLogger({ write: (l) => lines.push(l), timestamps: false }), null);
    assert.deepEqual(lines, []);
    const mode = (p: string) => lstatSync(join(stateDir, p)).mode & 0o7777;
    const group = (p: string) => lstatSync(join(stateDir, p)).gid;
    assert.equal(mode('queue'), QUEUE_DIR_MODE);
    assert.equal(mode('logs'), LOGS_DIR_MODE);
    assert.equal(mode('logs/t1'), LOGS_DIR_MODE);
    for (const p of ['queue', 'logs', 'logs/t1', 'logs/t1/1.log', 'state.json']) assert.equal(group(p), gid, p);
    assert.deepEqual([lstatSync(stateDir).uid, lstatSync(stateDir).gid, lstatSync(stateDir).mode], [before.uid, before.gid, before.mode]);
    // the next atomic save keeps the group; a file made in the setgid queue gets it too
    writeFileAtomic(join(stateDir, 'state.json'), '{"a":1}');
    assert.equal(group('state.json'), gid);
    writeFileSync(join(stateDir, 'queue/x.json'), '{}');
    assert.equal(group('queue/x.json'), gid);
  },
);

test('a worker user in the group is warned about', { skip }, () => {
  const stateDir = tmp.fresh('state');
  const lines: string[] = [];
  const member = 'root';
  chownSync(stateDir, 0, 0);
  grantGroupAccess(stateDir, 'root', createLogger({ write: (l) => lines.push(l), timestamps: false }), member);
  assert.match(lines.join('\n'), /WARN {2}worker\.user root is in \[control\] group root: workers can pause, resume and queue tasks/);
});
