// The shape of src/'s import graph: no cycle, and the pure decision code reaches no I/O module,
// not even through a type import. The graph is read with TypeScript's own pre-processor (every
// `import`, `import type` and `export ... from` of a relative path), so it is the graph tsc sees.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { filesUnder, ROOT } from '../helpers/paths.ts';

const SRC = join(ROOT, 'src');

/** Node built-ins and packages that touch files, processes, sockets or the network. */
const IO_MODULES = new Set(
  ['fs', 'fs/promises', 'child_process', 'net', 'http', 'https', 'dgram', 'os', 'worker_threads', 'readline']
    .flatMap((m) => [m, `node:${m}`])
    .concat(['execa', 'etcd3', '@godaddy/terminus', 'node-cron']),
);

/**
 * Code that decides and must not act: src/policy/ and the pure decisions elsewhere. The pure
 * renderers (cli/top-frame.ts, cli/view-parts.ts) are not held to this: they take the StatusReport
 * type, which carries the loaded config, whose schema reads the host name for its defaults.
 */
const PURE = (file: string): boolean =>
  file.startsWith('policy/') ||
  [
    'tasks/reconcile.ts',
    'worktree/retention.ts',
    'alerts/policy.ts',
    'fleet/merge.ts',
    'fleet/shared-merge.ts',
    'fleet/task-merge.ts',
    'history/sparkline.ts',
    'history/records.ts',
    'cli/parse.ts',
    'cli/suggest.ts',
  ].includes(file);

interface Graph {
  /** module (path under src/) -> the src modules it imports */
  local: Map<string, string[]>;
  /** module -> the I/O modules it imports itself */
  io: Map<string, string[]>;
}

function readGraph(): Graph {
  const files = filesUnder('src', '.ts');
  const local = new Map<string, string[]>();
  const io = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(join(SRC, file), 'utf8'), true, true);
    const deps: string[] = [];
    const ioDeps: string[] = [];
    for (const { fileName } of info.importedFiles) {
      if (fileName.startsWith('.')) {
        const target = resolve(SRC, dirname(file), fileName).replace(/\.js$/, '.ts');
        assert.ok(existsSync(target), `${file} imports ${fileName}, which is not a file under src/`);
        deps.push(relative(SRC, target));
      } else if (IO_MODULES.has(fileName)) ioDeps.push(fileName);
    }
    local.set(file, deps);
    io.set(file, ioDeps);
  }
  return { local, io };
}

/** Every cycle, as its strongly connected component (Tarjan). */
function cycles(local: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of local.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (local.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of local.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** The path from `from` to the first module that imports I/O, or null when there is none. */
function pathToIo(graph: Graph, from: string): string[] | null {
  const seen = new Set([from]);
  const queue: string[][] = [[from]];
  while (queue.length > 0) {
    const path = queue.shift()!;
    const at = path[path.length - 1]!;
    const ioDeps = graph.io.get(at) ?? [];
    if (ioDeps.length > 0) return [...path, ioDeps[0]!];
    for (const dep of graph.local.get(at) ?? []) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      queue.push([...path, dep]);
    }
  }
  return null;
}

const graph = readGraph();

test('the import graph is read: every src module, with the edges tsc sees', () => {
  assert.ok(graph.local.size > 100, `only ${graph.local.size} modules read under src/`);
  assert.ok(graph.local.get('supervisor/supervisor.ts')!.includes('policy/tick.ts'));
  assert.ok(graph.io.get('state/store.ts')!.some((m) => m.endsWith('fs') || m.endsWith('fs/promises')));
});

test('src/ has no import cycle', () => {
  const found = cycles(graph.local);
  console.log(`import cycles in src/ (${graph.local.size} modules): ${found.length}`);
  assert.deepEqual(found, [], `cycles: ${found.map((c) => c.join(' <-> ')).join('; ')}`);
});

test('pure modules reach no I/O module, directly or through another module', () => {
  const pure = [...graph.local.keys()].filter(PURE).sort();
  assert.ok(pure.length > 20, `only ${pure.length} pure modules found`);
  const leaks = pure.map((m) => pathToIo(graph, m)).filter((p): p is string[] => p !== null);
  console.log(`pure modules: ${pure.length}; reaching I/O: ${leaks.length}`);
  assert.deepEqual(
    leaks.map((p) => p.join(' -> ')),
    [],
  );
});

test('the cycle finder finds a planted cycle and the leak finder a planted I/O import', () => {
  const planted = new Map(graph.local);
  planted.set('policy/tick.ts', [...planted.get('policy/tick.ts')!, 'supervisor/supervisor.ts']);
  assert.ok(cycles(planted).some((c) => c.includes('policy/tick.ts') && c.includes('supervisor/supervisor.ts')));
  const io = new Map(graph.io);
  io.set('policy/breaker.ts', ['node:fs']);
  const leak = pathToIo({ local: graph.local, io }, 'policy/tick.ts');
  assert.ok(leak !== null && leak.at(-1) === 'node:fs', `no leak found: ${String(leak)}`);
});
