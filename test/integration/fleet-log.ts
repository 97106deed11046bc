// The shared start/end log of the fleet tests' worker (test/fixtures/fleet-worker.sh): one line per
// `start`, `end` or `overlap` of a task, with its node and the machine's monotonic time.
import { existsSync, readFileSync } from 'node:fs';

export interface LogLine {
  kind: 'start' | 'end' | 'overlap';
  task: string;
  node: string;
  at: number;
  token: string;
}

export function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [kind, task, node, at, token] = l.split(' ');
      return {
        kind: kind as LogLine['kind'],
        task: task ?? '',
        node: node ?? '',
        at: Number(at),
        token: token?.replace('token=', '') ?? '',
      };
    });
}

/** The log's lines of one kind, by task. */
export function byTask(lines: readonly LogLine[], kind: LogLine['kind']): Map<string, LogLine[]> {
  const m = new Map<string, LogLine[]>();
  for (const l of lines.filter((x) => x.kind === kind)) m.set(l.task, [...(m.get(l.task) ?? []), l]);
  return m;
}
