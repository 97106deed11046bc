// Start-up recovery: the workers of tasks the state says are running are re-attached (adopted), or
// classified when they are gone; units or process groups that belong to no running task are
// stopped. Recovery never spawns.
import type { Executor, WorkerExit, WorkerHandle } from '../executors/types.js';
import type { Logger } from '../log/logger.js';
import type { RunningAttempt, WardenState } from '../state/types.js';

export interface RecoveryDeps {
  executor: Executor;
  log: Logger;
  state: () => WardenState;
  runBase: (taskId: string, attempt: number) => string;
  stopGrace: number;
  updateAttempt: (taskId: string, patch: Partial<RunningAttempt>) => void;
  adopted: (taskId: string, attempt: number, handle: WorkerHandle) => void;
  gone: (taskId: string, claimedAt: number, exit: WorkerExit) => void;
}

export async function recoverWorkers(d: RecoveryDeps): Promise<void> {
  const { executor, log } = d;
  for (const task of Object.values(d.state().tasks)) {
    if (task.state !== 'running' || !task.current) continue;
    const cur = task.current;
    const result = await executor.adopt({
      taskId: task.id,
      attempt: cur.attempt,
      pid: cur.pid,
      pidStartTime: cur.pidStartTime,
      unit: cur.unit,
      runBase: d.runBase(task.id, cur.attempt),
      startedAt: cur.claimedAt,
    });
    if (result.kind === 'adopted') {
      const h = result.handle;
      log.info('adopted running worker', { task: task.id, attempt: cur.attempt, pid: h.pid, unit: h.unit ?? undefined });
      if (h.pid !== cur.pid || h.pidStartTime !== cur.pidStartTime)
        d.updateAttempt(task.id, { pid: h.pid, pidStartTime: h.pidStartTime, unit: h.unit });
      d.adopted(task.id, cur.attempt, h);
    } else {
      log.warn('worker of a running task is gone; classifying its attempt', {
        task: task.id,
        attempt: cur.attempt,
        pid: cur.pid ?? undefined,
      });
      d.gone(task.id, cur.claimedAt, result.exit);
    }
  }
  const running = new Set(
    Object.values(d.state().tasks)
      .filter((t) => t.state === 'running')
      .map((t) => t.id),
  );
  for (const name of await executor.strays(running)) {
    log.warn('stopping a stray worker that belongs to no running task', { unit: name });
    await executor.stopStray(name, d.stopGrace);
  }
}
