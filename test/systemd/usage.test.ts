// Per-worker usage from the scope's own cgroup files (src/usage/cgroup.ts) with a real systemd:
// status shows the worker's memory against the MemoryMax the kernel enforces, its peak, and its
// CPU % over the last interval. This container runs the host's cgroup mode (hybrid here: the v1
// memory and cpuacct hierarchies; a Pi with Bookworm reads the v2 files). Where the kernel has PSI
// on, status also shows the worker's own memory pressure (its cgroup's memory.pressure: the scope's
// on v2, the same file in the unified tree on hybrid).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { StatusReport } from '../../src/supervisor/report.ts';
import { addTask, cli, ensureWorkerUser, freshDir, inHarness, installService, sh, stopService, waitFor, writeConfig } from './harness.ts';

const skip = inHarness() ? false : 'needs the real-systemd harness (scripts/with-systemd.sh)';
const MiB = 1024 ** 2;

describe('worker usage from the scope cgroup', { skip }, () => {
  before(() => ensureWorkerUser());
  after(() => stopService());

  test('memory now, peak and MemoryMax from the scope, CPU % of a busy worker under its CPUQuota, and its own PSI', async () => {
    const dir = freshDir('usage');
    const config = writeConfig(dir, { worker: { memory_max: '192M', cpu_quota: '50%' } });
    installService(config);
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    // spins until stopped below: a fixed 20 s could end before two readings on a slow machine
    addTask(config, 'metered', 'alloc=64M busy=1 sleep=600');
    const w = await waitFor('two cgroup readings of the worker', () => {
      const r = cli(config, 'status', '--json');
      if (r.code !== 0) return null;
      const s = JSON.parse(r.stdout) as StatusReport;
      const u = s.workers[0]?.usage;
      return u && u.cpuPercent !== null && (u.memoryBytes ?? 0) >= 64 * MiB ? { ...s.workers[0]!, usage: u } : null;
    });
    const u = w.usage;
    assert.match(u.source, /^cgroup-v[12]$/);
    assert.equal(u.limitBytes, 192 * MiB, 'the MemoryMax the kernel enforces');
    assert.ok((u.peakBytes ?? 0) >= (u.memoryBytes ?? Infinity), `peak ${u.peakBytes} >= now ${u.memoryBytes}`);
    // CPUQuota=50%: a spinning worker gets about half a core (the scheduler may overshoot a little)
    assert.ok(u.cpuPercent !== null && u.cpuPercent > 20 && u.cpuPercent < 80, `cpu ${u.cpuPercent}% under CPUQuota=50%`);
    const text = cli(config, 'status').stdout;
    stopService();
    assert.match(text, /^ {2}metered$/m);
    assert.match(text, /memory \d+(\.\d)?M of 192M \(\d+%\), peak \d+(\.\d)?M; cpu \d+% over \d+s.*\[scope cgroup v[12]\]/);
    if (existsSync('/proc/pressure/memory')) {
      // the kernel's own percentage for this worker alone (a number, 0 for a worker far below its cap)
      assert.ok(u.pressureSome10 !== null && u.pressureSome10 >= 0 && u.pressureSome10 <= 100, `worker PSI ${u.pressureSome10}`);
      assert.match(text, /; PSI \d+\.\d% {2}\[scope cgroup v[12]\]/);
    } else {
      assert.equal(u.pressureSome10, null, 'PSI off: no worker PSI either');
    }
    console.log(
      `# worker usage (${u.source}): memory ${u.memoryBytes}, peak ${u.peakBytes}, cpu ${u.cpuPercent}%, PSI ${u.pressureSome10}`,
    );
  });
});
