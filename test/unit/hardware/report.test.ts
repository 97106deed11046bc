// Edge hardware in admission: the SoC temperature and the Raspberry Pi firmware's throttled flags,
// read from fake sysfs and proc trees in temp dirs and decided on a fake clock, and the hardware
// report of status, /metrics and `warden doctor`.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { describe, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { powerViolations, thermalViolations } from '../../../src/admission/evaluate.ts';
import { sampleHost, type SampleSource } from '../../../src/admission/sample.ts';
import type { HostSample } from '../../../src/admission/evaluate.ts';

import { emptyCounts, renderMetrics } from '../../../src/control/metrics.ts';
import { hardwareChecks, readHardware } from '../../../src/hardware/report.ts';
import { decodeThrottled, describeThrottled, THROTTLED_SYSFS_PATH } from '../../../src/hardware/throttled.ts';
import { planTick } from '../../../src/policy/tick.ts';
import { activePauseReasons } from '../../../src/state/pause-reasons.ts';
import type { StatusReport } from '../../../src/supervisor/report.ts';
import { DEFAULT_SETTINGS } from '../../helpers/settings.ts';
import { oneTask } from '../../helpers/tasks.ts';
import { tempRoot } from '../../helpers/tmp.ts';
import { MINUTE } from '../../helpers/units.ts';

const S = DEFAULT_SETTINGS;
assert.equal(S.admission.maxTemperature, 75);

const tmp = tempRoot('hardware-test').path;
let hostNo = 0;

interface Machine {
  /** thermal zones in order: [type, millidegrees] */
  zones: [string, string][];
  /** get_throttled file text; null = no such file (not a Pi kernel) */
  throttled: string | null;
}

