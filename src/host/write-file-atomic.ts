// The one way warden replaces a file it owns (the state, prompts, the alert memory): write a
// temporary file beside it, fsync, rename over, fsync the directory. A crash leaves the old file
// or the new one, never a torn write.
import { closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { openRegular } from './safe-open.js';

/** Atomic replace: readers see the old file or the new one, never a torn write. */
export function writeFileAtomic(path: string, data: string, mode = 0o640): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openRegular(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode); // never through a planted link
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
