// How `warden tasks` and `warden task show` print tasks. The table's TASK column is as wide as the
// longest ID shown (IDs may have 64 characters), so the columns stay aligned; on a terminal the
// NOTE is cut to the width. RUNS counts the attempts that were started (a task that succeeded on
// its first run shows 1, not the 0 of its reset attempt count) and FAILS those that failed.
import { lstatSync } from 'node:fs';
import { formatDuration } from '../config/units.js';
import { attemptLogPath, taskLogDir } from '../log/attempt-logs.js';
import { FAILURE_KINDS } from '../policy/failure-kind.js';
import { HISTORY_LIMIT, TASK_STATES, type AttemptRecord, type Task, type TaskState } from '../state/types.js';
import { TaskInputError } from '../tasks/task-input.js';
import { dated } from './when.js';

/** `--failed`: the tasks that stopped short of success and wait for the owner (or for their retry). */
export const FAILED_STATES: readonly TaskState[] = ['dead', 'blocked', 'retry_wait'];

/** The states `--state S[,S]` and `--failed` select; null: every task. A bad name is a usage error. */
export function stateFilter(state: string | undefined, failed: boolean): Set<TaskState> | null {
  if (state === undefined && !failed) return null;
  const picked = new Set<TaskState>(failed ? FAILED_STATES : []);
  for (const name of state === undefined ? [] : state.split(',')) {
    const s = name.trim();
    if (!(TASK_STATES as readonly string[]).includes(s))
      throw new TaskInputError(`--state: unknown task state "${s}" (one or more of ${TASK_STATES.join(', ')}, comma-separated)`);
    picked.add(s as TaskState);
  }
  return picked;
}

const FAILURES = new Set<string>(FAILURE_KINDS);

/** Started attempts: the recorded ones (the history keeps the last HISTORY_LIMIT) plus a running one. */
function runs(t: Task): string {
  const n = t.history.length + (t.current ? 1 : 0);
  return t.history.length >= HISTORY_LIMIT ? `${n}+` : String(n);
}

function fails(t: Task): string {
  const n = t.history.filter((h) => FAILURES.has(h.outcome)).length;
  return t.history.length >= HISTORY_LIMIT ? `${n}+` : String(n);
}

/** The `warden tasks` table, in spawn order (priority, then age). `width`: cut each line to it (a terminal). */
export function renderTasksTable(list: readonly Task[], width: number | null = null): string {
  const rows = [...list].sort((a, b) => a.priority - b.priority || a.createdAt - b.createdAt);
  const idWidth = Math.max(4, ...rows.map((t) => t.id.length));
  const line = (cells: string[], note: string) => {
    const text = `${cells.join(' ')}  ${note}`.trimEnd();
    return width !== null && text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
  };
  const head = (id: string, state: string, prio: string, r: string, f: string, cost: string, turns: string) => [
    id.padEnd(idWidth),
    state.padEnd(10),
    prio.padStart(5),
    r.padStart(4),
    f.padStart(5),
    cost.padStart(8),
    turns.padStart(5),
  ];
  const out = [line(head('TASK', 'STATE', 'PRIO', 'RUNS', 'FAILS', 'COST', 'TURNS'), 'NOTE')];
  for (const t of rows)
    out.push(line(head(t.id, t.state, String(t.priority), runs(t), fails(t), `$${t.costUsd.toFixed(2)}`, String(t.turns)), t.note ?? ''));
  return out.join('\n') + '\n';
}

/** What `task show --json` prints: the task as stored, plus where its logs are. */
export function taskShowJson(t: Task, stateDir: string): unknown {
  return {
    ...t,
    logDir: taskLogDir(stateDir, t.id),
    logs: attemptsOf(t).map((a) => ({ attempt: a, path: attemptLogPath(stateDir, t.id, a), bytes: logBytes(stateDir, t.id, a) })),
  };
}

function attemptsOf(t: Task): number[] {
  const all = new Set([...t.history.map((h) => h.attempt), ...(t.current ? [t.current.attempt] : [])]);
  return [...all].sort((a, b) => a - b);
}

function logBytes(stateDir: string, id: string, attempt: number): number | null {
  try {
    return lstatSync(attemptLogPath(stateDir, id, attempt)).size;
  } catch {
    return null;
  }
}

/** `warden task show ID`: the task, then every recorded attempt with its outcome, exit, duration, cost, turns and log. */
export function renderTaskShow(t: Task, stateDir: string, now = Date.now()): string {
  const lines = [
    `task ${t.id}: ${t.state}, priority ${t.priority}, ${t.attempts} attempt${t.attempts === 1 ? '' : 's'} used since the last success`,
    `source:   ${t.issue ? `GitHub ${t.issue.url} (${t.issue.title})` : t.source}`,
    `created:  ${dated(t.createdAt, now)}; updated ${dated(t.updatedAt, now)}`,
  ];
  if (t.state === 'blocked') lines.push(`blocked:  ${t.note?.replace(/^blocked: /, '') ?? '(no reason recorded)'}`);
  else if (t.note) lines.push(`note:     ${t.note}`);
  if (t.notBefore !== null && t.state === 'retry_wait') lines.push(`retry:    not before ${dated(t.notBefore, now)}`);
  if (t.prUrl) lines.push(`pr:       ${t.prUrl}`);
  lines.push(`cost:     $${t.costUsd.toFixed(2)}, ${t.turns} turns${t.sessionId ? `; last session ${t.sessionId}` : ''}`);
  lines.push(`prompt:   ${t.promptFile}`);
  lines.push(`logs:     ${taskLogDir(stateDir, t.id)} (warden logs ${t.id})`);
  if (t.current) {
    const c = t.current;
    lines.push(
      `running:  attempt ${c.attempt} since ${dated(c.claimedAt, now)}${c.pid ? `, pid ${c.pid}` : ''}${c.unit ? `, ${c.unit}` : ''}`,
    );
  }
  lines.push(
    t.history.length === 0
      ? 'attempts: none recorded'
      : `attempts: ${t.history.length} recorded${t.history.length >= HISTORY_LIMIT ? ` (the last ${HISTORY_LIMIT})` : ''}`,
  );
  for (const h of t.history) lines.push(...attemptLines(h, stateDir, t.id, now));
  return lines.join('\n') + '\n';
}

function attemptLines(h: AttemptRecord, stateDir: string, id: string, now: number): string[] {
  const exit = h.signal ? `signal ${h.signal}` : h.exitCode !== null ? `exit ${h.exitCode}` : 'no exit status';
  const usage = `$${(h.costUsd ?? 0).toFixed(2)}, ${h.turns ?? 0} turns`;
  const log = attemptLogPath(stateDir, id, h.attempt);
  return [
    `  #${h.attempt} ${h.outcome}: ${exit}, ran ${formatDuration(h.durationMs)}, ${usage}, started ${dated(h.startedAt, now)}`,
    ...(h.detail ? [`      ${h.detail}`] : []),
    `      log ${log}${logBytes(stateDir, id, h.attempt) === null ? ' (removed: worker.log_max keeps the newest)' : ''}`,
  ];
}
