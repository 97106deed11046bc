// The real daemon on a 2 GB Pi (its /proc from test/fixtures/hosts/pi4-2gb-bookworm through
// WARDEN_PROC_ROOT) with the documented minimal config, memory_max "2G" and min_available_memory
// "768M": the pause that can never lift is one ERROR line, one alert on a loopback ntfy server
// and a status line that says so; nothing repeats it, not even a restart; a reload with the
// values `warden config suggest` gives for the host lifts it and the task runs.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HOSTS } from '../helpers/paths.ts';
import { waitFor } from '../helpers/wait.ts';
import { addTask, cleanupAll, cli, cliOk, makeSandbox, startDaemon, waitForStarts, writeConfig, type Sandbox } from './harness.ts';
import { decodeTitle, startNtfyReceiver, type NtfyReceiver } from './ntfy-receiver.ts';

after(cleanupAll);
const receivers: NtfyReceiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});

const PI_2GB = join(HOSTS, 'pi4-2gb-bookworm');
const CANNOT_LIFT =
  'cannot lift: memory_max 2G + min_available_memory 768M exceed what this host can ever have available (MemTotal 1.8G minus 128M for the system)';

async function startOn2gbPi(sb: Sandbox) {
  process.env.WARDEN_PROC_ROOT = join(PI_2GB, 'proc');
  try {
    return await startDaemon(sb);
  } finally {
    delete process.env.WARDEN_PROC_ROOT;
  }
}

/** When the daemon last sampled the host: ticks go on while paused. */
async function lastSampleAt(sb: Sandbox): Promise<number> {
  const s = JSON.parse((await cliOk(sb.configPath, ['status', '--json'])).stdout) as { lastSample: { at: number } | null };
  return s.lastSample?.at ?? 0;
}

const errorLines = (log: string) => log.split('\n').filter((l) => /\bERROR +paused: pressure, and it cannot lift/.test(l));

test('a 2 GB Pi with the default memory settings: one error, one alert, the status line; a sized reload lifts it', async () => {
  const ntfy = await startNtfyReceiver('ok');
  receivers.push(ntfy);
  const sections = {
    worker: { memory_max: '2G' },
    admission: { min_available_memory: '768M' },
    alerts: { ntfy_url: ntfy.url('warden-small'), retry_base: '200ms' },
  };
  const sb = makeSandbox(sections);
  let d = await startOn2gbPi(sb);
  await addTask(sb, 'small-1', `sleep=0.1 count=${sb.countFile}`);

  const summary = await waitFor('the pause that cannot lift in the status line', async () => {
    const r = await cliOk(sb.configPath, ['status', '--json']);
    const s = JSON.parse(r.stdout) as { summary: string };
    return s.summary.includes('cannot lift') ? s.summary : null;
  });
  assert.equal(summary, `0/1 workers, 1 queued, paused: pressure (${CANNOT_LIFT})`);
  const text = (await cliOk(sb.configPath, ['status'])).stdout;
  assert.match(
    text,
    /^WARNING: {2}no worker can start on this host: .*; memory_max = "1152M" and min_available_memory = "256M" would fit \(sized for this host by `warden config suggest`\), then `systemctl reload warden`$/m,
  );

  const pauseAlerts = () => ntfy.requests.filter((p) => decodeTitle(p.headers.title).startsWith(`${hostname()}: paused: `));
  const alert = await waitFor('the alert', () => pauseAlerts()[0] ?? null, 10_000, 25);
  assert.equal(decodeTitle(alert.headers.title), `${hostname()}: paused: pressure that cannot lift`);
  assert.match(
    alert.body,
    /No worker can ever start on this host with this config: .*memory_max = "1152M" and min_available_memory = "256M"/,
  );

  // six more ticks at the least (poll_interval 500ms): still one alert, one error line
  const alertAt = alert.at;
  await waitFor('three more seconds of ticks', async () => (await lastSampleAt(sb)) > alertAt + 3000, 20_000, 200);
  assert.equal(pauseAlerts().length, 1, 'the alert is not repeated');
  assert.equal(errorLines(d.log()).length, 1, `one ERROR line:\n${d.log()}`);
  assert.doesNotMatch(d.log(), /paused: pressure \(memory:/, 'no ordinary pressure pause beside it');

  // a restart keeps the pause and does not say it again
  await d.stop();
  d = await startOn2gbPi(sb);
  const restartedAt = Date.now();
  await waitFor('ticks after the restart', async () => (await lastSampleAt(sb)) > restartedAt + 2000, 20_000, 200);
  assert.deepEqual(errorLines(d.log()), [], `no ERROR line after the restart:\n${d.log()}`);
  assert.equal(pauseAlerts().length, 1);

  // the values `warden config suggest` gives for this host, by reload
  const suggested = (await cliOk(sb.configPath, ['config', 'suggest', '--sysroot', PI_2GB])).stdout;
  const memoryMax = /^memory_max = "(\S+)"$/m.exec(suggested)?.[1];
  const minAvailable = /^min_available_memory = "(\S+)"$/m.exec(suggested)?.[1];
  assert.deepEqual([memoryMax, minAvailable], ['1152M', '256M']);
  writeConfig(sb, { ...sections, worker: { memory_max: memoryMax! }, admission: { min_available_memory: minAvailable! } });
  const check = await cli(sb.configPath, ['config', 'check', '--sysroot', PI_2GB]);
  assert.equal(check.code, 0, check.stderr);
  process.kill(d.pid, 'SIGHUP');
  const [start] = await waitForStarts(sb.countFile, 1, 15_000);
  assert.equal(start?.task, 'small-1');
  await waitFor('the resumed alert', () => ntfy.requests.find((p) => decodeTitle(p.headers.title).includes('resumed: pressure')) ?? null);
  await d.stop();
});