/** A fake host: /proc with an idle machine, /sys with the given zones and firmware file. */
class FakeHost {
  readonly proc: string;
  readonly sys: string;
  constructor(m: Machine) {
    const root = join(tmp, `host${++hostNo}`);
    this.proc = join(root, 'proc');
    this.sys = join(root, 'sys');
    mkdirSync(join(this.proc, 'pressure'), { recursive: true });
    writeFileSync(join(this.proc, 'meminfo'), 'MemTotal:        8039392 kB\nMemAvailable:    7000000 kB\n');
    writeFileSync(join(this.proc, 'loadavg'), '0.10 0.10 0.10 1/100 1\n');
    writeFileSync(join(this.proc, 'pressure', 'memory'), 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
    m.zones.forEach(([type, temp], i) => {
      const z = join(this.sys, 'class', 'thermal', `thermal_zone${i}`);
      mkdirSync(z, { recursive: true });
      writeFileSync(join(z, 'type'), `${type}\n`);
      writeFileSync(join(z, 'temp'), `${temp}\n`);
    });
    if (m.throttled !== null) this.setThrottled(m.throttled);
  }
  get src(): SampleSource {
    return { procRoot: this.proc, cpus: 4, sysRoot: this.sys };
  }
  setTemp(zoneIndex: number, millidegrees: string): void {
    writeFileSync(join(this.sys, 'class', 'thermal', `thermal_zone${zoneIndex}`, 'temp'), `${millidegrees}\n`);
  }
  setThrottled(text: string): void {
    const f = join(this.sys, THROTTLED_SYSFS_PATH);
    mkdirSync(join(f, '..'), { recursive: true });
    writeFileSync(f, text);
  }
}

// the firmware prints "%x\n": hex without a prefix (raspberrypi/linux drivers/firmware/raspberrypi.c)
const MACHINES: { name: string; machine: Machine; temp: number | null; heldBy: RegExp | null; sinceBoot: string[] }[] = [
  { name: 'a cool Pi 5', machine: { zones: [['cpu-thermal', '48350']], throttled: '0\n' }, temp: 48.35, heldBy: null, sinceBoot: [] },
  {
    name: 'a hot Pi 4 (soft temperature limit active)',
    machine: { zones: [['cpu-thermal', '82300']], throttled: '80008\n' },
    temp: 82.3,
    heldBy: /^paused: thermal \(thermal: cpu-thermal at 82\.3 °C is over max_temperature 75 °C\)$/,
    sinceBoot: ['soft temperature limit since boot'],
  },
  {
    name: 'a Pi under-volted now',
    machine: { zones: [['cpu-thermal', '51000']], throttled: '50005\n' },
    temp: 51,
    heldBy: /^paused: power \(power: the firmware reports under-voltage now \(throttled=0x50005\)/,
    sinceBoot: ['under-voltage since boot', 'throttled since boot'],
  },
  {
    name: 'a Pi under-volted earlier but fine now',
    machine: { zones: [['cpu-thermal', '51000']], throttled: '50000\n' },
    temp: 51,
    heldBy: null,
    sinceBoot: ['under-voltage since boot', 'throttled since boot'],
  },
  {
    name: 'an x86 machine without a thermal zone or get_throttled',
    machine: { zones: [], throttled: null },
    temp: null,
    heldBy: null,
    sinceBoot: [],
  },
  {
    name: 'an x86 machine with a package thermal zone (behind an ACPI zone)',
    machine: {
      zones: [
        ['acpitz', '27800'],
        ['x86_pkg_temp', '90000'],
      ],
      throttled: null,
    },
    temp: 90,
    heldBy: /^paused: thermal \(thermal: x86_pkg_temp at 90\.0 °C/,
    sinceBoot: [],
  },
];

describe('fixture machines: the sample, the admission verdict and the since-boot report', () => {
  for (const { name, machine, temp, heldBy, sinceBoot } of MACHINES) {
    test(name, () => {
      const host = new FakeHost(machine);
      const sample = sampleHost(0, host.src);
      assert.deepEqual(sample.errors, [], 'a missing sensor is not an error');
      assert.equal(sample.temperatureC, temp);
      assert.equal(sample.throttled === null, machine.throttled === null);
      const r = planTick(oneTask(), 0, sample, S);
      if (heldBy === null) {
        assert.equal(r.spawns.length, 1, 'admitted');
        assert.deepEqual(activePauseReasons(r.state), []);
      } else {
        assert.equal(r.spawns.length, 0);
        assert.match(r.heldBy ?? '', heldBy);
      }
      const flags =
        sample.throttled === null ? [] : describeThrottled(decodeThrottled(sample.throttled)).filter((f) => f.endsWith('since boot'));
      assert.deepEqual(flags, sinceBoot);
    });
  }
});

describe('hysteresis on a fake clock', () => {
  test('crossing max_temperature pauses at once and resumes only after recover_after below it', () => {
    const host = new FakeHost({ zones: [['cpu-thermal', '80000']], throttled: '0' });
    let state = oneTask();
    let r = planTick(state, 0, sampleHost(0, host.src), S);
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['hardware_paused'],
    );
    assert.deepEqual(activePauseReasons(r.state), ['thermal']);
    state = r.state;
    host.setTemp(0, '60000');
    r = planTick(state, 1 * MINUTE, sampleHost(1 * MINUTE, host.src), S);
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['hardware_recovering'],
    );
    assert.equal(r.spawns.length, 0);
    assert.equal(r.wakeAt, 1 * MINUTE + S.admission.recoverAfter, 'wakes when recover_after has passed');
    state = r.state;
    r = planTick(state, 3 * MINUTE - 1, sampleHost(3 * MINUTE - 1, host.src), S);
    assert.equal(r.spawns.length, 0, 'still paused 1 ms before recover_after');
    state = r.state;
    host.setTemp(0, '76000'); // hot again: the clear period starts over
    r = planTick(state, 3 * MINUTE, sampleHost(3 * MINUTE, host.src), S);
    assert.equal(r.state.pause.thermal?.clearSince, null);
    state = r.state;
    host.setTemp(0, '70000');
    r = planTick(state, 4 * MINUTE, sampleHost(4 * MINUTE, host.src), S);
    state = r.state;
    r = planTick(state, 6 * MINUTE, sampleHost(6 * MINUTE, host.src), S);
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['hardware_resumed', 'task_spawn'],
    );
    assert.deepEqual(activePauseReasons(r.state), []);
  });

  test('under-voltage now pauses with reason power; its clearing waits recover_after too', () => {
    const host = new FakeHost({ zones: [['cpu-thermal', '50000']], throttled: '50005' });
    let r = planTick(oneTask(), 0, sampleHost(0, host.src), S);
    assert.deepEqual(r.events, [{ type: 'hardware_paused', reason: 'power', reasons: [r.state.pause.power!.reasons[0]!] }]);
    assert.deepEqual(activePauseReasons(r.state), ['power']);
    host.setThrottled('50000');
    r = planTick(r.state, MINUTE, sampleHost(MINUTE, host.src), S);
    assert.deepEqual(activePauseReasons(r.state), ['power']);
    r = planTick(r.state, MINUTE + S.admission.recoverAfter, sampleHost(0, host.src), S);
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['hardware_resumed', 'task_spawn'],
    );
  });
});

