// Reading commands when the daemon is down: `status`, `tasks` and `task show` read the state file
// read-only (only the daemon writes it), say `daemon not running; state as of <time>` on their
// first line, print the rest as usual, and exit 3. The status view is built by the daemon's own
// report builder (src/supervisor/report.ts) from the state file, so both feed the same printer.
import { statSync } from 'node:fs';
import type { LoadedConfig } from '../config/load.js';
import { DaemonNotRunning } from '../control/client.js';
import { loadState, statePath } from '../state/store.js';
import type { WardenState } from '../state/types.js';
import type { StatusReport } from '../supervisor/report.js';
import { dated } from './when.js';

export interface OfflineState {
  state: WardenState;
  /** When the daemon last wrote the state file (its mtime). */
  asOf: number;
  /** The first line of every reading command's output while the daemon is down. */
  headline: string;
}

/**
 * The daemon's answer, or, when no daemon is running (nothing listens on the socket), the state
 * file read-only. A permission problem or a wedged daemon is not "not running": it is thrown.
 */
export async function daemonOrStateFile<T>(
  ask: () => Promise<T>,
  loaded: () => LoadedConfig,
): Promise<{ answer: T; offline: null } | { answer: null; offline: OfflineState }> {
  try {
    return { answer: await ask(), offline: null };
  } catch (err) {
    if (!(err instanceof DaemonNotRunning)) throw err;
    return { answer: null, offline: readStateOffline(loaded(), err) };
  }
}

/** The state file as the daemon last wrote it; no state file yet is the daemon's "not running", one line. */
export function readStateOffline(loaded: LoadedConfig, notRunning: DaemonNotRunning, now = Date.now()): OfflineState {
  const stateDir = loaded.config.supervisor.state_dir;
  let asOf: number;
  try {
    asOf = statSync(statePath(stateDir)).mtimeMs;
  } catch {
    throw new DaemonNotRunning(`${notRunning.message}; no state file at ${statePath(stateDir)} yet`);
  }
  const { state } = loadState(stateDir, loaded.config.breaker.cooldown); // reads only; an unreadable file is exit 78
  return { state, asOf, headline: `daemon not running; state as of ${dated(asOf, now)}` };
}

/** A StatusReport as the daemon would give it, from the state file: no live workers, no host sample. */
export async function offlineStatus(loaded: LoadedConfig, o: OfflineState, version: string, now = Date.now()): Promise<StatusReport> {
  const { buildStatus } = await import('../supervisor/report.js'); // only when the daemon is down
  const workers = Object.values(o.state.tasks).flatMap((t) =>
    t.current?.pid
      ? [{ taskId: t.id, attempt: t.current.attempt, pid: t.current.pid, unit: t.current.unit, startedAt: t.current.claimedAt }]
      : [],
  );
  return buildStatus({
    now,
    pid: 0,
    version,
    startedAt: o.asOf,
    loaded,
    executor: {
      kind: `${loaded.config.executor.kind} (as configured)`,
      enforcesLimits: true,
      warnings: [],
      sandbox: loaded.config.executor.sandbox ? 'sandbox: on (as configured)' : 'sandbox: off',
    },
    state: o.state,
    workers,
    heldBy: null,
    lastSample: null,
    disks: [],
    notAvailable: [],
    lastPause: null,
    stateWriteFault: null,
    usage: () => null, // no live cgroup reading for a daemon that is not there
    configLoadedAt: o.asOf,
    recentEvents: [],
  });
}
