// `warden logs TASK [--follow]`: prints the task's attempt logs, oldest first, from
// state_dir/logs/<task>/<attempt>.log. --follow keeps printing what the newest attempt writes
// (and moves on to a newer attempt when one starts), until interrupted.
import { closeSync, openSync, readSync, statSync, watch } from 'node:fs';
import { attemptLogPath, attemptLogs, taskLogDir } from '../log/attempt-logs.js';
import { checkTaskId } from '../tasks/task-id.js';

export class LogsError extends Error {}

function copyFrom(path: string, offset: number, out: NodeJS.WritableStream): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return offset;
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
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

export async function showLogs(
  stateDir: string,
  taskId: string,
  follow: boolean,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const check = checkTaskId(taskId);
  if (!check.ok) throw new LogsError(check.error);
  const attempts = attemptLogs(stateDir, taskId);
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
