#!/usr/bin/env node
// `npm test`: the unit suite, the integration suite (real processes, direct executor), the fault
// suite (test/faults: hostile conditions, real processes and filesystems), and the
// real-systemd suite inside a throw-away container (scripts/with-systemd.sh) when this machine
// allows it. When it does not, a loud line says the systemd tests were skipped and why.
// Node 20 does not expand globs for --test, and with no files it passes with 0 tests, so the
// files are listed here (recursively) and an empty list is an error.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// Every *.test.ts below `dir`, at any depth (test/unit mirrors src/, one folder per concern).
const list = (dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
        .map((e) => join(e.parentPath ?? e.path, e.name).slice(root.length))
        .sort()
    : [];
const only = process.argv.slice(2); // e.g. `npm test -- unit` or `-- systemd`
const want = (suite) => only.length === 0 || only.includes(suite);

function runNodeTests(name, files, extraEnv = {}) {
  if (files.length === 0) {
    console.error(`\n*** ${name}: no test files found: refusing to report success with zero tests ***\n`);
    process.exit(1);
  }
  console.log(`\n=== ${name}: ${files.length} files ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...extraEnv },
  });
  return r.status === 0;
}

let ok = true;
if (want('unit')) ok = runNodeTests('unit', list('test/unit')) && ok;
if (want('integration')) ok = runNodeTests('integration (real processes, direct executor)', list('test/integration')) && ok;
if (want('faults'))
  ok = runNodeTests('faults (hostile conditions: a second daemon, a full disk, planted files)', list('test/faults')) && ok;
if (want('systemd')) {
  const why = systemdSkipReason();
  if (why) {
    console.log(`\n################################################################################`);
    console.log(`### SKIPPED: real-systemd integration tests (${why})`);
    console.log(`################################################################################\n`);
  } else {
    console.log('\n=== systemd: booting a throw-away systemd container (scripts/with-systemd.sh) ===');
    const files = list('test/systemd');
    if (files.length === 0) {
      console.error('*** systemd: no test files found ***');
      ok = false;
    } else {
      const r = spawnSync(
        join(root, 'scripts/with-systemd.sh'),
        ['test', process.execPath, '--import', 'tsx', '--test', '--test-concurrency=1', ...files],
        {
          cwd: root,
          stdio: 'inherit',
          env: { ...process.env, WARDEN_IN_SYSTEMD_HARNESS: '1' },
        },
      );
      ok = r.status === 0 && ok;
    }
  }
}
console.log(ok ? '\nall suites passed' : '\nSOME SUITES FAILED');
process.exit(ok ? 0 : 1);

function systemdSkipReason() {
  if (process.env.WARDEN_SKIP_SYSTEMD_TESTS === '1') return 'WARDEN_SKIP_SYSTEMD_TESTS=1';
  if (process.getuid?.() !== 0) return 'not root: systemd-nspawn needs root';
  if (!existsSync('/usr/bin/systemd-nspawn')) return 'systemd-nspawn missing: apt-get install --no-install-recommends systemd-container';
  if (!existsSync('/usr/lib/systemd/systemd')) return 'no systemd binary at /usr/lib/systemd/systemd';
  return null;
}
