#!/usr/bin/env node
// `npm test`: the unit suite, the integration suite (real processes, direct executor), the fault
// suite (test/faults: hostile conditions, real processes and filesystems), the real-systemd suite
// twice: inside a throw-away container (scripts/with-systemd.sh; this host's cgroup mode, hybrid
// v1 here) and inside a throw-away VM on cgroup v2 (scripts/with-vm.sh, Debian 12 as on Pi OS
// Bookworm), and the Pi's kernel defaults booted for real in that VM (test/vm). Each run prints the
// cgroup mode it ran in and each suite its time. When this machine cannot run a suite, a loud line
// says it was skipped and why. arm64 (scripts/arm64-smoke.sh in an emulated arm64 VM) runs once its
// image is built (see DEFAULT).
// Node 20 does not expand globs for --test, and with no files it passes with 0 tests, so the
// files are listed here (recursively) and an empty list is an error.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
// Every *.test.ts below `dir`, at any depth (test/unit mirrors src/, one folder per concern).
const list = (dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
        .map((e) => join(e.parentPath ?? e.path, e.name).slice(root.length + 1))
        .sort()
    : [];
const SUITES = ['unit', 'integration', 'faults', 'systemd', 'systemd-v2', 'vm-kernel', 'arm64'];
// Every suite runs by default. arm64 runs by default only once its image is built: the build takes
// about 90 minutes under emulation, more than a CI run may take, so a fresh machine skips it with a
// loud line, and `npm test -- arm64` builds the image and runs it (README "Platforms proven").
const DEFAULT = SUITES;
const only = process.argv.slice(2); // e.g. `npm test -- unit` or `-- systemd systemd-v2`
for (const s of only) {
  if (!SUITES.includes(s)) {
    console.error(`run-tests: unknown suite "${s}"; the suites are: ${SUITES.join(', ')}`);
    process.exit(2);
  }
}
const want = (suite) => (only.length === 0 ? DEFAULT.includes(suite) : only.includes(suite));
const NODE_TEST = ['--import', 'tsx', '--test', '--test-concurrency=1'];
/** Prints where a harness run landed (architecture, cgroup mode, systemd), then runs the tests. */
const WHERE =
  'if [ -f /sys/fs/cgroup/cgroup.controllers ]; then m="cgroup v2 (unified)"; elif [ -d /sys/fs/cgroup/unified ]; then m="cgroup v1 (hybrid)"; else m="cgroup v1"; fi; ' +
  'echo "=== $0: running in $(uname -m), $m, $(systemctl --version | head -n 1)"; exec "$@"';
const times = [];

function timed(name, fn) {
  const t0 = Date.now();
  const result = fn(); // true, false, or a skip reason (string)
  const s = ((Date.now() - t0) / 1000).toFixed(0);
  times.push({ name, s, result: result === true ? 'passed' : result === false ? 'FAILED' : 'skipped' });
  console.log(`\n--- ${name}: ${result === true ? 'passed' : result === false ? 'FAILED' : 'skipped'} in ${s} s`);
  return result !== false;
}

function skipped(name, why) {
  console.log(`\n################################################################################`);
  console.log(`### SKIPPED: ${name} (${why})`);
  console.log(`################################################################################\n`);
  return why;
}

function runNodeTests(name, files, extraEnv = {}) {
  if (files.length === 0) {
    console.error(`\n*** ${name}: no test files found: refusing to report success with zero tests ***\n`);
    process.exit(1);
  }
  console.log(`\n=== ${name}: ${files.length} files ===`);
  const r = spawnSync(process.execPath, [...NODE_TEST, ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...extraEnv },
  });
  return r.status === 0;
}

/** The real-systemd files inside a harness: `harness` is argv before the command. */
function harnessArgv(name, harness) {
  const files = list('test/systemd');
  if (files.length === 0) {
    console.error(`\n*** ${name}: no test files found: refusing to report success with zero tests ***\n`);
    process.exit(1);
  }
  return [harness[0], [...harness.slice(1), '/bin/sh', '-c', WHERE, name, process.execPath, ...NODE_TEST, ...files]];
}

