// The worker's stdio: the prompt file on stdin, stdout and stderr appended to the attempt's log.
// Opened by warden (as root under systemd) and inherited, so the worker user needs no access.
import { closeSync, openSync } from 'node:fs';
import { SpawnError, type WorkerSpec } from './types.js';

export function openWorkerStdio(spec: Pick<WorkerSpec, 'stdinFile' | 'logFile'>): { stdin: number; out: number } {
  let stdin: number;
  try {
    stdin = openSync(spec.stdinFile, 'r');
  } catch (err) {
    throw new SpawnError(`cannot open prompt file ${spec.stdinFile}: ${(err as Error).message}`);
  }
  try {
    return { stdin, out: openSync(spec.logFile, 'a', 0o640) };
  } catch (err) {
    closeSync(stdin);
    throw new SpawnError(`cannot open log file ${spec.logFile}: ${(err as Error).message}`, { cause: err });
  }
}
