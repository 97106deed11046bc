// Reads Claude Code's `--output-format stream-json --verbose` output as it arrives: one JSON event
// per line. Chunks may split a line (or a UTF-8 character) anywhere, so bytes are kept until the
// newline comes; a line longer than `maxLineBytes` is dropped rather than buffered, so a runaway
// worker cannot make warden hold its whole log. Non-JSON lines (stderr noise, warnings) and event
// types this does not know are counted and skipped, never an error.
import type { WorkerVerdict } from '../policy/verdict.js';

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const TEXT_LIMIT = 2000;
const NEWLINE = 0x0a;

export function emptyVerdict(): WorkerVerdict {
  return {
    sessionId: null,
    sawResult: false,
    subtype: null,
    isError: null,
    numTurns: null,
    totalCostUsd: null,
    durationMs: null,
    error: null,
    resultText: null,
    lastNoise: null,
    events: 0,
    noiseLines: 0,
    unknownEvents: 0,
    droppedLongLines: 0,
  };
}

export class StreamVerdictReader {
  private readonly verdict = emptyVerdict();
  /** Bytes of the line in progress (several chunks). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The line in progress ran past the limit: skip to its newline. */
  private skipping = false;
  /** The skip is a resync, not a long line: not counted as dropped. */
  private resyncing = false;

  constructor(private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1)
      throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
  }

  /** Feeds bytes; returns how many complete JSON events they finished (0 for noise only). */
  push(chunk: Uint8Array): number {
    const before = this.verdict.events;
    let start = 0;
    let fastNoise: Uint8Array | null = null;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      // fast path: a whole line in this chunk that cannot be an event is counted without a copy
      // (a worker flooding its log with plain text must not outrun the reader)
      if (nl !== -1 && this.pendingBytes === 0 && !this.skipping && nl - start <= this.maxLineBytes) {
        const kind = plainLine(chunk, start, nl);
        if (kind !== 'maybe-json') {
          if (kind === 'noise') {
            this.verdict.noiseLines++;
            fastNoise = chunk.subarray(start, nl);
          }
          start = nl + 1;
          continue;
        }
      }
      if (fastNoise !== null) this.setLastNoise(fastNoise);
      fastNoise = null;
      const end = nl === -1 ? chunk.length : nl;
      this.take(chunk.subarray(start, end));
      if (nl === -1) break;
      this.endLine();
      start = nl + 1;
    }
    if (fastNoise !== null) this.setLastNoise(fastNoise);
    return this.verdict.events - before;
  }

  private setLastNoise(line: Uint8Array): void {
    this.verdict.lastNoise = Buffer.from(line.subarray(0, TEXT_LIMIT * 4))
      .toString('utf8')
      .trim()
      .slice(0, TEXT_LIMIT);
  }

  /** The caller skipped bytes: drop the line in progress and start again at the next newline. */
  resync(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = true;
    this.resyncing = true;
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): number {
    const before = this.verdict.events;
    if (this.pendingBytes > 0 || this.skipping) this.endLine();
    return this.verdict.events - before;
  }

  result(): WorkerVerdict {
    return { ...this.verdict };
  }

  private take(part: Uint8Array): void {
    if (this.skipping || part.length === 0) return;
    if (this.pendingBytes + part.length > this.maxLineBytes) {
      this.skipping = true;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    this.pending.push(Buffer.from(part)); // a copy: the caller may reuse its read buffer
    this.pendingBytes += part.length;
  }

  private endLine(): void {
    if (this.skipping) {
      if (!this.resyncing) this.verdict.droppedLongLines++;
      this.skipping = false;
      this.resyncing = false;
      return;
    }
    const line = (this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes))
      .toString('utf8')
      .trim();
    this.pending = [];
    this.pendingBytes = 0;
    if (line.length > 0) this.line(line);
  }

  private line(text: string): void {
    const v = this.verdict;
    let event: unknown = undefined;
    if (text.startsWith('{')) {
      try {
        event = JSON.parse(text);
      } catch {
        event = undefined;
      }
    }
    if (typeof event !== 'object' || event === null || typeof (event as { type?: unknown }).type !== 'string') {
      v.noiseLines++;
      v.lastNoise = text.slice(0, TEXT_LIMIT);
      return;
    }
    v.events++;
    const e = event as Record<string, unknown>;
    if (typeof e.session_id === 'string') v.sessionId = e.session_id;
    switch (e.type) {
      case 'system':
      case 'user':
      case 'stream_event':
        return;
      case 'assistant':
        if (typeof e.error === 'string') v.error = e.error;
        return;
      case 'result':
        v.sawResult = true;
        if (typeof e.subtype === 'string') v.subtype = e.subtype;
        if (typeof e.is_error === 'boolean') v.isError = e.is_error;
        if (isCount(e.num_turns)) v.numTurns = e.num_turns;
        if (typeof e.total_cost_usd === 'number' && Number.isFinite(e.total_cost_usd) && e.total_cost_usd >= 0)
          v.totalCostUsd = e.total_cost_usd;
        if (isCount(e.duration_ms)) v.durationMs = e.duration_ms;
        v.resultText = typeof e.result === 'string' ? e.result.slice(0, TEXT_LIMIT) : v.resultText;
        return;
      default:
        v.unknownEvents++;
    }
  }
}

/** A line's first non-blank byte: blank, plain ASCII text (noise), or possibly an event (`{`, or non-ASCII the slow path trims). */
function plainLine(chunk: Uint8Array, start: number, end: number): 'blank' | 'noise' | 'maybe-json' {
  for (let i = start; i < end; i++) {
    const c = chunk[i] as number;
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0b || c === 0x0c) continue;
    return c === 0x7b || c >= 0x80 ? 'maybe-json' : 'noise';
  }
  return 'blank';
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0;
}
