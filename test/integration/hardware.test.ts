// The real daemon with its hardware signals pointed at a fake sysfs tree (WARDEN_SYSFS_ROOT): a
// hot SoC holds spawning back with reason `thermal`, the alert reaches a loopback ntfy server, and
// spawning resumes only once the fixture has cooled for recover_after. Under-voltage does the
// same with reason `power`.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { THROTTLED_SYSFS_PATH } from '../../src/hardware/throttled.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  addTask,
  cleanupAll,
  cli,
  countLines,
  makeSandbox,
  startDaemon,
  status,
  waitForStarts,
  writeConfig,
  type Daemon,
  type Sandbox,
} from './harness.ts';
import { decodeTitle, startNtfyReceiver, type NtfyReceiver, type Published } from './ntfy-receiver.ts';

after(cleanupAll);
const sys = mkdtempSync(join(tmpdir(), 'warden-sysfs-'));
after(() => rmSync(sys, { recursive: true, force: true }));
const receivers: NtfyReceiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});

const zone = join(sys, 'class/thermal/thermal_zone0');
mkdirSync(zone, { recursive: true });
writeFileSync(join(zone, 'type'), 'cpu-thermal\n');
const setTemp = (milli: number) => writeFileSync(join(zone, 'temp'), `${milli}\n`);
const throttledFile = join(sys, THROTTLED_SYSFS_PATH);
mkdirSync(join(throttledFile, '..'), { recursive: true });
const setThrottled = (hex: string) => writeFileSync(throttledFile, `${hex}\n`);

const titled = (title: string) => (p: Published) => decodeTitle(p.headers.title) === `${hostname()}: ${title}`;

/** A daemon whose hardware signals are read from the fake sysfs tree. */
async function startOnFakeSysfs(sb: Sandbox): Promise<Daemon> {
  process.env.WARDEN_SYSFS_ROOT = sys;
  try {
    return await startDaemon(sb);
  } finally {
    delete process.env.WARDEN_SYSFS_ROOT;
  }
}

/** Queues a minute-long task and waits until its worker runs (the pressure watch runs only then). */
async function runOneWorker(sb: Sandbox, id: string): Promise<void> {
  await addTask(sb, id, `sleep=60 count=${sb.countFile}`);
  await waitForStarts(sb.countFile, 1, 15_000);
  await waitFor('the worker to run', async () => ((await status(sb)).workers.length === 1 ? true : null));
}

const paused = (sb: Sandbox, reason: string) => async () => ((await status(sb)).pause.reasons.includes(reason) ? true : null);

