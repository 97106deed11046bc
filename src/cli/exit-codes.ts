// Every exit code of the `warden` command, declared once. README.md's exit-code table is checked
// against this list (test/unit/cli/exit-codes.test.ts). The numbers above 63 are sysexits.h's.
import { EX_CONFIG } from '../config/load.js';
import { EX_NOPERM } from '../host/permission.js';

export const EX_USAGE = 2;
export const EX_NOT_RUNNING = 3;
/** sysexits' EX_UNAVAILABLE: `fleet status` could not read etcd. */
export const EX_UNAVAILABLE = 69;
/** sysexits' EX_IOERR: a file could not be written (a full disk). */
export const EX_IOERR = 74;
/** sysexits' EX_TEMPFAIL: `warden run` refused, another daemon holds the state directory. The shipped unit does not restart on it. */
export const EX_LOCKED = 75;

export const EXIT_CODES: readonly { code: number; meaning: string }[] = [
  { code: 0, meaning: 'ok; also when the reader of the output stopped reading (`warden logs t` piped into `head`)' },
  {
    code: 1,
    meaning: 'an unexpected error (one line, never a stack trace); `doctor`: a check failed; `alert test`: a channel failed',
  },
  {
    code: EX_USAGE,
    meaning:
      'usage error: an unknown command or option (with "did you mean"), a missing or extra argument, bad input to `task add`, a task command the state of the task refuses, `pause`/`resume --node` naming no node of the fleet',
  },
  {
    code: EX_NOT_RUNNING,
    meaning:
      'the daemon is not running (no one answers on the control socket); `status`, `tasks` and `task show` printed the state file instead',
  },
  { code: EX_UNAVAILABLE, meaning: '`EX_UNAVAILABLE`: `fleet status` could not read etcd (no endpoint answered in time)' },
  { code: EX_IOERR, meaning: '`EX_IOERR`: `task add` could not write its request (a full disk; nothing is left behind)' },
  {
    code: EX_LOCKED,
    meaning: '`EX_TEMPFAIL`: `warden run` refused, another daemon holds the state directory or listens on the control socket',
  },
  {
    code: EX_NOPERM,
    meaning:
      '`EX_NOPERM`: permission denied (the config, the control socket, the queue, the logs): one line naming the path and the fix, e.g. `add yourself to group warden: sudo usermod -aG warden $USER`',
  },
  {
    code: EX_CONFIG,
    meaning:
      '`EX_CONFIG`: a bad config (one line per problem; also `warden reload` of a config the daemon rejected), an unreadable state file, a control socket or port that cannot be listened on',
  },
];
