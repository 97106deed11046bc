// An append-only file of JSON lines with one generation of rotation: `<name>.jsonl` grows to
// maxBytes, then becomes `<name>.old.jsonl` (replacing the previous one) and a new file starts. On
// disk there are never more than 2 x maxBytes plus one line. Nothing here touches the task state:
// a crash in the middle of an append leaves at worst a torn last line, which the reader skips and
// `repair` cuts off at the next start so the next append begins on a line of its own.
// No fsync: a history point lost to a power cut costs nothing, and every fsync is a write the SD
// card pays for.
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, readSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openRegular, readRegularOrNull } from '../host/safe-open.js';

const { O_APPEND, O_CREAT, O_RDWR, O_WRONLY } = constants;

export class RotatingLog {
  readonly path: string;
  readonly oldPath: string;
  private size = 0;

  constructor(
    dir: string,
    name: string,
    readonly maxBytes: number,
  ) {
    this.path = join(dir, `${name}.jsonl`);
    this.oldPath = join(dir, `${name}.old.jsonl`);
  }

  /**
   * At start: cut a torn last line (a crash during an append) and learn the file's size. Returns
   * the bytes cut. A missing file is fine; an unsafe one (symlink, FIFO) throws UnsafeFileError.
   */
  repair(): number {
    const fd = openRegular(this.path, O_RDWR | O_CREAT, 0o640);
    try {
      const size = fstatSync(fd).size;
      let keep = size;
      if (size > 0) {
        // look back for the last newline, in blocks; a file without one is all torn line
        const buf = Buffer.alloc(4096);
        let end = size;
        keep = 0;
        search: while (end > 0) {
          const start = Math.max(0, end - buf.length);
          const n = readSync(fd, buf, 0, end - start, start);
          for (let i = n - 1; i >= 0; i--) {
            if (buf[i] === 0x0a) {
              keep = start + i + 1;
              break search;
            }
          }
          end = start;
        }
        if (keep < size) ftruncateSync(fd, keep);
      }
      this.size = keep;
      return size - keep;
    } finally {
      closeSync(fd);
    }
  }

  /** Appends one line (a single write: O_APPEND keeps it whole against other appends). Returns its bytes. */
  append(line: string): number {
    const data = Buffer.from(line.endsWith('\n') ? line : line + '\n', 'utf8');
    if (this.size > 0 && this.size + data.length > this.maxBytes) {
      renameSync(this.path, this.oldPath);
      this.size = 0;
    }
    const fd = openRegular(this.path, O_WRONLY | O_APPEND | O_CREAT, 0o640);
    try {
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
    this.size += data.length;
    return data.length;
  }

  /** Every whole line, oldest first (the rotated file, then the current one). Torn or missing: skipped. */
  lines(): string[] {
    const out: string[] = [];
    for (const p of [this.oldPath, this.path]) {
      const text = readRegularOrNull(p, 'utf8');
      if (text === null) continue;
      const parts = text.split('\n');
      parts.pop(); // after the last newline: empty, or a torn line still being written
      out.push(...parts);
    }
    return out;
  }

  /** Bytes on disk now (both generations). */
  diskBytes(): number {
    let old = 0;
    try {
      old = lstatSync(this.oldPath).size;
    } catch {
      old = 0;
    }
    return this.size + old;
  }
}
