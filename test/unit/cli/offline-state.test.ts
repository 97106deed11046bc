// Reading the state file while the daemon is down: the first line, and no state file at all.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readStateOffline } from '../../../src/cli/offline-state.ts';
import { parseConfigText } from '../../../src/config/load.ts';
import { DaemonNotRunning } from '../../../src/control/client.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('offline-state-test');

test('no state file yet: still "not running", one line naming the path', () => {
  const stateDir = join(tmp.fresh('s'), 'state');
  const loaded = { config: parseConfigText(`[supervisor]\nstate_dir = "${stateDir}"\n`, '/x.toml'), path: '/x.toml', sha256: '' };
  assert.throws(
    () => readStateOffline(loaded, new DaemonNotRunning('warden is not running (no daemon on /s)')),
    (e: unknown) =>
      e instanceof DaemonNotRunning && e.message === `warden is not running (no daemon on /s); no state file at ${stateDir}/state.json yet`,
  );
});
