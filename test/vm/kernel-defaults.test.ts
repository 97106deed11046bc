// The Raspberry Pi's kernel defaults on a real kernel (issue 17, item 4). Each test boots the v2 VM
// (scripts/with-vm.sh: Debian 12, systemd 252, as Pi OS Bookworm) with other kernel arguments and
// runs test/vm/fixtures/kernel-check.ts inside, which reports what warden did there:
//  - a stock Pi's line (memory controller off, PSI off): the systemd executor refused (exit 78 and
//    the exact cmdline fix), doctor's memory-cgroup check fails, PSI "not available" is said once
//    and admission runs without it; then install.sh --fix-cmdline rewrites a cmdline.txt holding
//    that line;
//  - the VM booted again with the line it wrote: warden starts capped, a hog is oom_killed;
//  - cgroup v1 (hybrid) with swap on: the LIMITS swap warning, which v2 does not show.
// Runs on the host as root (`npm test -- vm-kernel`); each boot takes a minute or more under TCG.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT } from '../helpers/paths.ts';

const WITH_VM = join(ROOT, 'scripts/with-vm.sh');
const skip = process.getuid?.() !== 0 ? 'needs root (scripts/with-vm.sh)' : false;
const SWAP_WARNING = /worker swap is NOT capped: on cgroup v1 systemd ignores MemorySwapMax=0/;
const PI_DEFAULTS = 'cgroup_disable=memory psi=0';

interface Check {
  status: string;
  summary: string;
  fix?: string;
}
interface ServiceRun {
  startCode: number;
  executor: { kind: string; enforcesLimits: boolean; warnings: string[] } | null;
  outcomes: Record<string, { outcome?: string; memoryPeak?: number }>;
  psiUnavailableLines: number;
  limitsLines: string[];
}
interface Seen {
  cmdline: string;
  mode: string;
  controllers: string[];
  psiFile: boolean;
  swapTotalKiB: number;
  refusal?: { code: number | null; stderr: string };
  doctor: Record<string, Check | undefined>;
  withoutPsi?: ServiceRun;
  fix?: { code: number; stdout: string; stderr: string };
  fixedLine?: string;
  capped?: ServiceRun;
  v1?: ServiceRun;
}

const outDir = mkdtempSync('/var/tmp/warden-vm-kernel-');

/** Boots the VM with these kernel arguments and returns what the guest saw in `phase`. */
function boot(phase: string, kernelArgs: string): Seen {
  const out = join(outDir, `${phase}.json`);
  const t0 = Date.now();
  const r = spawnSync(WITH_VM, ['test', process.execPath, '--import', 'tsx', 'test/vm/fixtures/kernel-check.ts', phase, out], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ARCH: 'amd64', KERNEL_ARGS: kernelArgs, BIND: `${ROOT}:${outDir}` },
    timeout: 30 * 60_000,
  });
  console.log(`# ${phase} (KERNEL_ARGS="${kernelArgs}"): exit ${r.status} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(
    r.stderr
      .split('\n')
      .filter((l) => l.startsWith('[with-vm'))
      .join('\n'),
  );
  assert.equal(r.status, 0, `the guest check failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return JSON.parse(readFileSync(out, 'utf8')) as Seen;
}

