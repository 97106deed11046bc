// `warden reload`: asks the daemon to re-read its config (POST /reload) and waits for its answer.
// A rejected config prints its problem lines, one per problem, and exits 78 (EX_CONFIG); the
// daemon keeps running the config it had. The unit's ExecReload runs this, so that `systemctl
// reload warden` fails visibly, where `kill -HUP` succeeded whatever the daemon thought of the file.
import { EX_CONFIG } from '../config/load.js';
import { callDaemon, DaemonError } from '../control/client.js';
import type { ReloadResult } from '../supervisor/config-reload.js';

/** Loading and checking a config takes milliseconds; a loaded Pi may take far longer to answer. */
const RELOAD_TIMEOUT_MS = 30_000;

export async function reloadCommand(socket: string): Promise<number> {
  let result: ReloadResult;
  try {
    result = await callDaemon<ReloadResult>(socket, 'POST', '/reload', RELOAD_TIMEOUT_MS);
  } catch (err) {
    if (!(err instanceof DaemonError) || err.status !== 422) throw err;
    result = err.body as ReloadResult;
  }
  const hash = result.sha256.slice(0, 12);
  if (result.reloaded) {
    process.stdout.write(`reloaded ${result.path} (sha256 ${hash})\n`);
    return 0;
  }
  for (const line of result.problems) process.stderr.write(`${line}\n`);
  process.stderr.write(`warden: reload rejected: the daemon keeps running the config it had (sha256 ${hash})\n`);
  return EX_CONFIG;
}