describe('hardware admission in the real daemon, on a fake sysfs', () => {
  test('a hot SoC pauses with reason thermal and alerts; cooled for recover_after, the task spawns', async () => {
    setTemp(82_000);
    setThrottled('0');
    const ntfy = await startNtfyReceiver('ok');
    receivers.push(ntfy);
    const sb = makeSandbox({
      admission: { recover_after: '2s', max_temperature: 75 },
      alerts: { ntfy_url: ntfy.url('warden-hw'), retry_base: '200ms' },
    });
    const d = await startOnFakeSysfs(sb);
    await addTask(sb, 'hot-1', `sleep=0.1 count=${sb.countFile}`);
    const paused = await waitFor('the thermal pause', async () => {
      const s = await status(sb);
      return s.pause.reasons.includes('thermal') ? s : null;
    });
    assert.match(paused.summary, /paused: thermal \(thermal: cpu-thermal at 82\.0 °C is over max_temperature 75 °C\)/);
    const alert = await waitFor('ntfy to receive paused: thermal', () => ntfy.requests.find(titled('paused: thermal')) ?? null, 10_000, 25);
    assert.match(alert.body, /82\.0 °C/);
    const json = JSON.parse((await cli(sb.configPath, ['status', '--json'])).stdout) as {
      hardware: { temperatureC: number; throttled: { raw: number }; notAvailable: string[] };
      disk: { role: string; freeBytes: number }[];
      lastPause: { reason: string };
    };
    assert.equal(json.hardware.temperatureC, 82);
    assert.equal(json.hardware.throttled.raw, 0);
    assert.deepEqual(json.hardware.notAvailable, []);
    assert.ok(json.disk.some((x) => x.role === 'state_dir' && x.freeBytes > 0));
    assert.equal(json.lastPause.reason, 'thermal');
    const text = (await cli(sb.configPath, ['status'])).stdout;
    assert.match(text, /hardware: SoC temperature 82\.0 °C \(cpu-thermal; max_temperature 75 °C\); throttled 0x0 \(none\)/);
    assert.equal(countLines(sb.countFile).length, 0, 'nothing spawned while hot');

    const cooledAt = Date.now();
    setTemp(60_000);
    const [start] = await waitForStarts(sb.countFile, 1, 15_000);
    assert.ok(Date.now() - cooledAt >= 2000, 'not before recover_after (2s) below the threshold');
    assert.equal(start?.task, 'hot-1');
    await waitFor('ntfy to receive resumed: thermal', () => ntfy.requests.find(titled('resumed: thermal pause ended')) ?? null, 10_000, 25);
    await d.stop();
  });

  // The pressure watch (admission.watch_interval): while a worker runs, warden samples between
  // ticks, so a threshold crossed pauses (and alerts) within about the interval. poll_interval is
  // 10 minutes here, so without the watch the pause would wait for the next tick.
  test('with a worker running, a threshold crossed between ticks pauses within watch_interval, and alerts', async () => {
    setTemp(50_000);
    setThrottled('0');
    const ntfy = await startNtfyReceiver('ok');
    receivers.push(ntfy);
    const sb = makeSandbox({
      supervisor: { poll_interval: '10m' },
      admission: { watch_interval: '200ms', recover_after: '0s', max_temperature: 75 },
      alerts: { ntfy_url: ntfy.url('warden-watch'), retry_base: '200ms' },
    });
    const d = await startOnFakeSysfs(sb);
    await runOneWorker(sb, 'watch-1');
    const heatedAt = Date.now();
    setTemp(85_000);
    await waitFor('the thermal pause, long before the next tick', paused(sb, 'thermal'), 8_000, 20);
    const pausedAfter = Date.now() - heatedAt;
    assert.ok(pausedAfter < 8_000, `paused ${pausedAfter} ms after the crossing; the next tick was 10 minutes away`);
    await waitFor('ntfy to receive paused: thermal', () => ntfy.requests.find(titled('paused: thermal')) ?? null, 10_000, 25);
    assert.equal((await status(sb)).workers.length, 1, 'the pause holds spawning; it does not stop the running worker');
    await d.stop();
  });

  test('with watch_interval = "0s", the same crossing waits for the next tick', async () => {
    setTemp(50_000);
    setThrottled('0');
    const sb = makeSandbox({
      supervisor: { poll_interval: '10m' },
      admission: { watch_interval: '0s', recover_after: '0s', max_temperature: 75 },
    });
    const d = await startOnFakeSysfs(sb);
    await runOneWorker(sb, 'nowatch-1');
    setTemp(85_000);
    await new Promise((r) => setTimeout(r, 2_000));
    assert.deepEqual((await status(sb)).pause.reasons, [], 'no tick ran, so nothing sampled the heat');
    await d.stop();
  });

  test('a reload that turns the watch on applies it to the worker already running', async () => {
    setTemp(50_000);
    setThrottled('0');
    const sections = {
      supervisor: { poll_interval: '10m' },
      admission: { watch_interval: '0s', recover_after: '0s', max_temperature: 75 },
    };
    const sb = makeSandbox(sections);
    const d = await startOnFakeSysfs(sb);
    await runOneWorker(sb, 'reload-1');
    writeConfig(sb, { ...sections, admission: { ...sections.admission, watch_interval: '200ms' } });
    process.kill(d.pid, 'SIGHUP');
    await waitFor('the reload to be logged', () => d.log().includes('config reloaded'));
    setTemp(85_000);
    await waitFor('the thermal pause from the reloaded watch, long before the next tick', paused(sb, 'thermal'), 8_000, 20);
    await d.stop();
  });

  test('under-voltage now pauses with reason power; since boot only does not', async () => {
    setTemp(50_000);
    setThrottled('50005');
    const sb = makeSandbox({ admission: { recover_after: '0s' } });
    const d = await startOnFakeSysfs(sb);
    await addTask(sb, 'uv-1', `sleep=0.1 count=${sb.countFile}`);
    await waitFor('the power pause', paused(sb, 'power'));
    assert.equal(countLines(sb.countFile).length, 0);
    setThrottled('50000');
    await waitForStarts(sb.countFile, 1, 10_000);
    const s = await status(sb);
    assert.deepEqual(s.pause.reasons, []);
    await d.stop();
  });
});
