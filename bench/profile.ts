// A tiny line profiler: runs a function under the V8 sampling profiler (node:inspector) and
// reports where the samples fell, by source line of one file and by function overall.
import { Session } from 'node:inspector/promises';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
  positionTicks?: { line: number; ticks: number }[];
}

export interface HotLine {
  line: number;
  text: string;
  ticks: number;
  share: number;
}

export interface HotFunction {
  name: string;
  where: string;
  selfTicks: number;
  share: number;
}

export interface LineProfile {
  totalTicks: number;
  lines: HotLine[];
  functions: HotFunction[];
}

/** Profiles `iterations` calls of `fn`; `fileUrl` is the module whose lines are reported. */
export async function profileLines(fn: () => unknown, iterations: number, fileUrl: string, intervalUs = 50): Promise<LineProfile> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.post('Profiler.start');
    for (let i = 0; i < iterations; i++) fn();
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: { nodes: ProfileNode[] } };
    await session.post('Profiler.disable');
    return summarizeProfile(profile.nodes, fileUrl);
  } finally {
    session.disconnect();
  }
}

function summarizeProfile(nodes: ProfileNode[], fileUrl: string): LineProfile {
  const source = readFileSync(fileURLToPath(fileUrl), 'utf8').split('\n');
  const ignored = new Set(['(idle)', '(program)', '(garbage collector)']);
  let totalTicks = 0;
  const byLine = new Map<number, number>();
  const byFunction = new Map<string, HotFunction>();
  for (const node of nodes) {
    const hits = node.hitCount ?? 0;
    const name = node.callFrame.functionName || '(anonymous)';
    if (hits === 0) continue;
    totalTicks += hits;
    const file = node.callFrame.url.split('/').slice(-2).join('/');
    const where = node.callFrame.url ? `${file}:${node.callFrame.lineNumber + 1}` : ignored.has(name) ? '' : '(V8 builtin)';
    const key = `${name}@${where}`;
    const f = byFunction.get(key) ?? { name, where, selfTicks: 0, share: 0 };
    f.selfTicks += hits;
    byFunction.set(key, f);
    if (node.callFrame.url === fileUrl) for (const p of node.positionTicks ?? []) byLine.set(p.line, (byLine.get(p.line) ?? 0) + p.ticks);
  }
  const lines = [...byLine.entries()]
    .map(([line, ticks]) => ({ line, text: (source[line - 1] ?? '').trim(), ticks, share: ticks / Math.max(1, totalTicks) }))
    .sort((a, b) => b.ticks - a.ticks);
  const functions = [...byFunction.values()].map((f) => ({ ...f, share: f.selfTicks / Math.max(1, totalTicks) })).sort((a, b) => b.selfTicks - a.selfTicks);
  return { totalTicks, lines, functions };
}
