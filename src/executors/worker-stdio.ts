// The worker's stdio: the prompt file on stdin, stdout and stderr appended to the attempt's log.
// Opened by warden (as root under systemd) and inherited, so the worker user needs no access.
// Neither is opened through a symlink or as a FIFO or device (src/host/safe-open.ts): a log
// planted as a symlink would have warden write worker output outside state_dir.
import { closeSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { checkRealDir, openRegular } from '../host/safe-open.js';
import { SpawnError, type WorkerSpec } from './types.js';

const { O_WRONLY, O_APPEND, O_CREAT } = constants;

export function openWorkerStdio(spec: Pick<WorkerSpec, 'stdinFile' | 'logFile'>): { stdin: number; out: number } {
  let stdin: number;
  try {
    stdin = openRegular(spec.stdinFile);
  } catch (err) {
    throw new SpawnError(`cannot open prompt file ${spec.stdinFile}: ${(err as Error).message}`);
  }
  try {
    // state_dir/logs and state_dir/logs/<task> must be directories warden made, not symlinks
    checkRealDir(dirname(dirname(spec.logFile)));
    checkRealDir(dirname(spec.logFile));
    return { stdin, out: openRegular(spec.logFile, O_WRONLY | O_APPEND | O_CREAT, 0o640) };
  } catch (err) {
    closeSync(stdin);
    throw new SpawnError(`cannot open log file ${spec.logFile}: ${(err as Error).message}`, { cause: err });
  }
}
