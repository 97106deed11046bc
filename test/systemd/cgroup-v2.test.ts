// What cgroup v2 changes (issue 17, item 3), in whichever harness runs this file: the v2 VM
// (scripts/with-vm.sh, as on Pi OS Bookworm) or the hybrid container. On v2, systemd 252 reacts to
// an OOM kill itself: the scope fails with Result=oom-kill and systemd stops what is left of it
// (SIGTERM, SIGKILL after TimeoutStopSec). The wrapper must still write its exit record, or the
// attempt would be misread. Tests that only mean something on v2 skip elsewhere, saying why.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { readCgroupFiles, cgroupMode } from '../../src/systemd/cgroups.ts';
import { meminfoField } from '../../src/admission/sample.ts';
import {
  addTask,
  ensureWorkerUser,
  freshDir,
  inHarness,
  installService,
  journal,
  nowForJournal,
  sh,
  status,
  stopService,
  tasks,
  waitFor,
  writeConfig,
} from './harness.ts';

const here = inHarness();
const mode = here ? cgroupMode(readCgroupFiles()) : null;
const swapOn = (meminfoField(readFileSync('/proc/meminfo', 'latin1'), 'SwapTotal') ?? 0) > 0;
const skip = here ? false : 'needs the real-systemd harness (scripts/with-systemd.sh or scripts/with-vm.sh)';
const v2Only = skip || (mode !== 'v2' ? `cgroup v2 only; this run is ${mode}` : false);
const SWAP_WARNING = /worker swap is NOT capped/;

describe(`cgroup behaviour (${mode ?? 'no harness'}, swap ${swapOn ? 'on' : 'off'})`, { skip }, () => {
  before(() => ensureWorkerUser());
  after(() => stopService());

  test('OOM with the smallest stop_grace ("0s", TimeoutStopSec=1): oom_killed every time, the exit record intact, memory.peak in the attempt record', async () => {
    const dir = freshDir('oom-grace0');
    const config = writeConfig(dir, {
      worker: { memory_max: '64M', stop_grace: '0s', max_attempts: 1 },
      supervisor: { max_concurrent_workers: 1 },
    });
    installService(config);
    const since = nowForJournal();
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    const ROUNDS = 3;
    for (let i = 1; i <= ROUNDS; i++) addTask(config, `hog${i}`, 'alloc=256M sleep=5');
    const done = await waitFor(
      `${ROUNDS} hogs recorded`,
      () => {
        const t = tasks(config).filter((x) => x.id.startsWith('hog') && x.history.length > 0);
        return t.length === ROUNDS ? t : null;
      },
      120_000,
    );
    for (const t of done) {
      const a = t.history[0]!;
      assert.equal(a.outcome, 'oom_killed', `${t.id}: ${JSON.stringify(a)}`);
      const rec = readFileSync(`${dir}/state/run/${t.id}.1.exit`, 'latin1').trim();
      const m = /^137 oom_kill=(\d+) peak=(\d+) limit=(\d+)$/.exec(rec);
      assert.ok(m, `${t.id}: the wrapper wrote its whole record: "${rec}"`);
      assert.ok(Number(m[1]) >= 1, `${t.id}: the scope's OOM counter moved`);
      assert.equal(Number(m[3]), 64 * 1024 ** 2);
      assert.ok(Number(m[2]) >= 60 * 1024 ** 2, `${t.id}: peak ${m[2]} reached the cap`);
      assert.equal(a.memoryPeak, Number(m[2]), `${t.id}: memory.peak is in the attempt record`);
    }
    if (mode === 'v2') {
      // systemd's own reaction on v2, which the wrapper outlived
      await waitFor("systemd's oom-kill result in the journal", () => /oom-kill/.test(journal('warden-hog1.scope', since)));
    }
    console.log(
      `# OOM with stop_grace 0s on ${mode}: ${done.map((t) => `${t.id} ${t.history[0]?.outcome} peak=${t.history[0]?.memoryPeak}`).join(', ')}`,
    );
    stopService();
  });

  test(
    'cgroup v2 with swap on: no LIMITS swap warning, and inside a worker scope memory.swap.max is 0',
    { skip: v2Only || (!swapOn && 'needs swap on (the VM has a swapfile)') },
    async () => {
      const dir = freshDir('swapmax');
      const out = `${dir}/out/swap.max`;
      const config = writeConfig(dir, {
        worker: {
          // the worker reads its own cgroup's files, as the kernel applies them to it
          command: ['/bin/sh', '-c', `cat "/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)/memory.swap.max" > ${out}`],
          startup_window: '0s',
        },
      });
      installService(config);
      const since = nowForJournal();
      assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
      const st = await waitFor('warden answers', () => status(config));
      assert.equal(st.executor?.enforcesLimits, true);
      assert.deepEqual(
        (st.executor?.warnings ?? []).filter((w) => SWAP_WARNING.test(w)),
        [],
        'no swap warning in status',
      );
      addTask(config, 'reader', 'read memory.swap.max');
      const t = await waitFor('reader done', () => tasks(config).find((x) => x.id === 'reader' && x.history.length > 0));
      assert.equal(t.history[0]?.outcome, 'succeeded', JSON.stringify(t.history[0]));
      assert.equal(readFileSync(out, 'latin1').trim(), '0', 'MemorySwapMax=0 reached the kernel');
      assert.doesNotMatch(journal('warden.service', since), SWAP_WARNING);
      console.log(`# cgroup v2, SwapTotal > 0: memory.swap.max inside the scope = ${readFileSync(out, 'latin1').trim()}, no swap warning`);
      stopService();
    },
  );
});
