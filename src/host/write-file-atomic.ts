// The one way warden replaces a file it owns (the state, prompts, the alert memory): write a
// temporary file beside it, fsync, rename over, fsync the directory. A crash leaves the old file
// or the new one, never a torn write. A write that fails (a full disk: ENOSPC, EDQUOT) removes its
// temporary file and leaves the old file as it was, so a failed write leaves nothing behind.
import {
  closeSync,
  constants,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { openRegular } from './safe-open.js';

/** The temporary files writeFileAtomic makes beside `path` are named `<path>.tmp-<pid>`. */
export const ATOMIC_TMP_MARK = '.tmp-';

/** Atomic replace: readers see the old file or the new one, never a torn write. */
export function writeFileAtomic(path: string, data: string, mode = 0o640): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}${ATOMIC_TMP_MARK}${process.pid}`;
  const fd = openRegular(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode); // never through a planted link
  try {
    try {
      keepGroup(path, fd);
      writeAll(fd, Buffer.from(data));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/**
 * The new file keeps the group of the one it replaces: a state file given to `[control] group`
 * (src/state/group-access.ts), or by hand, stays readable by that group across writes.
 */
function keepGroup(path: string, fd: number): void {
  try {
    const old = lstatSync(path);
    if (old.isFile() && old.gid !== fstatSync(fd).gid) fchownSync(fd, -1, old.gid);
  } catch {
    // no old file, or not allowed to: the new file keeps the default group
  }
}

/** writeSync may write less than asked (a disk filling up mid-write); loop until all is written. */
function writeAll(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
}

/** Is this error (or its cause) the disk being full: no space, no inodes, or over quota? */
export function isDiskFull(err: unknown): boolean {
  const e = err as (NodeJS.ErrnoException & { cause?: unknown }) | null;
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') return true;
  return e?.cause !== undefined && isDiskFull(e.cause);
}
