// The local task queue. `warden task add` must work whether or not the daemon runs, but only the
// daemon writes the state file (one writer, no lost updates). So the CLI drops a request file into
// `<state_dir>/queue/`, created exclusively and renamed into place; the daemon ingests it into the
// state on its next poll and only then removes it. A request is never lost between the two.
// The per-task commands (`warden task retry|cancel|remove|priority`) queue the same way while the
// daemon is down, as `+<addedAt>-<pid>-<id>.<command>.json`: `+` is not allowed in a task ID, so
// such a name never collides with an add request's `<id>.json`. The daemon applies the queue in
// `addedAt` order, adds and commands alike.
import {
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isPermissionError, permissionDenied } from '../host/permission.js';
import { ensureDirsUnder, readRegularText } from '../host/safe-open.js';
import { writeFileAtomic } from '../host/write-file-atomic.js';
import { ensureStateDir } from '../state/store.js';
import { TASK_COMMANDS, type TaskCommandRequest } from '../policy/task-commands.js';
import { priorityProblem, promptProblem } from './task-input.js';
import { checkTaskId } from './task-id.js';

// The one check of a request, for `task add` (enqueueTask) and the daemon (readQueue) alike
const requestSchema = z.strictObject({
  id: z.string(),
  prompt: z.string().superRefine((p, ctx) => {
    const problem = promptProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  priority: z.number().superRefine((n, ctx) => {
    const problem = priorityProblem(n);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  addedAt: z.number(),
});
export type TaskRequest = z.infer<typeof requestSchema>;

const prioritySchema = z.number().superRefine((n, ctx) => {
  const problem = priorityProblem(n);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A per-task command queued while the daemon was down. */
const commandSchema = z.union([
  z.strictObject({
    command: z.enum(TASK_COMMANDS.filter((c) => c !== 'priority') as ['retry', 'cancel', 'remove']),
    id: z.string(),
    addedAt: z.number(),
  }),
  z.strictObject({ command: z.literal('priority'), id: z.string(), priority: prioritySchema, addedAt: z.number() }),
]);
export type QueuedCommand = z.infer<typeof commandSchema>;

/** A queued command as the daemon applies it. */
export function commandRequest(cmd: QueuedCommand): TaskCommandRequest {
  return cmd.command === 'priority' ? { command: 'priority', priority: cmd.priority } : { command: cmd.command };
}

/** Command files start with this; a task ID never does. */
const COMMAND_PREFIX = '+';

export function queueDir(stateDir: string): string {
  return join(stateDir, 'queue');
}

export function promptDir(stateDir: string): string {
  return join(stateDir, 'prompts');
}

export class QueueError extends Error {}

/** The disk refused the request file (no space, no inodes): nothing was queued and nothing is left behind. */
export class QueueWriteError extends Error {}

/** A `.ID.json.tmp` older than this was left by a command that died; it no longer blocks the ID. */
export const QUEUE_TMP_STALE_MS = 60_000;

/** Enqueues a task request; refuses an invalid request (the daemon's own check) or one already queued. */
export function enqueueTask(stateDir: string, req: TaskRequest): string {
  const check = checkTaskId(req.id);
  if (!check.ok) throw new QueueError(check.error);
  const parsed = requestSchema.safeParse(req);
  if (!parsed.success) throw new QueueError(parsed.error.issues.map((i) => i.message).join('; '));
  return writeRequest(stateDir, `${req.id}.json`, req.id, req, (final) => {
    if (existsSync(final)) throw new QueueError(`task ${req.id} is already queued (${final})`);
  });
}

/** Queues a per-task command for the daemon's next start; several for one task queue in order. */
export function enqueueCommand(stateDir: string, cmd: QueuedCommand, pid = process.pid): string {
  const check = checkTaskId(cmd.id);
  if (!check.ok) throw new QueueError(check.error);
  const parsed = commandSchema.safeParse(cmd);
  if (!parsed.success) throw new QueueError(parsed.error.issues.map((i) => i.message).join('; '));
  return writeRequest(stateDir, `${COMMAND_PREFIX}${cmd.addedAt}-${pid}-${cmd.id}.${cmd.command}.json`, cmd.id, cmd, () => {});
}

/** Writes one request file: exclusively to `.<name>.tmp`, fsynced, renamed into place. */
function writeRequest(stateDir: string, name: string, id: string, body: unknown, precheck: (final: string) => void): string {
  const dir = queueDir(stateDir);
  const final = join(dir, name);
  const tmp = join(dir, `.${name}.tmp`);
  let created = false;
  try {
    ensureStateDir(stateDir);
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    precheck(final);
    const fd = openExclusive(tmp, id);
    created = true;
    try {
      const buf = Buffer.from(JSON.stringify(body) + '\n');
      for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, final);
    return final;
  } catch (err) {
    if (created) rmSync(tmp, { force: true }); // a failed add leaves nothing behind
    if (err instanceof QueueError) throw err;
    if (isPermissionError(err)) throw permissionDenied(dir, 'queue a task in'); // README "Non-root use"
    const e = err as NodeJS.ErrnoException;
    throw new QueueWriteError(
      `cannot queue task ${id} in ${dir}: ${e.code === 'ENOSPC' ? 'the disk is full (no space or no inodes left)' : e.message}; nothing was queued`,
    );
  }
}

/** Creates the request's temporary file; one that a dead command left long ago is taken over. */
function openExclusive(tmp: string, id: string): number {
  const open = () => openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o640);
  try {
    return open();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let age = 0;
  try {
    age = Date.now() - statSync(tmp).mtimeMs;
  } catch {
    return open(); // removed meanwhile
  }
  if (age <= QUEUE_TMP_STALE_MS) throw new QueueError(`task ${id} is being queued by another command`);
  rmSync(tmp, { force: true });
  return open();
}

export interface QueueEntry {
  file: string;
  /** An add request (`warden task add`), or null. */
  request: TaskRequest | null;
  /** A per-task command, or null. */
  command: QueuedCommand | null;
  /** Why the file could not be read as either; null when it was. */
  error: string | null;
}

/**
 * Lists queued requests, oldest first. Unreadable entries are reported, never dropped. Anything
 * that is not a regular file (a FIFO, a symlink, a directory named like a request) is reported
 * unread: a blocking open of a FIFO would stop the daemon's event loop.
 */
export function readQueue(stateDir: string): QueueEntry[] {
  const dir = queueDir(stateDir);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const entries = names.map((name): QueueEntry => {
    const file = join(dir, name);
    const none = { file, request: null, command: null };
    try {
      const doc: unknown = JSON.parse(readRegularText(file, 'utf8'));
      const isCommand = name.startsWith(COMMAND_PREFIX);
      const parsed = isCommand ? commandSchema.safeParse(doc) : requestSchema.safeParse(doc);
      if (!parsed.success) return { ...none, error: z.prettifyError(parsed.error) };
      const idCheck = checkTaskId(parsed.data.id);
      if (!idCheck.ok) return { ...none, error: idCheck.error };
      return isCommand
        ? { ...none, command: parsed.data as QueuedCommand, error: null }
        : { ...none, request: parsed.data as TaskRequest, error: null };
    } catch (err) {
      return { ...none, error: (err as Error).message };
    }
  });
  // in the order they were queued; the file name breaks a tie, so the order is total
  const at = (e: QueueEntry) => e.request?.addedAt ?? e.command?.addedAt ?? 0;
  return entries.sort((a, b) => at(a) - at(b) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

export function removeQueued(file: string): void {
  rmSync(file, { force: true });
}

/** Moves a request warden cannot accept aside, so it is kept for the owner and not retried. */
export function rejectQueued(stateDir: string, file: string): string {
  const dir = ensureDirsUnder(stateDir, ['queue', 'rejected']);
  const dest = join(dir, `${Date.now()}-${file.split('/').pop()}`);
  renameSync(file, dest);
  return dest;
}

/**
 * Keeps a task request warden took in but cannot run in `queue/rejected/`, as a request file the
 * owner can queue again under another ID ([fleet]: the ID was already the fleet's, with another
 * prompt; src/fleet/shared-tasks.ts).
 */
export function keepRejectedRequest(stateDir: string, req: TaskRequest, at: number): string {
  const dest = join(ensureDirsUnder(stateDir, ['queue', 'rejected']), `${at}-${req.id}.json`);
  writeFileAtomic(dest, JSON.stringify(req) + '\n', 0o640);
  return dest;
}
