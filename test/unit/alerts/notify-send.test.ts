// The desktop channel: urgency by priority, and which session bus it talks to (the real
// notify-send to dunst under Xvfb is in test/integration).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findSessionBus, urgencyFor } from '../../../src/alerts/notify-send.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('notify-send-test').path;

test('notify-send urgency follows the priority', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((p) => urgencyFor(p as 1)),
    ['low', 'low', 'normal', 'critical', 'critical'],
  );
});

test('session bus: [alerts] session_bus, else $DBUS_SESSION_BUS_ADDRESS, else /run/user/UID/bus; a missing socket is reported', () => {
  const sock = join(tmp, 'bus');
  writeFileSync(sock, '');
  assert.deepEqual(findSessionBus(`unix:path=${sock}`, {}, 0), { address: `unix:path=${sock}` });
  assert.deepEqual(findSessionBus(null, { DBUS_SESSION_BUS_ADDRESS: `unix:path=${sock},guid=abc` }, 0), {
    address: `unix:path=${sock},guid=abc`,
  });
  assert.deepEqual(findSessionBus(null, { DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/dbus-x' }, 0), {
    address: 'unix:abstract=/tmp/dbus-x',
  });
  const none = findSessionBus(null, {}, 4242);
  assert.equal(none.address, null);
  assert.match(
    none.address === null ? none.why : '',
    /\/run\/user\/4242\/bus \(the default for uid 4242\) does not exist; set \[alerts\] session_bus/,
  );
});
