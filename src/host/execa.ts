// execa, loaded on first use. It and its dependencies cost about 8 MB of anonymous memory once
// imported (docs/benchmarks.md), and a daemon with a local queue and no worktrees never runs git or
// gh, so it should never pay for them.
import type { execa as Execa } from 'execa';

let loading: Promise<typeof Execa> | null = null;

export function loadExeca(): Promise<typeof Execa> {
  loading ??= import('execa').then((m) => m.execa);
  return loading;
}
