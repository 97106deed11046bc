// A single warden pays nothing for fleet mode: without [fleet], `warden run` never loads the etcd
// client. The same daemon with [fleet] does (so the probe can see it), even with etcd unreachable.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cliEnv, type Status } from '../helpers/cli.ts';
import { CLI, FIXTURES } from '../helpers/paths.ts';
import { waitFor } from '../helpers/wait.ts';
import { freePorts } from './etcd-cluster.ts';
import { cleanupAll, makeSandbox, query, type Sandbox } from './harness.ts';

after(cleanupAll);

/** Starts `warden run` under the import probe, waits until it answers, stops it; returns the etcd3 modules it loaded. */
async function etcdModulesLoaded(sb: Sandbox): Promise<string[]> {
  const trace = join(sb.dir, 'trace');
  const proc = spawn(process.execPath, ['--import', join(FIXTURES, 'trace-etcd-import.mjs'), CLI, 'run', '--config', sb.configPath], {
    env: { ...cliEnv(), WARDEN_TRACE_FILE: trace },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  try {
    await waitFor('the daemon answers', async () => (await query<Status>(sb.socket, '/status', 500)).daemon.pid === proc.pid, 30_000, 100);
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
  return existsSync(trace) ? readFileSync(trace, 'utf8').split('\n').filter(Boolean) : [];
}

test('without [fleet], warden run loads no module of etcd3', async () => {
  assert.deepEqual(await etcdModulesLoaded(makeSandbox()), []);
});

test('with [fleet] (etcd unreachable), it does: the probe can fail', async () => {
  const [port] = await freePorts(1);
  const sb = makeSandbox({ fleet: { endpoints: [`http://127.0.0.1:${port}`], node: 'n1', lease_ttl: '3s' } });
  const loaded = await etcdModulesLoaded(sb);
  assert.ok(
    loaded.some((u) => u.endsWith('/node_modules/etcd3/lib/index.js')),
    `loaded: ${loaded.join(', ')}`,
  );
});