describe('status and /metrics carry the hardware fields', () => {
  test('temperature, throttled flags, disk free and the last pause reason are metrics', () => {
    const sample = sampleHost(1_700_000_000_000, new FakeHost({ zones: [['cpu-thermal', '81000']], throttled: '50005' }).src);
    const status = {
      daemon: { pid: 1, version: '0.1.0', startedAt: 0, uptimeMs: 1 },
      settings: { maxConcurrentWorkers: 1 },
      workers: [],
      tasks: { pending: 0, running: 0, succeeded: 0, retry_wait: 0, dead: 0, blocked: 0, cancelled: 0 },
      totalSpawns: 0,
      pause: { paused: true, reasons: ['thermal', 'power'], manual: null, pressure: null },
      breaker: { phase: 'closed' },
      lastSample: sample,
      hardware: {
        temperatureC: sample.temperatureC,
        thermalZone: sample.thermalZone,
        maxTemperature: 75,
        throttled: decodeThrottled(sample.throttled!),
        notAvailable: [],
      },
      disk: [{ role: 'state_dir', path: '/var/lib/warden', freeBytes: 5e9, freeInodes: 123_456 }],
      lastPause: { reason: 'power', since: 1_700_000_000_000 },
    } as unknown as StatusReport;
    const families = parsePrometheusTextFormat(renderMetrics({ status, counts: emptyCounts(), ready: true, alerts: null })) as {
      name: string;
      metrics: { value: string; labels?: Record<string, string> }[];
    }[];
    const get = (name: string, labels: Record<string, string> = {}) =>
      Number(
        families.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value,
      );
    assert.equal(get('warden_host_temperature_celsius', { zone: 'cpu-thermal' }), 81);
    assert.equal(get('warden_host_throttled', { flag: 'underVoltage', when: 'now' }), 1);
    assert.equal(get('warden_host_throttled', { flag: 'softTempLimit', when: 'since_boot' }), 0);
    assert.equal(get('warden_host_throttled', { flag: 'throttled', when: 'since_boot' }), 1);
    assert.equal(get('warden_disk_free_bytes', { role: 'state_dir' }), 5e9);
    assert.equal(get('warden_disk_free_inodes', { role: 'state_dir' }), 123_456);
    assert.equal(get('warden_last_pause_start_seconds', { reason: 'power' }), 1_700_000_000);
    assert.equal(get('warden_paused', { reason: 'thermal' }), 1);
    assert.equal(get('warden_paused', { reason: 'power' }), 1);
  });
});

