// Raspberry Pi readiness, judged from fixture trees of the files a real host has: a stock Pi OS
// Bookworm (memory controller and PSI off), the same Pi fixed and rebooted, an older image with
// /boot/cmdline.txt, and a machine that is not a Pi.
import assert from 'node:assert/strict';

import { cpSync, rmSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readHostFiles } from '../../../src/doctor/host-files.ts';
import {
  assessPiReadiness,
  cmdlineFix,
  planCmdlineFix,
  piReadinessChecks,
  piReadinessLine,
  REQUIRED_CMDLINE,
} from '../../../src/doctor/pi-readiness.ts';
import { tempRoot } from '../../helpers/tmp.ts';
import { runCliSync } from '../../helpers/cli.ts';
import { HOSTS } from '../../helpers/paths.ts';

const STOCK_LINE =
  'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet splash plymouth.ignore-serial-consoles cfg80211.ieee80211_regdom=GB';

const tmpRoot = tempRoot('readiness').path;

const host = (name: string) => assessPiReadiness(readHostFiles(join(HOSTS, name)));
const byId = (checks: ReturnType<typeof piReadinessChecks>) => Object.fromEntries(checks.map((c) => [c.id, c]));

describe('a stock Raspberry Pi OS Bookworm (Pi 5)', () => {
  const r = host('pi5-bookworm-stock');
  test('is recognised as a Pi from /proc/device-tree/model (NUL-terminated)', () => {
    assert.equal(r.pi, 'Raspberry Pi 5 Model B Rev 1.0');
  });
  test('has the memory controller off: cgroup v2 without "memory" in cgroup.controllers', () => {
    assert.equal(r.mode, 'v2');
    assert.equal(r.memory.enabled, false);
  });
  test('has PSI off', () => {
    assert.equal(r.psi, false);
  });
  test('the fix goes into /boot/firmware/cmdline.txt (not the /boot/cmdline.txt stub) and adds all three parameters', () => {
    assert.equal(r.cmdline?.path, '/boot/firmware/cmdline.txt');
    assert.deepEqual(r.cmdline?.added, ['cgroup_enable=memory', 'cgroup_memory=1', 'psi=1']);
    assert.equal(r.cmdline?.after, `${STOCK_LINE} cgroup_enable=memory cgroup_memory=1 psi=1`);
  });
  test('doctor fails the memory check (systemd would be refused) and prints the exact change and path', () => {
    const c = byId(piReadinessChecks(r, { installer: '/opt/warden/install.sh' }));
    assert.equal(c['memory-cgroup']?.status, 'fail');
    assert.equal(
      c['memory-cgroup']?.fix,
      `add "cgroup_enable=memory cgroup_memory=1 psi=1" to the single line in /boot/firmware/cmdline.txt (or run: sudo /opt/warden/install.sh --fix-cmdline), then reboot; the line becomes: ${STOCK_LINE} cgroup_enable=memory cgroup_memory=1 psi=1`,
    );
    assert.equal(c.psi?.status, 'warn');
    assert.equal(c.psi?.fix, c['memory-cgroup']?.fix, 'one edit fixes both');
    assert.equal(c['raspberry-pi']?.summary, 'Raspberry Pi 5 Model B Rev 1.0');
  });
  test('with allow_unenforced_limits (or the direct executor) the memory check is a warning', () => {
    assert.equal(byId(piReadinessChecks(r, { memoryOptional: true }))['memory-cgroup']?.status, 'warn');
  });
  test("the installer's readiness line names the command, the parameters and the file", () => {
    assert.equal(
      piReadinessLine(r, '/opt/warden/install.sh'),
      'Raspberry Pi 5 Model B Rev 1.0: memory controller OFF, PSI OFF: run `sudo /opt/warden/install.sh --fix-cmdline` (/boot/firmware/cmdline.txt: adds cgroup_enable=memory cgroup_memory=1 psi=1), then reboot',
    );
  });
  test('swap is reported as secondary while the memory controller is off', () => {
    assert.equal(byId(piReadinessChecks(r))['swap']?.status, 'info');
  });
});

describe('the same Pi after the fix and a reboot', () => {
  const r = host('pi5-bookworm-fixed');
  test('everything passes and nothing is left to change', () => {
    assert.equal(r.pi, 'Raspberry Pi 5 Model B Rev 1.0');
    assert.equal(r.memory.enabled, true);
    assert.equal(r.psi, true);
    assert.equal(r.cmdline, null);
    const c = piReadinessChecks(r);
    assert.deepEqual(
      c.filter((x) => x.status === 'fail' || x.status === 'warn'),
      [],
    );
    assert.equal(piReadinessLine(r), 'Raspberry Pi 5 Model B Rev 1.0: memory controller on (cgroup v2), PSI on');
  });
  test('its 100 MB swap is accounted per cgroup, so MemorySwapMax=0 holds', () => {
    const swap = byId(piReadinessChecks(r))['swap'];
    assert.equal(swap?.status, 'pass');
    assert.match(swap?.summary ?? '', /swap 100\.0M, accounted per cgroup/);
  });
});

test('cgroup v1 (hybrid) with swap on: the swap check warns, since systemd applies MemorySwapMax=0 only on v2', () => {
  const r = { ...host('pi5-bookworm-fixed'), mode: 'hybrid' as const };
  const swap = byId(piReadinessChecks(r))['swap'];
  assert.equal(swap?.status, 'warn');
  assert.match(swap?.summary ?? '', /cgroup v1, hybrid: systemd ignores MemorySwapMax=0/);
  assert.match(swap?.fix ?? '', /systemd\.unified_cgroup_hierarchy=1/);
});

