// The worker wrapper's pid and exit files (`<runBase>.pid`, `<runBase>.exit`), reserved before
// the worker starts. warden creates both, filled with spaces, and the wrapper overwrites them in
// place (`1<>`, no truncation): writing into blocks the file already owns needs no new block and
// no new inode, so the wrapper can record how the worker ended even when the disk filled up while
// it ran. Without that record a restarted warden could not tell a success from a lost worker.
// (A copy-on-write filesystem such as btrfs may still need space for an in-place write.)
import { chownSync, closeSync, fsyncSync, openSync, statSync, writeSync } from 'node:fs';
import type { UserIds } from '../host/users.js';

/** Bytes reserved for `<runBase>.pid`: a PID and a newline. */
export const PID_RESERVE = 32;
/** Bytes reserved for `<runBase>.exit`: `<rc> oom_kill=N peak=N limit=N` with 20-digit numbers fits. */
export const EXIT_RESERVE = 256;

/** A file of `size` bytes of spaces (a newline last), written in place when it already has that size. */
export function reserveFile(path: string, size: number, owner: UserIds | null = null): void {
  let inPlace = false;
  try {
    inPlace = statSync(path).size >= size;
  } catch {
    /* absent: created below */
  }
  const fd = openSync(path, inPlace ? 'r+' : 'w', 0o600);
  try {
    const buf = Buffer.alloc(size, 0x20);
    buf[size - 1] = 0x0a;
    for (let off = 0; off < size;) off += writeSync(fd, buf, off, size - off, off);
    fsyncSync(fd);
    if (owner) chownSync(path, owner.uid, owner.gid);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reserves both run files for an attempt. Throws (ENOSPC, EDQUOT) when the disk has no room for
 * them: the worker is then not started, since its outcome could not be recorded.
 */
export function reserveRunFiles(runBase: string, owner: UserIds | null = null): void {
  reserveFile(`${runBase}.pid`, PID_RESERVE, owner);
  reserveFile(`${runBase}.exit`, EXIT_RESERVE, owner);
}