function runInHarness(name, harness, env) {
  const [cmd, args] = harnessArgv(name, harness);
  return spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } }).status === 0;
}

/**
 * The same, started beside the suites that follow: its output goes to a log file, printed whole
 * when `finish` is awaited, so the two runs' lines do not interleave.
 */
function startInHarness(name, harness, env) {
  const [cmd, args] = harnessArgv(name, harness);
  const log = join(tmpdir(), `warden-test-${name}-${process.pid}.log`);
  const fd = openSync(log, 'w');
  const t0 = Date.now();
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  closeSync(fd);
  // interrupted (Ctrl-C, a CI timeout): stop the VM too (with-vm.sh powers it off on TERM)
  for (const sig of ['SIGINT', 'SIGTERM'])
    process.once(sig, () => {
      child.kill('SIGTERM');
      process.exit(130);
    });
  const done = new Promise((resolve) => {
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
  return {
    log,
    async finish() {
      const passed = await done;
      console.log(`\n=== ${name}: the background run's output (${log}) ===`);
      process.stdout.write(readFileSync(log, 'utf8'));
      return { passed, ms: Date.now() - t0 };
    },
  };
}

let ok = true;
// The v2 VM suite is the longest (about 40 minutes under emulation) and spends it on the emulated
// CPU; the host suites beside it scale their deadlines with the measured slowdown. So unless
// WARDEN_TEST_SERIAL=1, it starts first, in the background, and the host suites run meanwhile:
// the whole run takes about as long as the VM suite plus the suites after it, not the sum.
const hostSuites = ['unit', 'integration', 'faults', 'systemd'].filter(want);
let v2Background = null;
let v2Skip = null;
if (want('systemd-v2')) {
  v2Skip = vmSkipReason();
  if (!v2Skip && hostSuites.length > 0 && process.env.WARDEN_TEST_SERIAL !== '1') {
    v2Background = startInHarness('systemd-v2', [join(root, 'scripts/with-vm.sh'), 'test'], { ARCH: 'amd64' });
    console.log(
      `\n=== systemd-v2: booting a throw-away Debian 12 VM on cgroup v2 (scripts/with-vm.sh), in the background beside ${hostSuites.join(', ')}; log: ${v2Background.log} ===`,
    );
  }
}
if (want('unit')) ok = timed('unit', () => runNodeTests('unit', list('test/unit'))) && ok;
if (want('integration'))
  ok = timed('integration', () => runNodeTests('integration (real processes, direct executor)', list('test/integration'))) && ok;
if (want('faults'))
  ok =
    timed('faults', () => runNodeTests('faults (hostile conditions: a second daemon, a full disk, planted files)', list('test/faults'))) &&
    ok;
if (want('systemd'))
  ok =
    timed('systemd', () => {
      const why = systemdSkipReason();
      if (why) return skipped('real-systemd integration tests in a container', why);
      console.log('\n=== systemd: booting a throw-away systemd container (scripts/with-systemd.sh) ===');
      return runInHarness('systemd', [join(root, 'scripts/with-systemd.sh'), 'test'], { NAME: `warden-test-${process.pid}` });
    }) && ok;
if (v2Background) {
  const { passed, ms } = await v2Background.finish();
  const s = (ms / 1000).toFixed(0);
  times.push({ name: 'systemd-v2', s, result: passed ? 'passed' : 'FAILED' });
  console.log(`\n--- systemd-v2: ${passed ? 'passed' : 'FAILED'} in ${s} s (in the background, beside ${hostSuites.join(', ')})`);
  ok = passed && ok;
} else if (want('systemd-v2'))
  ok =
    timed('systemd-v2', () => {
      if (v2Skip) return skipped('real-systemd integration tests on cgroup v2 in a VM', v2Skip);
      console.log('\n=== systemd-v2: booting a throw-away Debian 12 VM on cgroup v2 (scripts/with-vm.sh) ===');
      return runInHarness('systemd-v2', [join(root, 'scripts/with-vm.sh'), 'test'], { ARCH: 'amd64' });
    }) && ok;
if (want('vm-kernel'))
  ok =
    timed('vm-kernel', () => {
      const why = vmSkipReason();
      if (why) return skipped("the Pi's kernel defaults booted in a VM", why);
      return runNodeTests("vm-kernel (the Pi's kernel defaults, each booted in the VM)", list('test/vm'));
    }) && ok;
if (want('arm64'))
  ok =
    timed('arm64', () => {
      const why = vmSkipReason('arm64') ?? arm64ImageMissing();
      if (why) return skipped('the arm64 smoke run in an emulated VM', why);
      return spawnSync(join(root, 'scripts/arm64-smoke.sh'), [], { cwd: root, stdio: 'inherit' }).status === 0;
    }) && ok;
console.log('\nsuite times:');
for (const t of times) console.log(`  ${t.name.padEnd(12)} ${t.result.padEnd(8)} ${t.s.padStart(5)} s`);
console.log(ok ? '\nall suites passed' : '\nSOME SUITES FAILED');
process.exit(ok ? 0 : 1);

function systemdSkipReason() {
  if (process.env.WARDEN_SKIP_SYSTEMD_TESTS === '1') return 'WARDEN_SKIP_SYSTEMD_TESTS=1';
  if (process.getuid?.() !== 0) return 'not root: systemd-nspawn needs root';
  if (!existsSync('/usr/bin/systemd-nspawn')) return 'systemd-nspawn missing: apt-get install --no-install-recommends systemd-container';
  if (!existsSync('/usr/lib/systemd/systemd')) return 'no systemd binary at /usr/lib/systemd/systemd';
  return checkoutUnreachable();
}

/** By default (not asked for by name), arm64 runs only on a built image: its build is about 90 minutes. */
function arm64ImageMissing() {
  if (only.includes('arm64')) return null;
  const r = spawnSync(join(root, 'scripts/with-vm.sh'), ['current'], { env: { ...process.env, ARCH: 'arm64' }, stdio: 'ignore' });
  return r.status === 0
    ? null
    : 'the arm64 image is not built or not current: its build takes about 90 minutes under emulation; run `npm test -- arm64` (or ARCH=arm64 scripts/with-vm.sh build) once, and later runs include it';
}

function vmSkipReason(arch = 'amd64') {
  if (process.env.WARDEN_SKIP_VM_TESTS === '1') return 'WARDEN_SKIP_VM_TESTS=1';
  if (process.getuid?.() !== 0) return 'not root: scripts/with-vm.sh needs root';
  const qemu = arch === 'arm64' ? 'qemu-system-aarch64' : 'qemu-system-x86_64';
  const pkgs = arch === 'arm64' ? 'qemu-system-arm qemu-user-static arch-test' : 'qemu-system-x86';
  for (const bin of [qemu, 'qemu-img', 'mmdebstrap']) {
    if (!onPath(bin))
      return `${bin} missing: apt-get install --no-install-recommends ${pkgs} qemu-utils mmdebstrap (or: ARCH=${arch} scripts/with-vm.sh install)`;
  }
  return checkoutUnreachable();
}

function onPath(bin) {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => existsSync(join(d, bin)));
}

/**
 * The worker user (not root) runs the fixtures from this checkout. The harnesses make their own
 * directories above the checkout traversable (a clone under /root works), but the checkout itself
 * is the host's: a clone made with umask 077 is unreadable to that user, and the tests would fail
 * with startup_error and exit 126. Say so in one line instead.
 */
function checkoutUnreachable() {
  for (const [path, bits] of [
    [root, 0o005],
    [join(root, 'scripts'), 0o005],
    [join(root, 'scripts/fake-worker'), 0o005],
    [join(root, 'node_modules'), 0o005],
    [join(root, 'dist'), 0o005],
  ]) {
    try {
      if ((statSync(path).mode & bits) !== bits)
        return `the worker user cannot read ${path} (mode ${(statSync(path).mode & 0o777).toString(8)}): run chmod -R o+rX ${root}, or clone with umask 022`;
    } catch {
      // missing: the tests say so themselves (dist/ needs npm run build)
    }
  }
  return null;
}