test('fixed in cmdline.txt but not rebooted yet: the one thing to do is reboot', () => {
  const dir = join(tmpRoot, 'pending');
  cpSync(join(HOSTS, 'pi5-bookworm-stock'), dir, { recursive: true });
  writeFileSync(join(dir, 'boot/firmware/cmdline.txt'), `${STOCK_LINE} cgroup_enable=memory cgroup_memory=1 psi=1\n`);
  const r = assessPiReadiness(readHostFiles(dir));
  assert.equal(r.memory.enabled, false);
  assert.equal(r.cmdline?.changed, false);
  assert.equal(r.cmdline?.pendingReboot, true);
  assert.equal(
    cmdlineFix(r),
    '/boot/firmware/cmdline.txt already has cgroup_enable=memory cgroup_memory=1 psi=1: reboot to apply it (sudo reboot)',
  );
  assert.match(piReadinessLine(r), /already has the fix: reboot to apply it$/);
});

test('an older image (Pi 4, hybrid cgroups): /proc/cgroups says memory is off, and the fix goes into /boot/cmdline.txt', () => {
  const r = host('pi4-buster-stock');
  assert.equal(r.pi, 'Raspberry Pi 4 Model B Rev 1.4');
  assert.equal(r.mode, 'hybrid');
  assert.deepEqual(r.memory, { enabled: false, why: 'the memory cgroup controller is disabled on the kernel command line' });
  assert.equal(r.cmdline?.path, '/boot/cmdline.txt');
});

describe('a machine that is not a Pi', () => {
  const r = host('x86-server');
  test('is not taken for a Pi, and passes with cgroup v2, PSI and accounted swap', () => {
    assert.equal(r.pi, null);
    assert.equal(r.memory.enabled, true);
    assert.equal(r.cmdline, null, 'no cmdline.txt to edit');
    const c = byId(piReadinessChecks(r));
    assert.equal(c['raspberry-pi']?.summary, 'not a Raspberry Pi');
    assert.equal(c['memory-cgroup']?.status, 'pass');
    assert.equal(c.swap?.status, 'pass');
  });
  test('without PSI it is told to use the bootloader, not cmdline.txt', () => {
    const dir = join(tmpRoot, 'x86-nopsi');
    cpSync(join(HOSTS, 'x86-server'), dir, { recursive: true });
    rmSync(join(dir, 'proc/pressure'), { recursive: true });
    const psi = byId(piReadinessChecks(assessPiReadiness(readHostFiles(dir))))['psi'];
    assert.equal(psi?.status, 'warn');
    assert.match(psi?.fix ?? '', /GRUB_CMDLINE_LINUX/);
  });
  test('swap without per-cgroup accounting is a warning: MemorySwapMax=0 would not hold', () => {
    const dir = join(tmpRoot, 'x86-noswapacct');
    cpSync(join(HOSTS, 'x86-server'), dir, { recursive: true });
    rmSync(join(dir, 'sys/fs/cgroup/system.slice'), { recursive: true });
    const swap = byId(piReadinessChecks(assessPiReadiness(readHostFiles(dir))))['swap'];
    assert.equal(swap?.status, 'warn');
    assert.match(swap?.summary ?? '', /swap 2\.0G is on but not accounted per cgroup/);
  });
});

describe('planCmdlineFix', () => {
  test('appends what is missing and keeps everything else in order', () => {
    const p = planCmdlineFix('console=tty1 root=/dev/mmcblk0p2 rootwait');
    assert.equal(p.after, 'console=tty1 root=/dev/mmcblk0p2 rootwait cgroup_enable=memory cgroup_memory=1 psi=1');
    assert.deepEqual(p.removed, []);
  });
  test('leaves a complete line byte for byte, odd spacing included', () => {
    const line = 'console=tty1  rootwait\tcgroup_enable=memory cgroup_memory=1 psi=1 ';
    const p = planCmdlineFix(line);
    assert.equal(p.changed, false);
    assert.equal(p.after, line);
  });
  test('removes what turns them off: cgroup_disable=memory (only memory from a list), psi=0, cgroup_memory=0', () => {
    const p = planCmdlineFix('a cgroup_disable=memory psi=0 b cgroup_disable=cpuset,memory cgroup_memory=0');
    assert.deepEqual(p.removed, ['cgroup_disable=memory', 'psi=0', 'cgroup_disable=cpuset,memory', 'cgroup_memory=0']);
    assert.equal(p.after, 'a b cgroup_disable=cpuset cgroup_enable=memory cgroup_memory=1 psi=1');
  });
  test('accepts memory inside a cgroup_enable list', () => {
    const p = planCmdlineFix('x cgroup_enable=cpuset,memory cgroup_memory=1 psi=1');
    assert.equal(p.changed, false);
  });
  test('is idempotent', () => {
    for (const line of ['', 'a b', 'psi=0 cgroup_disable=memory', STOCK_LINE]) {
      const once = planCmdlineFix(line).after;
      assert.equal(planCmdlineFix(once).changed, false, line);
    }
  });
  test('the parameters are the ones FACTS.md names', () => {
    assert.deepEqual([...REQUIRED_CMDLINE], ['cgroup_enable=memory', 'cgroup_memory=1', 'psi=1']);
  });
});

test('`warden doctor --readiness --sysroot` prints the one readiness line (what install.sh shows)', () => {
  const r = runCliSync(['doctor', '--readiness', '--sysroot', join(HOSTS, 'pi5-bookworm-stock')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^Raspberry Pi 5 Model B Rev 1\.0: memory controller OFF, PSI OFF: run `sudo \S*install\.sh --fix-cmdline` \(\/boot\/firmware\/cmdline\.txt: adds cgroup_enable=memory cgroup_memory=1 psi=1\), then reboot\n$/,
  );
});
