// Desktop alerts through notify-send to a real notification server: a private D-Bus session
// (dbus-run-session) with dunst on a virtual X display (Xvfb), watched with dbus-monitor. The
// Notify call the daemon's alert makes is read off the bus. Skipped, with a visible line, where
// the Debian packages (dbus, dunst, xvfb, libnotify-bin) are missing; .ci/run installs them.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { after, describe, test } from 'node:test';
import { waitFor } from '../helpers/wait.ts';
import { cleanupAll, cliOk, makeSandbox, startDaemon } from './harness.ts';

const TOOLS = ['Xvfb', 'dunst', 'dbus-run-session', 'dbus-monitor', 'dbus-send', 'notify-send'];
const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = missing.length
  ? `missing ${missing.join(', ')} (Debian: apt-get install --no-install-recommends dbus dbus-x11 dunst xvfb libnotify-bin)`
  : null;
if (skip) console.log(`### SKIPPED: notify-send against a real notification server: ${skip}`);

const started: ChildProcess[] = [];
after(async () => {
  await cleanupAll();
  for (const p of started.reverse()) {
    try {
      process.kill(-p.pid!, 'SIGKILL'); // each helper leads its own process group
    } catch {
      /* already gone */
    }
  }
});

/** Starts a helper in its own process group, collecting its stdout. */
function helper(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { proc: ChildProcess; out: () => string } {
  const proc = spawn(cmd, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(proc);
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', () => {});
  return { proc, out: () => out };
}

describe('notify-send reaches a real org.freedesktop.Notifications server', { skip: skip ?? false }, () => {
  test('an alert shows up as a Notify call from warden on the session bus, answered by dunst', async () => {
    const xvfb = helper('Xvfb', ['-displayfd', '1', '-nolisten', 'tcp', '-screen', '0', '640x480x24']);
    const display = `:${await waitFor('Xvfb to pick a display', () => xvfb.out().match(/^(\d+)\n/)?.[1] ?? null, 10_000, 50)}`;
    const session = helper('dbus-run-session', ['--', 'sh', '-c', 'echo "$DBUS_SESSION_BUS_ADDRESS"; exec sleep 600']);
    const bus = await waitFor('the session bus address', () => session.out().match(/^(unix:\S+)\n/)?.[1] ?? null, 10_000, 50);
    const env = { ...process.env, DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: bus };
    helper('dunst', [], env);
    await waitFor(
      'dunst to own org.freedesktop.Notifications',
      () =>
        /boolean true/.test(
          spawnSync(
            'dbus-send',
            [
              '--session',
              '--print-reply',
              '--dest=org.freedesktop.DBus',
              '/',
              'org.freedesktop.DBus.NameHasOwner',
              'string:org.freedesktop.Notifications',
            ],
            { env, encoding: 'utf8' },
          ).stdout,
        ),
      10_000,
      100,
    );
    const monitor = helper('dbus-monitor', ['--address', bus, "interface='org.freedesktop.Notifications',member='Notify'"]);
    await waitFor('dbus-monitor to attach', () => /NameAcquired/.test(monitor.out()), 5000, 50);

    const sb = makeSandbox({ alerts: { notify_send: true, session_bus: bus } });
    const d = await startDaemon(sb);
    await cliOk(sb.configPath, ['pause']);
    const call = await waitFor(
      'the Notify call on the bus',
      () => {
        const m = /method call [^\n]*member=Notify\n((?: {3}.*\n)+)/.exec(monitor.out());
        return m ? m[1]! : null;
      },
      10_000,
      50,
    );
    const strings = [...call.matchAll(/^ {3}string "(.*)"$/gm)].map((x) => x[1]);
    assert.deepEqual(strings.slice(0, 4), [
      'warden',
      '',
      `${hostname()}: paused: manual`,
      'Paused by `warden pause`. Running workers keep running; `warden resume` lets spawning continue.',
    ]);
    assert.match(call, /string "urgency"\s+variant\s+byte 0/, 'priority 2 is urgency low');
    await waitFor('the delivery to be logged', () => /alert delivered alert=paused channel=notify-send attempt=1/.test(d.log()), 5000, 50);
    console.log(
      `notify-send: ${/alert delivered alert=paused channel=notify-send .*since_event_ms=(\d+)/.exec(d.log())?.[1]} ms from event to Notify answered by dunst`,
    );
    assert.equal((await d.stop()).code, 0);
  });
});

test('notify-send with no reachable session bus: one clear line at start, and the daemon runs on', async () => {
  const sb = makeSandbox({ alerts: { notify_send: true, session_bus: 'unix:path=/nonexistent/bus' } });
  const d = await startDaemon(sb);
  assert.match(
    d.log(),
    /WARN {2}alerts: notify-send is on, but no D-Bus session bus is reachable: \/nonexistent\/bus \(\[alerts\] session_bus\) does not exist; desktop notifications will not be shown/,
  );
  await cliOk(sb.configPath, ['pause']);
  await waitFor('the failed delivery to be logged', () =>
    /alert dropped alert=paused channel=notify-send attempt=1 reason="not retried: no D-Bus session bus is reachable/.test(d.log()),
  );
  assert.equal((await d.stop()).code, 0);
});