describe("the Pi's kernel defaults, booted for real", { skip }, () => {
  let fixedArgs: string | null = null;
  after(() => rmSync(outDir, { recursive: true, force: true }));

  test(`${PI_DEFAULTS}: systemd executor refused with 78 and the cmdline fix, doctor fails memory-cgroup, PSI unavailable said once and admission runs; --fix-cmdline rewrites cmdline.txt`, () => {
    const s = boot('pi-defaults', PI_DEFAULTS);
    assert.equal(s.mode, 'v2');
    assert.ok(!s.controllers.includes('memory'), `memory controller off: ${s.controllers.join(' ')}`);
    assert.equal(s.psiFile, false, '/proc/pressure/memory is missing under psi=0');

    assert.equal(s.refusal?.code, 78, s.refusal?.stderr);
    assert.match(s.refusal?.stderr ?? '', /refusing the systemd executor: worker memory_max would NOT be enforced/);
    assert.match(
      s.refusal?.stderr ?? '',
      /add "cgroup_enable=memory cgroup_memory=1" to the single line in \/boot\/firmware\/cmdline\.txt/,
    );
    assert.doesNotMatch(s.refusal?.stderr ?? '', /^\s+at /m, 'no stack trace');

    assert.equal(s.doctor['memory-cgroup']?.status, 'fail', JSON.stringify(s.doctor['memory-cgroup']));
    assert.match(s.doctor['memory-cgroup']?.fix ?? '', /cgroup_enable=memory/);
    assert.equal(s.doctor.psi?.status, 'warn');

    const w = s.withoutPsi!;
    assert.deepEqual(w.outcomes, { a: { outcome: 'succeeded' }, b: { outcome: 'succeeded' } }, 'admission ran without PSI');
    assert.equal(w.psiUnavailableLines, 1, 'PSI unavailable is said once, not per sample');
    assert.ok(
      w.limitsLines.some((l) => /memory_max is NOT enforced/.test(l)),
      'allow_unenforced_limits runs with the loud LIMITS line',
    );

    assert.equal(s.fix?.code, 0, s.fix?.stderr);
    assert.match(s.fix?.stdout ?? '', /reboot/);
    const tokens = (s.fixedLine ?? '').split(/\s+/);
    for (const t of ['cgroup_enable=memory', 'cgroup_memory=1', 'psi=1']) assert.ok(tokens.includes(t), `${t} added`);
    for (const t of ['cgroup_disable=memory', 'psi=0']) assert.ok(!tokens.includes(t), `${t} removed`);
    // what the VM's own defaults do not already say: the next boot's KERNEL_ARGS
    const booted = s.cmdline.split(/\s+/);
    const defaults = booted.filter((t) => !PI_DEFAULTS.split(' ').includes(t));
    fixedArgs = tokens.filter((t) => t && !defaults.includes(t)).join(' ');
    console.log(`# fixed cmdline.txt adds: ${fixedArgs}`);
  });

  test('booted with the line --fix-cmdline wrote: memory controller and PSI on, warden starts capped, a hog is oom_killed', (t) => {
    if (fixedArgs === null) return t.skip('the pi-defaults boot did not produce a fixed line');
    const s = boot('fixed', fixedArgs);
    assert.ok(s.controllers.includes('memory'), `memory controller on: ${s.controllers.join(' ')}`);
    assert.equal(s.psiFile, true);
    assert.equal(s.doctor['memory-cgroup']?.status, 'pass');
    assert.equal(s.doctor.psi?.status, 'pass');
    assert.equal(s.doctor.swap?.status, 'pass', 'v2 with swap: MemorySwapMax=0 holds');
    const c = s.capped!;
    assert.equal(c.startCode, 0);
    assert.equal(c.executor?.kind, 'systemd');
    assert.equal(c.executor?.enforcesLimits, true);
    assert.deepEqual(c.executor?.warnings, [], 'no LIMITS warning: capped, and no swap warning on v2');
    assert.deepEqual(c.limitsLines, []);
    assert.equal(c.psiUnavailableLines, 0);
    assert.equal(c.outcomes.ok?.outcome, 'succeeded');
    assert.equal(c.outcomes.hog?.outcome, 'oom_killed');
    assert.ok((c.outcomes.hog?.memoryPeak ?? 0) >= 60 * 1024 ** 2, `memory.peak recorded: ${c.outcomes.hog?.memoryPeak}`);
  });

  test('cgroup v1 (hybrid) with swap on: the LIMITS swap warning at start and in status, and doctor warns', () => {
    const s = boot('hybrid', 'systemd.unified_cgroup_hierarchy=0');
    assert.equal(s.mode, 'hybrid');
    assert.ok(s.swapTotalKiB > 0, 'swap is on');
    const v1 = s.v1!;
    assert.ok(
      v1.executor?.warnings.some((w) => SWAP_WARNING.test(w)),
      JSON.stringify(v1.executor),
    );
    assert.ok(v1.limitsLines.some((l) => SWAP_WARNING.test(l)));
    assert.equal(v1.outcomes.ok?.outcome, 'succeeded');
    assert.equal(s.doctor.swap?.status, 'warn', JSON.stringify(s.doctor.swap));
  });
});
