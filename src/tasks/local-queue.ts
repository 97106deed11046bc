// The local task queue. `warden task add` must work whether or not the daemon runs, but only the
// daemon writes the state file (one writer, no lost updates). So the CLI drops a request file into
// `<state_dir>/queue/`, created exclusively and renamed into place; the daemon ingests it into the
// state on its next poll and only then removes it. A request is never lost between the two.
import { closeSync, constants, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ensureDirsUnder, readRegularText } from '../host/safe-open.js';
import { ensureStateDir } from '../state/store.js';
import { priorityProblem, promptProblem } from './task-input.js';
import { checkTaskId } from './task-id.js';

export const DEFAULT_PRIORITY = 2;

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

export function queueDir(stateDir: string): string {
  return join(stateDir, 'queue');
}

export function promptDir(stateDir: string): string {
  return join(stateDir, 'prompts');
}

export class QueueError extends Error {}

/** Enqueues a task request; refuses an invalid request (the daemon's own check) or one already queued. */
export function enqueueTask(stateDir: string, req: TaskRequest): string {
  const check = checkTaskId(req.id);
  if (!check.ok) throw new QueueError(check.error);
  const parsed = requestSchema.safeParse(req);
  if (!parsed.success) throw new QueueError(parsed.error.issues.map((i) => i.message).join('; '));
  const dir = queueDir(stateDir);
  ensureStateDir(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const final = join(dir, `${req.id}.json`);
  if (existsSync(final)) throw new QueueError(`task ${req.id} is already queued (${final})`);
  const tmp = join(dir, `.${req.id}.json.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o640);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new QueueError(`task ${req.id} is being queued by another command`);
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(req) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, final);
  return final;
}

export interface QueueEntry {
  file: string;
  request: TaskRequest | null;
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
    try {
      const parsed = requestSchema.safeParse(JSON.parse(readRegularText(file, 'utf8')));
      if (!parsed.success) return { file, request: null, error: z.prettifyError(parsed.error) };
      const idCheck = checkTaskId(parsed.data.id);
      if (!idCheck.ok) return { file, request: null, error: idCheck.error };
      return { file, request: parsed.data, error: null };
    } catch (err) {
      return { file, request: null, error: (err as Error).message };
    }
  });
  return entries.sort((a, b) => (a.request?.addedAt ?? 0) - (b.request?.addedAt ?? 0));
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