describe('warden doctor: the hardware report from fixture trees', () => {
  interface Tree {
    model: string | null;
    revision: string | null;
    temp: string | null;
    throttled: string | null;
    root: string;
    swaps: string;
  }
  function tree(t: Tree): string {
    const root = join(tmp, `doctor${++hostNo}`);
    const w = (p: string, text: string) => {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), text);
    };
    if (t.model) w('proc/device-tree/model', `${t.model}\0`);
    w('proc/cpuinfo', `processor\t: 0\nBogoMIPS\t: 108.00\n${t.revision ? `Revision\t: ${t.revision}\nModel\t\t: ${t.model}\n` : ''}`);
    w('proc/meminfo', 'MemTotal:        8245860 kB\nMemAvailable:    7000000 kB\n');
    if (t.temp) {
      w('sys/class/thermal/thermal_zone0/type', 'cpu-thermal\n');
      w('sys/class/thermal/thermal_zone0/temp', `${t.temp}\n`);
    }
    if (t.throttled !== null) w(join('sys', THROTTLED_SYSFS_PATH), t.throttled);
    w('proc/mounts', `proc /proc proc rw 0 0\n${t.root} / ext4 rw,noatime 0 0\n`);
    w('proc/swaps', `Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n${t.swaps}`);
    return root;
  }
  const noVcgencmd = async () => null;
  const byId = <C extends { id: string; status: string; summary: string }>(checks: C[]): Record<string, C> =>
    Object.fromEntries(checks.map((c) => [c.id, c]));

  test('a cool Pi 5 on an SD card with zram swap', async () => {
    const f = await readHardware(
      tree({
        model: 'Raspberry Pi 5 Model B Rev 1.0',
        revision: 'd04170',
        temp: '47200',
        throttled: '0\n',
        root: '/dev/mmcblk0p2',
        swaps: '/dev/zram0  partition\t2097148\t0\t100\n',
      }),
      noVcgencmd,
    );
    const c = byId(hardwareChecks(f, 75));
    assert.equal(
      c.hardware!.summary,
      'Raspberry Pi 5 Model B Rev 1.0, revision d04170, RAM 7.9G, root on /dev/mmcblk0p2 (SD card or eMMC)',
    );
    assert.deepEqual([c.temperature!.status, c.throttled!.status, c['swap-type']!.status], ['pass', 'pass', 'info']);
    assert.match(c['swap-type']!.summary, /^swap: zram \/dev\/zram0 2\.0G$/);
    assert.match(c.throttled!.summary, /never since boot/);
  });

  test('a hot Pi 4 with a swap file on its SD card, under-volted earlier', async () => {
    const f = await readHardware(
      tree({
        model: 'Raspberry Pi 4 Model B Rev 1.4',
        revision: 'd03114',
        temp: '83100',
        throttled: '50000\n',
        root: '/dev/mmcblk0p2',
        swaps: '/var/swap  file\t102396\t0\t-2\n',
      }),
      noVcgencmd,
    );
    const c = byId(hardwareChecks(f, 75));
    assert.equal(c.temperature!.status, 'warn');
    assert.equal(c.throttled!.status, 'warn');
    assert.match(c.throttled!.summary, /under-voltage since boot, throttled since boot/);
    assert.equal(c['swap-type']!.status, 'warn');
  });

  test('a Pi under-volted now fails the throttled check; vcgencmd stands in when sysfs has no get_throttled', async () => {
    const f = await readHardware(
      tree({ model: 'Raspberry Pi 4 Model B Rev 1.4', revision: 'd03114', temp: '50000', throttled: null, root: '/dev/sda2', swaps: '' }),
      async () => 'throttled=0x50005\n',
    );
    assert.equal(f.throttledSource, 'vcgencmd');
    const c = byId(hardwareChecks(f, 75));
    assert.equal(c.throttled!.status, 'fail');
    assert.match(c.hardware!.summary, /root on \/dev\/sda2 \(USB or SATA disk\)/);
    assert.equal(c['swap-type']!.summary, 'swap: off');
  });

  test('an x86 machine: every missing signal is "not available", nothing fails, vcgencmd is not asked', async () => {
    let asked = false;
    const f = await readHardware(
      tree({ model: null, revision: null, temp: null, throttled: null, root: '/dev/nvme0n1p2', swaps: '' }),
      async () => {
        asked = true;
        return null;
      },
    );
    assert.equal(asked, false);
    const checks = hardwareChecks(f, 75);
    assert.ok(
      checks.every((c) => c.status === 'info'),
      JSON.stringify(checks),
    );
    const c = byId(checks);
    assert.match(c.temperature!.summary, /not available/);
    assert.match(c.throttled!.summary, /not available/);
    assert.match(c.hardware!.summary, /^not a Raspberry Pi .*root on \/dev\/nvme0n1p2 \(NVMe\)$/);
  });
});

test('under-voltage since boot only is not a power pause; under-voltage now is', () => {
  const base: HostSample = sampleHost(0, new FakeHost({ zones: [], throttled: '0' }).src);
  assert.deepEqual(powerViolations({ ...base, throttled: 0x50000 }), []);
  assert.equal(powerViolations({ ...base, throttled: 0x1 }).length, 1);
  assert.deepEqual(thermalViolations({ ...base, temperatureC: 75 }, S.admission), [], 'exactly at max_temperature is admitted');
});
