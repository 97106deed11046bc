// A tiny line profiler: runs a function under the V8 sampling profiler (node:inspector) and
// reports where the samples fell, by source line of the given files and by function overall.
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
  /** The file's URL, one of those passed to profileLines. */
  file: string;
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

/** Profiles `iterations` calls of `fn`; `fileUrls` are the modules whose lines are reported. */
export async function profileLines(fn: () => unknown, iterations: number, fileUrls: string[], intervalUs = 50): Promise<LineProfile> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.post('Profiler.start');
    for (let i = 0; i < iterations; i++) fn();
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: { nodes: ProfileNode[] } };
    await session.post('Profiler.disable');
    return summarizeProfile(profile.nodes, fileUrls);
  } finally {
    session.disconnect();
  }
}

function summarizeProfile(nodes: ProfileNode[], fileUrls: string[]): LineProfile {
  const sources = new Map(fileUrls.map((url) => [url, readFileSync(fileURLToPath(url), 'utf8').split('\n')]));
  const ignored = new Set(['(idle)', '(program)', '(garbage collector)']);
  let totalTicks = 0;
  const byLine = new Map<string, { file: string; line: number; ticks: number }>();
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
    if (!sources.has(node.callFrame.url)) continue;
    for (const p of node.positionTicks ?? []) {
      const lineKey = `${node.callFrame.url}:${p.line}`;
      const entry = byLine.get(lineKey) ?? { file: node.callFrame.url, line: p.line, ticks: 0 };
      entry.ticks += p.ticks;
      byLine.set(lineKey, entry);
    }
  }
  const lines = [...byLine.values()]
    .map(({ file, line, ticks }) => ({
      file,
      line,
      text: (sources.get(file)?.[line - 1] ?? '').trim(),
      ticks,
      share: ticks / Math.max(1, totalTicks),
    }))
    .sort((a, b) => b.ticks - a.ticks);
  const functions = [...byFunction.values()]
    .map((f) => ({ ...f, share: f.selfTicks / Math.max(1, totalTicks) }))
    .sort((a, b) => b.selfTicks - a.selfTicks);
  return { totalTicks, lines, functions };
}
