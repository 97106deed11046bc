// Follows a worker's attempt log while the worker writes it, and feeds it to the verdict reader.
//
// Why tail the file rather than read a pipe: the worker's stdout and stderr are the log file itself
// (an fd warden opens and the worker inherits). That is what lets a worker outlive a warden
// restart and be adopted, and what keeps systemd scopes independent of warden's process. A pipe
// would die with warden (and SIGPIPE the worker). So warden reads the file from a remembered
// position, on inotify (fs.watch), in fixed-size reads: memory stays bounded whatever the log's
// size. A poll replaces inotify only where fs.watch fails; where inotify misses an event (some
// network filesystems), the stall check drains the log before it decides (src/supervisor.ts).
import { closeSync, openSync, readSync, watch, type FSWatcher } from 'node:fs';
import type { WorkerVerdict } from '../policy/verdict.js';
import { StreamVerdictReader } from './stream-reader.js';

const READ_SIZE = 64 * 1024;

export interface LogTailOptions {
  /** Where the attempt's output starts (the log is appended to when an attempt number repeats). */
  fromOffset: number;
  /** The poll's period where fs.watch cannot watch the log. */
  pollMs?: number;
  maxLineBytes?: number;
  now?: () => number;
}

export class LogTail {
  private readonly reader: StreamVerdictReader;
  private position: number;
  private fd: number | null = null;
  private watcher: FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly buf = Buffer.allocUnsafe(READ_SIZE);
  private readonly now: () => number;
  /** When the last complete JSON event arrived (or the tail started). */
  lastEventAt: number;

  constructor(
    private readonly path: string,
    opts: LogTailOptions,
  ) {
    this.reader = new StreamVerdictReader(opts.maxLineBytes);
    this.position = opts.fromOffset;
    this.now = opts.now ?? Date.now;
    this.lastEventAt = this.now();
    const pollMs = opts.pollMs ?? 1000;
    try {
      this.watcher = watch(path, () => this.drain());
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
        this.startPoll(pollMs);
      });
    } catch {
      this.watcher = null;
      this.startPoll(pollMs);
    }
    this.drain();
  }

  /** Without inotify on the log, read it on a timer instead. With it, no timer: an idle worker costs no wakeup. */
  private startPoll(ms: number): void {
    if (this.closed || this.poll) return;
    this.poll = setInterval(() => this.drain(), ms);
    this.poll.unref();
  }

  /** Reads whatever the worker wrote since the last read. */
  drain(): void {
    if (this.closed) return;
    try {
      this.fd ??= openSync(this.path, 'r');
      for (;;) {
        const n = readSync(this.fd, this.buf, 0, READ_SIZE, this.position);
        if (n <= 0) break;
        this.position += n;
        if (this.reader.push(this.buf.subarray(0, n)) > 0) this.lastEventAt = this.now();
      }
    } catch {
      // the log is not there yet, or was capped away: the next event or poll tries again
    }
  }

  /** The worker has exited: read the rest, stop following, and give the verdict. */
  finish(): WorkerVerdict {
    this.drain();
    if (!this.closed && this.reader.end() > 0) this.lastEventAt = this.now();
    this.close();
    return this.reader.result();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
