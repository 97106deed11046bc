// One daemon per state directory. The daemon holds an abstract-namespace unix socket named after
// the state directory's real path for its whole life, taken before the state is read or a worker
// adopted. The kernel releases the name when the process dies, even by kill -9, so there is no
// stale lock to clean up, and it needs no native code (Node has no flock). The holder answers a
// connection with its pid on one line, so a refused daemon can say who holds the state.
// Limits: the abstract namespace is per network namespace (two daemons in different netns are not
// detected; the shipped unit sets no PrivateNetwork=), and any local user can bind the name first.
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { ensureStateDir } from './store.js';

export interface StateLock {
  /** The abstract socket's name, without the leading NUL (for messages and tests). */
  readonly name: string;
  release(): Promise<void>;
}

/** Another process holds the state directory's lock. `pid` is what the holder answered, or null. */
export class StateLocked extends Error {
  constructor(
    readonly stateDir: string,
    readonly pid: number | null,
  ) {
    super(
      pid === null
        ? `another process holds the lock on ${stateDir} (it did not answer with a warden pid); not starting a second daemon`
        : `another warden daemon (pid ${pid}) holds ${stateDir}; not starting a second one`,
    );
    this.name = 'StateLocked';
  }
}

/** The abstract socket name for a state directory: one per real path (symlinks and `..` resolved). */
export function lockName(realStateDir: string): string {
  return `warden-state-${createHash('sha256').update(realStateDir).digest('hex').slice(0, 32)}`;
}

/** How often a refused start retries when the holder vanished between its bind and our question. */
const RETRIES = 5;

/**
 * Takes the lock on `stateDir` (created if missing, mode 0711), or throws StateLocked naming the
 * holder's pid. Other errors (say, the directory cannot be created) are thrown as they are.
 */
export async function acquireStateLock(stateDir: string): Promise<StateLock> {
  ensureStateDir(stateDir);
  const name = lockName(realpathSync(stateDir));
  for (let attempt = 0; ; attempt++) {
    const server = createServer((sock) => {
      sock.on('error', () => {});
      sock.end(`${process.pid}\n`);
    });
    const err = await listen(server, `\0${name}`);
    if (err === null) {
      server.unref(); // the lock never keeps a process alive by itself
      return {
        name,
        release: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }
    if (err.code !== 'EADDRINUSE') throw err;
    const holder = await askHolder(name);
    // the holder died between our bind and the question: the name is free again, try once more
    if (holder === 'gone' && attempt < RETRIES) continue;
    throw new StateLocked(stateDir, typeof holder === 'number' ? holder : null);
  }
}

function listen(server: Server, path: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen(path, () => resolve(null));
  });
}

/** The holder's pid; 'gone' when nobody listens any more; null when the answer is not a pid. */
function askHolder(name: string, timeoutMs = 2000): Promise<number | 'gone' | null> {
  return new Promise((resolve) => {
    const s = connect(`\0${name}`);
    let text = '';
    const done = (v: number | 'gone' | null) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(null));
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (text.length > 64) done(null);
    });
    s.on('end', () => {
      const m = /^(\d{1,10})\n?$/.exec(text);
      done(m ? Number(m[1]) : null);
    });
    s.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'gone' : null));
  });
}
