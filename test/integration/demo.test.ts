// `npm run demo` (scripts/demo.mjs), run for real: the breaker story completes, the narration says
// what alloc-200m shows and that the direct executor does not cap it, and ends with what to try next.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { assertBuilt, ROOT } from '../helpers/paths.ts';
import { cliEnv } from '../helpers/cli.ts';

test('the demo tells the breaker story, explains alloc-200m as uncapped, and ends with the commands to try next', async () => {
  assertBuilt();
  const child = spawn(process.execPath, ['scripts/demo.mjs'], { cwd: ROOT, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const dir = /The demo's files stay in (\S+) \(/.exec(out)?.[1];
  if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 0, out);
  assert.match(out, /The breaker TRIPPED/);
  assert.match(out, /alloc-200m allocated and touched 200 MB/);
  assert.match(out, /here it is NOT capped: this demo uses the direct\s+executor/);
  assert.match(out, /MemoryMax=512M/);
  const tryNext = out.slice(out.indexOf('Try next'));
  for (const cmd of ['top', 'task show fail-at-start', 'task retry fail-at-start'])
    assert.ok(tryNext.includes(` ${cmd} --config `), tryNext);
});
