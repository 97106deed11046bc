// What the `[control] group` may touch under state_dir, set up by the daemon at each start (as
// root). Members run the read commands and pause/resume over the socket (mode 0660, that group);
// on disk they need:
//   queue/        GROUP 2770       `task add` (and the other queued requests) while the daemon is
//                                  down; setgid, so each request file gets the group too
//   logs/         GROUP 2750       `warden logs`; setgid, so task directories and logs inherit it
//                                  (existing ones are given the group here, one level deep)
//   state.json    GROUP 0640       read-only: only the daemon writes the state. An atomic write
//   (and .bak)                     keeps the group of the file it replaces (host/write-file-atomic.ts)
// state_dir itself stays root:root 0711, as systemd's StateDirectory= makes it: systemd chowns a
// state directory recursively at start when its top level is not owned as it expects.
import { chmodSync, lchownSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { lookupGroupId, userInGroup } from '../host/users.js';
import type { Logger } from '../log/logger.js';
import { statePath } from './store.js';

export const QUEUE_DIR_MODE = 0o2770;
export const LOGS_DIR_MODE = 0o2750;

/** A real directory (not a symlink) given to `gid` with `mode`; made if missing. */
function groupDir(path: string, gid: number, mode: number): void {
  mkdirSync(path, { recursive: true, mode: 0o750 });
  if (!lstatSync(path).isDirectory()) throw new Error(`${path} is not a directory`);
  lchownSync(path, -1, gid);
  chmodSync(path, mode);
}

function groupFile(path: string, gid: number): void {
  try {
    if (lstatSync(path).isFile()) lchownSync(path, -1, gid);
  } catch {
    // absent: nothing to give
  }
}

/** Gives the control group its access (above); a failure is a warning, the daemon runs on. */
export function grantGroupAccess(stateDir: string, group: string | null, log: Logger, workerUser: string | null): void {
  if (group === null) return;
  if (workerUser !== null && userInGroup(workerUser, group))
    log.warn(
      `worker.user ${workerUser} is in [control] group ${group}: workers can pause, resume and queue tasks; give the worker user another group`,
    );
  const gid = lookupGroupId(group);
  if (gid === null) return; // the control server has already refused the config
  try {
    groupDir(join(stateDir, 'queue'), gid, QUEUE_DIR_MODE);
    const logs = join(stateDir, 'logs');
    groupDir(logs, gid, LOGS_DIR_MODE);
    for (const task of readdirSync(logs)) {
      const dir = join(logs, task);
      if (!lstatSync(dir).isDirectory()) continue;
      groupDir(dir, gid, LOGS_DIR_MODE);
      for (const f of readdirSync(dir)) groupFile(join(dir, f), gid);
    }
    for (const f of [statePath(stateDir), `${statePath(stateDir)}.bak`]) groupFile(f, gid);
  } catch (err) {
    log.warn(`cannot give group ${group} its access under ${stateDir}`, { error: (err as Error).message });
  }
}
