// The per-task routes of the control API:
//   GET  /tasks/<id>                         the task (`warden task show`), 404 if there is none
//   POST /tasks/<id>/retry|cancel|remove     the command's one line (200), or its refusal (409)
//   POST /tasks/<id>/priority?value=N
// A refusal is an answer, not a fault: 409 with `{ error: <line>, refused: true }`, so the CLI can
// print the line and exit 2. POSTs come over the unix socket only (server.ts refuses them on TCP).
import { TASK_COMMANDS, type TaskCommand, type TaskCommandRequest } from '../policy/task-commands.js';
import { priorityProblem } from '../tasks/task-input.js';
import { checkTaskId } from '../tasks/task-id.js';

/** What a command's answer says: `ok` false is a refusal, and `line` says what changed or why not. */
export interface TaskCommandAnswer {
  ok: boolean;
  line: string;
  /** false: the change is made but the state file could not be written yet (a full disk; retried). */
  saved: boolean;
}

export interface TaskCommandHandler {
  /** The task as the state holds it, or null. */
  show(id: string): unknown;
  run(id: string, req: TaskCommandRequest): Promise<TaskCommandAnswer>;
}

export interface RouteAnswer {
  status: number;
  body: unknown;
}

/** The answer to a per-task route, or null when `url` is not one (the caller's 404 applies). */
export function routeTask(method: string, url: string, h: TaskCommandHandler): Promise<RouteAnswer> | null {
  const m = /^\/tasks\/([^/?]+)(?:\/([a-z]+))?(?:\?(.*))?$/.exec(url);
  if (!m) return null;
  const [, id = '', command, query = ''] = m;
  const bad = (status: number, error: string) => Promise.resolve({ status, body: { error } });
  const idCheck = checkTaskId(id);
  if (!idCheck.ok) return bad(400, idCheck.error);
  if (command === undefined) {
    if (method !== 'GET') return bad(405, `${method} /tasks/${id}: use GET`);
    const task = h.show(id);
    return Promise.resolve(
      task === null ? { status: 404, body: { error: `no task ${id} (warden tasks lists them)` } } : { status: 200, body: task },
    );
  }
  if (!(TASK_COMMANDS as readonly string[]).includes(command))
    return bad(404, `no task command "${command}" (${TASK_COMMANDS.join(', ')})`);
  if (method !== 'POST') return bad(405, `${method} /tasks/${id}/${command}: use POST`);
  let req: TaskCommandRequest;
  if (command === 'priority') {
    const value = new URLSearchParams(query).get('value');
    const n = value !== null && /^-?\d+$/.test(value) ? Number(value) : NaN;
    const problem = Number.isNaN(n) ? 'priority: give ?value=N' : priorityProblem(n);
    if (problem) return bad(400, problem);
    req = { command, priority: n };
  } else req = { command: command as Exclude<TaskCommand, 'priority'> };
  return h.run(id, req).then((a) => (a.ok ? { status: 200, body: a } : { status: 409, body: { error: a.line, refused: true } }));
}
