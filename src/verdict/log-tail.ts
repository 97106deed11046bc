// Follows a worker's attempt log while the worker writes it, and feeds it to the verdict reader.
//
// Why tail the file rather than read a pipe: the worker's stdout and stderr are the log file itself
// (an fd warden opens and the worker inherits). That is what lets a worker outlive a warden
// restart and be adopted, and what keeps systemd scopes independent of warden's process. A pipe
// would die with warden (and SIGPIPE the worker). So warden reads the file from a remembered
// position, on inotify (fs.watch), in fixed-size reads: memory stays bounded whatever the log's
// size. A poll replaces inotify only where fs.watch fails; where inotify misses an event (some
// network filesystems), the stall check drains the log before it decides (src/supervisor.ts).
//
// The running attempt's cap (worker.log_max): once warden has read the log past `capBytes`, it
// cuts the file back to its first `capBytes / 2` bytes and a one-line marker. The worker's fd is
// O_APPEND, so its next writes land after the marker: the file keeps the start and the tail. The
// cut removes only bytes warden has already fed to the verdict reader, so the reader sees the
// worker's whole stream. The one race: bytes the worker appends between warden's last size check
// and the ftruncate (two back-to-back syscalls) are cut unread. warden narrows it by re-reading
// until a size check right before the cut finds nothing new; see README "Reliability".
import { closeSync, constants, fstatSync, ftruncateSync, readSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { openRegular } from '../host/safe-open.js';
import { cutMarker } from '../log/attempt-logs.js';
import type { WorkerVerdict } from '../policy/verdict.js';
import { StreamVerdictReader } from './stream-reader.js';

const READ_SIZE = 64 * 1024;
/** Reads per drain before yielding to the event loop: a worker writing faster than warden reads must not starve it. */
const READS_PER_DRAIN = 256;
/** Copy rounds of a cut while the worker keeps writing; after them warden truncates anyway. */
const CUT_COPY_ROUNDS = 64;

export interface LogTailOptions {
  /** Where the attempt's output starts (the log is appended to when an attempt number repeats). */
  fromOffset: number;
  /** The poll's period where fs.watch cannot watch the log. */
  pollMs?: number;
  maxLineBytes?: number;
  now?: () => number;
  /** worker.log_max: cut the running log back to its head once it grows past this. Absent: no cap. */
  capBytes?: number;
  /** Called once, at the first cut (for one log line per attempt, not one per cut). */
  onFirstCut?: (removedBytes: number) => void;
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
  private readonly capBytes: number | null;
  private readonly onFirstCut: ((removedBytes: number) => void) | null;
  private again: NodeJS.Immediate | null = null;
  /** When the last complete JSON event arrived (or the tail started). */
  lastEventAt: number;
  /** Cuts made, bytes cut, and the largest size the log was seen at (for tests and status). */
  readonly cuts = { count: 0, bytes: 0, maxSeen: 0, skipped: 0, lost: 0 };

  constructor(
    private readonly path: string,
    opts: LogTailOptions,
  ) {
    this.reader = new StreamVerdictReader(opts.maxLineBytes);
    this.position = opts.fromOffset;
    this.now = opts.now ?? Date.now;
    this.capBytes = opts.capBytes ?? null;
    this.onFirstCut = opts.onFirstCut ?? null;
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

  /** Reads whatever the worker wrote since the last read (a bounded amount per call), cutting the log at its cap. */
  drain(all = false): void {
    if (this.closed) return;
    try {
      // never through a symlink, never blocking on a FIFO planted as the log
      this.fd ??= openRegular(this.path);
      for (let reads = 0; ; reads++) {
        if (!all && reads >= READS_PER_DRAIN) {
          // more to read: go on after other events had their turn
          this.again ??= setImmediate(() => {
            this.again = null;
            this.drain();
          });
          return;
        }
        const n = this.readMore();
        // past the cap: cut now, not only at EOF (a worker that writes as fast as warden reads never lets it reach EOF)
        if (this.capBytes !== null && this.position > this.capBytes) {
          this.cut();
          continue;
        }
        if (n > 0) continue;
        break;
      }
    } catch {
      // the log is not there yet, or was capped away: the next event or poll tries again
    }
  }

  private readMore(): number {
    const n = readSync(this.fd as number, this.buf, 0, READ_SIZE, this.position);
    if (n <= 0) return 0;
    this.position += n;
    this.cuts.maxSeen = Math.max(this.cuts.maxSeen, this.position);
    if (this.reader.push(this.buf.subarray(0, n)) > 0) this.lastEventAt = this.now();
    return n;
  }

  /**
   * The log passed its cap: keep [0, head), then the marker, then the newest bytes (at most a
   * quarter of the cap, from the start of a line where the parsed part has one), and cut the rest.
   * The kept tail holds the newest output whether or not it was parsed yet: the final `result`
   * event stays in the file even when warden had read it before the cut. Its parsed part is not
   * parsed again. The kept tail is copied down with plain (non-append) writes below the current
   * end, so the worker's appends are never overwritten; the size is checked again right before the
   * ftruncate, and whatever arrived is copied too. Unparsed bytes older than the kept tail (a
   * worker writing faster than warden parses) are skipped, counted in `cuts.skipped`.
   */
  private cut(): void {
    const cap = this.capBytes as number;
    const fd = this.fd as number;
    const head = Math.floor(cap / 2);
    const tailKeep = Math.floor(cap / 4);
    const wfd = openRegular(this.path, constants.O_WRONLY);
    let from = 0; // the first byte of the kept tail; [head, from) is cut
    let markerBytes = 0;
    let end = 0; // where the copied tail ends in the file
    let have = 0; // the original offset copied up to
    const restartAt = (at: number) => {
      from = at;
      const marker = Buffer.from(cutMarker(from - head));
      writeSync(wfd, marker, 0, marker.length, head);
      markerBytes = marker.length;
      end = head + marker.length;
      have = from;
    };
    try {
      restartAt(this.lineStartFrom(Math.max(head, fstatSync(fd).size - tailKeep)));
      for (let round = 0; ; round++) {
        const size = fstatSync(fd).size;
        // nothing new since the last copy: truncate at once (this fstat and the ftruncate are the race of README "Reliability")
        if (size <= have) break;
        if (round >= CUT_COPY_ROUNDS) {
          this.cuts.lost += size - have;
          break;
        }
        // the worker got ahead by more than the kept tail: skip to its newest bytes instead
        if (size - have > tailKeep) restartAt(size - tailKeep);
        const chunk = this.readRange(have, size);
        writeSync(wfd, chunk, 0, chunk.length, end);
        end += chunk.length;
        have += chunk.length;
      }
      ftruncateSync(wfd, end);
    } finally {
      closeSync(wfd);
    }
    const parsedKept = Math.max(0, this.position - from); // the kept tail's bytes already parsed
    if (from > this.position) {
      this.cuts.skipped += from - this.position;
      this.reader.resync();
    }
    this.position = head + markerBytes + parsedKept; // the copied tail is parsed from here on
    this.cuts.count++;
    this.cuts.bytes += from - head;
    if (this.cuts.count === 1) this.onFirstCut?.(from - head);
  }

  /**
   * Where a kept tail that would start at `at` starts a line: after the first newline in the parsed
   * bytes [at, position). Past the parsed part, `at` as it is (the reader skips to a line start there).
   */
  private lineStartFrom(at: number): number {
    // read in READ_SIZE pieces up to the first newline only: the kept tail is copied afterwards anyway
    for (let from = at; from < this.position;) {
      const n = readSync(this.fd as number, this.buf, 0, Math.min(READ_SIZE, this.position - from), from);
      if (n <= 0) break;
      const nl = this.buf.subarray(0, n).indexOf(0x0a);
      if (nl !== -1) return from + nl + 1;
      from += n;
    }
    return at;
  }

  private readRange(from: number, to: number): Buffer {
    const out = Buffer.allocUnsafe(Math.max(0, to - from));
    let got = 0;
    while (got < out.length) {
      const n = readSync(this.fd as number, out, got, out.length - got, from + got);
      if (n <= 0) break;
      got += n;
    }
    return out.subarray(0, got);
  }

  /** The worker has exited: read the rest, stop following, and give the verdict. */
  finish(): WorkerVerdict {
    this.drain(true);
    if (!this.closed && this.reader.end() > 0) this.lastEventAt = this.now();
    this.close();
    return this.reader.result();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    if (this.again) clearImmediate(this.again);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
