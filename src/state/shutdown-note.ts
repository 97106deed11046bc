// The shutdown note: a small file (`<state_dir>/shutdown.note`) reserved at start, filled with
// spaces, and overwritten in place when a shutdown cannot save the state (a full disk). It lists
// the attempts warden itself stopped, so the next start records them as interrupted (no attempt
// charged) instead of reading their SIGTERM as a failure. Overwriting blocks the file already owns
// needs no free space and no inode. An attempt is named by task, attempt number and claim time,
// so a stale note can never match a later attempt with the same (refunded) number.
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { reserveFile } from '../executors/run-files.js';

/** Room for 64 workers (the most max_concurrent_workers allows) with 64-character task IDs. */
export const SHUTDOWN_NOTE_BYTES = 16 * 1024;

const noteSchema = z.object({
  stoppedAt: z.number(),
  attempts: z.array(z.object({ taskId: z.string(), attempt: z.number(), claimedAt: z.number() })),
});
export type ShutdownNote = z.infer<typeof noteSchema>;
export type StoppedAttempt = ShutdownNote['attempts'][number];

export function shutdownNotePath(stateDir: string): string {
  return join(stateDir, 'shutdown.note');
}

/** The note's text, padded with spaces to the reserved size; null when it does not fit. */
export function encodeShutdownNote(note: ShutdownNote, size = SHUTDOWN_NOTE_BYTES): Buffer | null {
  const text = Buffer.from(JSON.stringify(note) + '\n');
  if (text.length > size) return null;
  const buf = Buffer.alloc(size, 0x20);
  text.copy(buf);
  return buf;
}

/** The note in a file's text, or null when it holds none (only spaces) or cannot be read. */
export function decodeShutdownNote(text: string): ShutdownNote | null {
  const t = text.trim();
  if (t === '') return null;
  try {
    const r = noteSchema.safeParse(JSON.parse(t));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/** At start: the note a previous shutdown left, or null (none, or only the reserved spaces). */
export function readShutdownNote(stateDir: string): ShutdownNote | null {
  try {
    return decodeShutdownNote(readFileSync(shutdownNotePath(stateDir), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Reserves the note's file (spaces), which also clears a note already read and applied. Returns
 * the error when there is no room for it; warden then runs on without the note.
 */
export function reserveShutdownNote(stateDir: string): string | null {
  try {
    reserveFile(shutdownNotePath(stateDir), SHUTDOWN_NOTE_BYTES);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** At a shutdown whose state could not be saved: writes the note into the reserved file, in place. */
export function writeShutdownNote(stateDir: string, note: ShutdownNote): void {
  const buf = encodeShutdownNote(note) ?? encodeShutdownNote({ ...note, attempts: note.attempts.slice(0, 64) });
  if (buf === null) throw new Error('the shutdown note does not fit its reserved size');
  const fd = openSync(shutdownNotePath(stateDir), 'r+');
  try {
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
