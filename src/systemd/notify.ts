// sd_notify for warden. Node cannot send on AF_UNIX datagram sockets, so there are two options:
// the native `unix-dgram` addon (0.01 ms per message) or the `systemd-notify` binary (~14 ms per
// message). We use the binary: a native addon would need a compiler toolchain on every Pi, and
// the offline release bundle could not carry one build for arm64, armhf and x86_64 alike. The cost
// is one short-lived child per message, at one heartbeat per WatchdogSec/2 (e.g. every 15 s), well
// off the pre-spawn path. Spawned directly (no shell) from a root service, systemd-notify sends on
// behalf of its parent PID, so the default NotifyAccess=main accepts it; the unit still sets
// NotifyAccess=all so a non-root install works too. Without NOTIFY_SOCKET this does nothing.
import { spawn } from 'node:child_process';

export interface Notifier {
  readonly enabled: boolean;
  /** Half of WATCHDOG_USEC in ms, when systemd expects heartbeats; else null. */
  readonly watchdogIntervalMs: number | null;
  ready(status?: string): void;
  watchdog(): void;
  status(text: string): void;
  reloading(): void;
  /**
   * STOPPING=1, and when `needMs` is given, EXTEND_TIMEOUT_USEC so that the unit's TimeoutStopSec
   * (90 s) does not cut short a stop that waits up to stop_grace (which may be 10 min) for workers.
   */
  stopping(status?: string, needMs?: number): void;
}

export function watchdogIntervalFromEnv(env: NodeJS.ProcessEnv): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  const pid = env.WATCHDOG_PID ? Number(env.WATCHDOG_PID) : process.pid;
  if (pid !== process.pid) return null;
  return Math.max(100, Math.floor(usec / 1000 / 2));
}

export function createNotifier(
  env: NodeJS.ProcessEnv = process.env,
  binary = 'systemd-notify',
  onError: (msg: string) => void = () => {},
): Notifier {
  const socket = env.NOTIFY_SOCKET;
  const watchdogIntervalMs = socket ? watchdogIntervalFromEnv(env) : null;
  let lastStatus = '';
  let reported = false;
  // Messages go out one at a time, in order: each waits for the previous systemd-notify to exit.
  // Two children racing could deliver READY=1 before RELOADING=1, leaving the unit "reloading".
  let queue: Promise<void> = Promise.resolve();
  const send = (...assignments: string[]) => {
    if (!socket) return;
    const fail = (why: string) => {
      if (!reported) onError(`sd_notify via ${binary} failed: ${why}`);
      reported = true;
    };
    queue = queue.then(
      () =>
        new Promise<void>((resolve) => {
          const child = spawn(binary, assignments, { stdio: 'ignore', env: { ...process.env, NOTIFY_SOCKET: socket } });
          child.once('error', (err) => {
            fail(err.message);
            resolve();
          });
          child.once('exit', (code) => {
            if (code) fail(`exit ${code}`);
            resolve();
          });
        }),
    );
  };
  return {
    enabled: Boolean(socket),
    watchdogIntervalMs,
    ready: (status) => send('--ready', ...(status ? [`STATUS=${status}`] : [])),
    watchdog: () => send('WATCHDOG=1'),
    status: (text) => {
      if (text === lastStatus) return;
      lastStatus = text;
      send(`STATUS=${text}`);
    },
    reloading: () => send('RELOADING=1'),
    stopping: (status, needMs) =>
      send(
        'STOPPING=1',
        ...(status ? [`STATUS=${status}`] : []),
        ...(needMs !== undefined ? [`EXTEND_TIMEOUT_USEC=${Math.ceil(needMs) * 1000}`] : []),
      ),
  };
}
