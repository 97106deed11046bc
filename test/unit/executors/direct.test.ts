// The direct executor's process group, with real processes: a wrapper in its own session whose
// child ignores SIGTERM. The group is empty only when /proc shows none of them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { processGroup } from '../../../src/executors/direct.ts';
import { terminate } from '../../../src/executors/terminate.ts';
import { waitFor } from '../../helpers/wait.ts';

const started: number[] = [];
after(() => {
  for (const pid of started)
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
});

describe('processGroup', () => {
  test('a child that traps TERM keeps the group alive after its leader exits, until SIGKILL', async () => {
    // the leader starts a TERM-trapping child in its group, then exits on its own
    const leader = spawn('/bin/sh', ['-c', 'sh -c \'trap "" TERM; while :; do sleep 0.05; done\' & sleep 0.2; exit 0'], {
      detached: true,
      stdio: 'ignore',
    });
    const pgid = leader.pid as number;
    started.push(pgid);
    await new Promise((r) => leader.once('exit', r));
    const group = processGroup(pgid);
    assert.ok((await group.left()) >= 1, 'the child outlived its leader');
    const t0 = Date.now();
    assert.equal(await terminate(group, 300, { pollMs: 20 }), 'killed');
    assert.ok(Date.now() - t0 >= 290, 'SIGKILL only after the grace');
    await waitFor('the group to stay empty', () => group.left() === 0, 2000);
  });
});
