// `warden logs TASK [--follow]`: prints the task's attempt logs, oldest first, from
// state_dir/logs/<task>/<attempt>.log. --follow keeps printing what the newest attempt writes
// (and moves on to a newer attempt when one starts), until interrupted.
import { accessSync, closeSync, constants, fstatSync, readSync, statSync, watch } from 'node:fs';
import { isPermissionError, permissionDenied } from '../host/permission.js';
import { openRegular } from '../host/safe-open.js';
import { attemptLogPath, attemptLogs, CUT_MARKER_PREFIX, taskLogDir } from '../log/attempt-logs.js';
import { checkTaskId } from '../tasks/task-id.js';

export class LogsError extends Error {}

/** No logs listed: say so only if the directory is not simply closed to this user. */
function mayRead(dir: string): void {
  try {
    accessSync(dir, constants.R_OK | constants.X_OK);
  } catch (err) {
    if (isPermissionError(err)) throw permissionDenied(dir, 'read the logs in');
  }
}

function copyFrom(path: string, offset: number, out: NodeJS.WritableStream): number {
  let fd: number;
  try {
    fd = openRegular(path); // a FIFO or symlink planted as a log is not read
  } catch {
    return offset;
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
    // the running attempt's log was cut at worker.log_max: go on after warden's marker line
    if (fstatSync(fd).size < offset) offset = afterCutMarker(fd);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) break;
      out.write(buf.subarray(0, n));
      offset += n;
    }
  } finally {
    closeSync(fd);
  }
  return offset;
}

/** Where the output after the last cut marker starts (0 if there is none). */
function afterCutMarker(fd: number): number {
  const size = fstatSync(fd).size;
  const buf = Buffer.alloc(Math.min(size, 64 * 1024 * 1024));
  const n = readSync(fd, buf, 0, buf.length, 0);
  const at = buf.subarray(0, n).lastIndexOf(CUT_MARKER_PREFIX);
  if (at === -1) return 0;
  const nl = buf.indexOf(0x0a, at);
  return nl === -1 ? n : nl + 1;
}

export async function showLogs(
  stateDir: string,
  taskId: string,
  follow: boolean,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const check = checkTaskId(taskId);
  if (!check.ok) throw new LogsError(check.error);
  const attempts = attemptLogs(stateDir, taskId);
  if (attempts.length === 0) mayRead(taskLogDir(stateDir, taskId));
  if (attempts.length === 0 && !follow) throw new LogsError(`no logs for task ${taskId} in ${taskLogDir(stateDir, taskId)}`);
  for (const a of attempts) {
    out.write(`==> attempt ${a} (${attemptLogPath(stateDir, taskId, a)}) <==\n`);
    copyFrom(attemptLogPath(stateDir, taskId, a), 0, out);
  }
  if (!follow) return 0;
  let current = attempts.at(-1) ?? 0;
  let offset = current ? statSync(attemptLogPath(stateDir, taskId, current)).size : 0;
  await new Promise<void>((resolve) => {
    const onChange = () => {
      const newest = attemptLogs(stateDir, taskId).at(-1) ?? 0;
      if (newest !== current) {
        if (current) copyFrom(attemptLogPath(stateDir, taskId, current), offset, out);
        current = newest;
        offset = 0;
        out.write(`==> attempt ${current} <==\n`);
      }
      if (current) offset = copyFrom(attemptLogPath(stateDir, taskId, current), offset, out);
    };
    let watcher: ReturnType<typeof watch>;
    try {
      watcher = watch(taskLogDir(stateDir, taskId), onChange);
    } catch {
      throw new LogsError(`no log directory for task ${taskId} yet (${taskLogDir(stateDir, taskId)})`);
    }
    // a file being appended to does not always raise a directory event: look once a second too
    const timer = setInterval(onChange, 1000);
    process.once('SIGINT', () => {
      watcher.close();
      clearInterval(timer);
      resolve();
    });
  });
  return 0;
}
