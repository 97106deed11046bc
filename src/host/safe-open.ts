// Opening files under state_dir without being fooled by what sits there. A FIFO named like a queue
// request would block a plain open (and with it the event loop, the heartbeats, the daemon); a
// symlink planted as a log or a run file would make warden write or read outside state_dir, as
// root. So warden opens nothing under state_dir that is not a regular file or a directory it
// made: `lstat` first (a special file is never opened at all), then open with O_NOFOLLOW |
// O_NONBLOCK (a swap after the lstat still cannot follow a link or block), then `fstat` the fd.
// Only the last component is protected against a swap: the directories above are checked with
// lstat just before, and state_dir itself is root's (0711), so nobody else can swap them.
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, type Stats } from 'node:fs';

const { O_NOFOLLOW, O_NONBLOCK, O_RDONLY } = constants;

/** A path under state_dir that is a symlink, FIFO, socket, device or other non-regular file. */
export class UnsafeFileError extends Error {
  readonly code = 'EUNSAFE';
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeFileError';
  }
}

export function fileKind(st: Stats): string {
  if (st.isSymbolicLink()) return 'symbolic link';
  if (st.isFIFO()) return 'FIFO';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isDirectory()) return 'directory';
  return st.isFile() ? 'regular file' : 'special file';
}

function refuse(path: string, kind: string, want: string): UnsafeFileError {
  return new UnsafeFileError(`${path} is a ${kind}, not a ${want}; warden does not follow or open it`);
}

/**
 * Opens `path` only if it is (or, with O_CREAT, becomes) a regular file. Throws UnsafeFileError
 * for anything else; other errors (ENOENT, EACCES) pass through unchanged. O_NONBLOCK has no
 * effect on a regular file's reads and writes.
 */
export function openRegular(path: string, flags: number = O_RDONLY, mode = 0o640): number {
  let before: Stats | null = null;
  try {
    before = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (before && !before.isFile()) throw refuse(path, fileKind(before), 'regular file');
  let fd: number;
  try {
    fd = openSync(path, flags | O_NOFOLLOW | O_NONBLOCK, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP: a symlink appeared after the lstat; ENXIO: a FIFO with no reader, or a socket
    if (code === 'ELOOP') throw refuse(path, 'symbolic link', 'regular file');
    if (code === 'ENXIO') throw refuse(path, 'FIFO or socket', 'regular file');
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw refuse(path, fileKind(st), 'regular file');
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** The whole of a regular file (see openRegular); a file larger than `maxBytes` is an error. */
export function readRegular(path: string, maxBytes = 64 * 1024 * 1024): Buffer {
  const fd = openRegular(path);
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      total += n;
      if (total > maxBytes) throw new UnsafeFileError(`${path} is larger than ${maxBytes} bytes; not read`);
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

export function readRegularText(path: string, encoding: BufferEncoding = 'utf8'): string {
  return readRegular(path).toString(encoding);
}

/** readRegularText, or null when the file is missing, unreadable or not a regular file. */
export function readRegularOrNull(path: string, encoding: BufferEncoding = 'latin1'): string | null {
  try {
    return readRegularText(path, encoding);
  } catch {
    return null;
  }
}

/** Throws unless `path` is a real directory (not a symlink to one). ENOENT passes through. */
export function checkRealDir(path: string): void {
  const st = lstatSync(path);
  if (!st.isDirectory()) throw refuse(path, fileKind(st), 'directory');
}

/**
 * Makes `root/parts[0]/parts[1]/...` one level at a time, checking each level is a real directory
 * (a symlink planted at any level is refused, never followed). `root` itself is the admin's
 * choice (state_dir may be a symlink) and is made with mkdir -p. Returns the full path.
 */
export function ensureDirsUnder(root: string, parts: string[], mode = 0o750): string {
  mkdirSync(root, { recursive: true, mode: 0o711 });
  let path = root;
  for (const part of parts) {
    path = `${path}/${part}`;
    try {
      mkdirSync(path, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    checkRealDir(path);
  }
  return path;
}
