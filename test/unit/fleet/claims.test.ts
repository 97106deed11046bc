// The supervisor's port to the fleet without [fleet]: SingleNode keeps everything local.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OperatorRefused, SingleNode } from '../../../src/fleet/claims.ts';
import { stateOf } from '../../helpers/tasks.ts';

test('a single node applies pause and resume here, and refuses --node with a 400 (a usage error for the CLI)', async () => {
  const node = new SingleNode({ state: () => stateOf([]) });
  assert.deepEqual(await node.operator('pause', null, () => ({ paused: ['manual'] })), { paused: ['manual'] });
  await assert.rejects(
    node.operator('resume', 'n2', () => ({})),
    (err: unknown) => err instanceof OperatorRefused && err.status === 400 && /--node needs a \[fleet\] table/.test(err.message),
  );
});
