// What a task request may hold, checked once for every entry point: `warden task add` checks it
// before it writes the request file, and the daemon checks the same file with the same rules when
// it takes it in (src/tasks/local-queue.ts). A request the CLI accepts is never refused later.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Priorities: a lower number runs first. Bounded so that every value is an exact integer. */
export const PRIORITY_MIN = -1000;
export const PRIORITY_MAX = 1000;
/** The largest prompt, in bytes of UTF-8 (the worker gets it on stdin; a prompt is not a data file). */
export const MAX_PROMPT_BYTES = 256 * 1024;

export class TaskInputError extends Error {}

/** Why `priority` cannot be a task's priority, or null when it can. */
export function priorityProblem(priority: number): string | null {
  if (!Number.isInteger(priority) || priority < PRIORITY_MIN || priority > PRIORITY_MAX)
    return `the priority must be an integer from ${PRIORITY_MIN} to ${PRIORITY_MAX} (lower runs first), got ${priority}`;
  return null;
}

/** `--priority TEXT` as a number, or TaskInputError. */
export function parsePriority(text: string): number {
  if (!/^-?\d{1,10}$/.test(text.trim()))
    throw new TaskInputError(
      `--priority must be an integer from ${PRIORITY_MIN} to ${PRIORITY_MAX} (lower runs first), got ${JSON.stringify(text)}`,
    );
  const n = Number(text.trim());
  const problem = priorityProblem(n);
  if (problem) throw new TaskInputError(problem);
  return n;
}

/** Why `prompt` cannot be a task's prompt, or null when it can. */
export function promptProblem(prompt: string): string | null {
  if (prompt.trim() === '') return 'the prompt is empty';
  const bytes = Buffer.byteLength(prompt, 'utf8');
  if (bytes > MAX_PROMPT_BYTES) return `the prompt is ${bytes} bytes, over the limit of ${MAX_PROMPT_BYTES} bytes (256 KiB)`;
  // U+FFFD is what invalid UTF-8 becomes on the way in (Node decodes argv with replacement): a
  // prompt would reach the worker silently rewritten, so it is refused instead
  if (prompt.includes('\uFFFD')) return 'the prompt is not valid UTF-8 (it holds U+FFFD, the replacement for invalid bytes)';
  if (/\p{Cs}/u.test(prompt)) return 'the prompt is not valid UTF-8 (it holds a lone surrogate)';
  if (prompt.includes('\0')) return 'the prompt holds a NUL byte';
  return null;
}

/** The prompt, checked, or TaskInputError. */
export function checkPrompt(prompt: string): string {
  const problem = promptProblem(prompt);
  if (problem) throw new TaskInputError(problem);
  return prompt;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes as UTF-8, or TaskInputError: invalid bytes are refused, never replaced. */
export function decodePrompt(bytes: Uint8Array, what = 'the prompt'): string {
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    throw new TaskInputError(`${what} is not valid UTF-8`);
  }
}

/**
 * `--prompt-file FILE`: a regular file of at most MAX_PROMPT_BYTES, read with a bounded read.
 * Anything else (a FIFO, a device like /dev/zero, a directory) is refused before a byte is read:
 * the open does not wait for a FIFO's writer (O_NONBLOCK) and nothing is read past the limit.
 */
export function readPromptFile(path: string): string {
  const what = `--prompt-file ${path}`;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw new TaskInputError(`cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new TaskInputError(`${what} is not a regular file (prompts are read from regular files only)`);
    if (st.size > MAX_PROMPT_BYTES)
      throw new TaskInputError(`${what} is ${st.size} bytes, over the prompt limit of ${MAX_PROMPT_BYTES} bytes (256 KiB)`);
    const buf = Buffer.alloc(MAX_PROMPT_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > MAX_PROMPT_BYTES)
        throw new TaskInputError(`${what} is over the prompt limit of ${MAX_PROMPT_BYTES} bytes (256 KiB) (it grew while read)`);
    }
    return decodePrompt(buf.subarray(0, n), what);
  } catch (err) {
    if (err instanceof TaskInputError) throw err;
    throw new TaskInputError(`cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
