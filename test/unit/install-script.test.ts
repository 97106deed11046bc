// install.sh outside systemd: shellcheck, `--fix-cmdline` on fixture trees (only the one line
// changes, a backup is kept, a second run changes nothing, and the bash edit equals
// planCmdlineFix's), option errors, the release bundle's contents, and the config example.
// The install itself runs end to end in test/systemd/install.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { describe, test } from 'node:test';
import { firstLine, planCmdlineFix } from '../../src/doctor/pi-readiness.ts';
import { tempRoot } from '../helpers/tmp.ts';
import { runCliSync } from '../helpers/cli.ts';
import { HOSTS, ROOT } from '../helpers/paths.ts';

const INSTALL = join(ROOT, 'install.sh');

const tmpRoot = tempRoot('install-script').path;
let n = 0;

function run(...args: string[]) {
  const r = spawnSync('bash', [INSTALL, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fixture(name: string): string {
  const dir = join(tmpRoot, `${name}-${++n}`);
  cpSync(join(HOSTS, name), dir, { recursive: true });
  return dir;
}

function backups(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bak'))
    .sort();
}

const shellcheck = spawnSync('shellcheck', ['--version']).status === 0;
test(
  'shellcheck install.sh passes',
  { skip: shellcheck ? false : 'SKIPPED: shellcheck is not installed (apt-get install --no-install-recommends shellcheck)' },
  () => {
    const r = spawnSync('shellcheck', [INSTALL], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  },
);

describe('install.sh --fix-cmdline on a stock Pi OS Bookworm', () => {
  const root = fixture('pi5-bookworm-stock');
  const file = join(root, 'boot/firmware/cmdline.txt');
  const original = readFileSync(file, 'utf8');
  const stub = readFileSync(join(root, 'boot/cmdline.txt'), 'utf8');
  const first = run('--fix-cmdline', '--sysroot', root);

  test('adds the three parameters to the one line and says a reboot is needed', () => {
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /^warden-install: cmdline: \S+\/boot\/firmware\/cmdline\.txt: added cgroup_enable=memory cgroup_memory=1 psi=1 \(backup: \S+\.bak\); reboot to apply it: sudo reboot\n$/,
    );
    assert.equal(readFileSync(file, 'utf8'), `${original.trimEnd()} cgroup_enable=memory cgroup_memory=1 psi=1\n`);
  });
  test('keeps a backup identical to the original', () => {
    const b = backups(join(root, 'boot/firmware'));
    assert.equal(b.length, 1);
    assert.equal(readFileSync(join(root, 'boot/firmware', b[0]!), 'utf8'), original);
  });
  test('does not touch the /boot/cmdline.txt stub', () => {
    assert.equal(readFileSync(join(root, 'boot/cmdline.txt'), 'utf8'), stub);
  });
  test('a second run changes nothing and makes no new backup, and still says to reboot', () => {
    const before = readFileSync(file, 'utf8');
    const again = run('--fix-cmdline', '--sysroot', root);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already has cgroup_enable=memory cgroup_memory=1 psi=1: nothing to change; reboot to apply it/);
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.equal(backups(join(root, 'boot/firmware')).length, 1);
  });
  test('then the readiness check sees the pending reboot', () => {
    const r = runCliSync(['doctor', '--readiness', '--sysroot', root]);
    assert.match(r.stdout, /already has the fix: reboot to apply it/);
  });
});

test('--fix-cmdline on an older image edits /boot/cmdline.txt', () => {
  const root = fixture('pi4-buster-stock');
  const r = run('--fix-cmdline', '--sysroot', root);
  assert.equal(r.code, 0, r.stderr);
  assert.match(readFileSync(join(root, 'boot/cmdline.txt'), 'utf8'), / cgroup_enable=memory cgroup_memory=1 psi=1\n$/);
});

test('--fix-cmdline on the fixed Pi changes nothing and needs no reboot', () => {
  const root = fixture('pi5-bookworm-fixed');
  const before = readFileSync(join(root, 'boot/firmware/cmdline.txt'), 'utf8');
  const r = run('--fix-cmdline', '--sysroot', root);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /and the running kernel too: nothing to change/);
  assert.equal(readFileSync(join(root, 'boot/firmware/cmdline.txt'), 'utf8'), before);
  assert.deepEqual(backups(join(root, 'boot/firmware')), []);
});

test('--fix-cmdline on a machine that is not a Pi stops with the step and the fix', () => {
  const r = run('--fix-cmdline', '--sysroot', fixture('x86-server'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^warden-install: FAILED at cmdline: no \S+ or \S+: this is not a Raspberry Pi boot partition$/m);
  assert.match(r.stderr, /fix: .*GRUB_CMDLINE_LINUX/);
});

test('--fix-cmdline --dry-run shows the new line and writes nothing', () => {
  const root = fixture('pi5-bookworm-stock');
  const file = join(root, 'boot/firmware/cmdline.txt');
  const before = readFileSync(file, 'utf8');
  const r = run('--fix-cmdline', '--dry-run', '--sysroot', root);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /would edit \S+: add cgroup_enable=memory cgroup_memory=1 psi=1; the line would become: console=serial0/);
  assert.equal(readFileSync(file, 'utf8'), before);
  assert.deepEqual(backups(join(root, 'boot/firmware')), []);
});

describe('the bash edit equals planCmdlineFix, and only the first line changes', () => {
  const cases: [string, string][] = [
    ['plain', 'console=tty1 root=/dev/mmcblk0p2 rootwait\n'],
    ['no trailing newline', 'console=tty1 rootwait'],
    ['more lines after the first', 'console=tty1 rootwait\n# a comment the firmware ignores\n\nmore  text\twith   spacing\n'],
    ['CRLF', 'console=tty1 rootwait\r\nsecond\r\n'],
    ['disabling parameters', 'console=tty1 cgroup_disable=memory psi=0 cgroup_memory=0 rootwait\n'],
    ['a disable list', 'console=tty1 cgroup_disable=cpuset,memory,blkio rootwait\n'],
    ['an enable list', 'console=tty1 cgroup_enable=cpuset,memory rootwait\n'],
    ['already complete, odd spacing', 'console=tty1   cgroup_enable=memory\tcgroup_memory=1 psi=1  \n'],
    ['partly there', 'console=tty1 psi=1 rootwait\nsecond\n'],
    ['tabs and double spaces', 'console=tty1\t\troot=x  rootwait \n'],
    ['unicode elsewhere', 'console=tty1 rootwait\n# é ü 漢字\n'],
  ];
  for (const [name, text] of cases) {
    test(name, () => {
      const root = join(tmpRoot, `cross-${++n}`);
      mkdirSync(join(root, 'boot/firmware'), { recursive: true });
      const file = join(root, 'boot/firmware/cmdline.txt');
      writeFileSync(file, text);
      const r = run('--fix-cmdline', '--sysroot', root);
      assert.equal(r.code, 0, r.stderr);
      const line = firstLine(text);
      const plan = planCmdlineFix(line);
      const expected = plan.changed ? plan.after + text.slice(line.length) : text;
      assert.equal(readFileSync(file, 'utf8'), expected);
      assert.equal(backups(join(root, 'boot/firmware')).length, plan.changed ? 1 : 0);
    });
  }
});

describe('options', () => {
  test('a relative --prefix stops at "options" with a fix', () => {
    const r = run('--prefix', 'opt/warden', '--dry-run');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^warden-install: FAILED at options: --prefix must be an absolute path/m);
    assert.match(r.stderr, /fix: --prefix \/opt\/warden/);
  });
  test('an unknown option stops at "options"', () => {
    const r = run('--frobnicate');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /FAILED at options: unknown option --frobnicate/);
  });
  test('an invalid --user is refused', () => {
    const r = run('--user', 'Bad User', '--dry-run');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /FAILED at options: --user 'Bad User' is not a valid user name/);
  });
  test('--help prints the usage from the header', () => {
    const r = run('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--fix-cmdline/);
    assert.match(r.stdout, /--purge/);
  });
});

test('the bundle carries dist and production dependencies only, and runs from where it is unpacked', () => {
  const dest = join(tmpRoot, 'stage');
  const s = spawnSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), '--stage', dest], { encoding: 'utf8' });
  assert.equal(s.status, 0, s.stderr);
  for (const p of [
    'dist/cli/main.js',
    'install.sh',
    'systemd/warden.service',
    'systemd/warden-workers.slice',
    'examples/config.toml',
    'README.md',
    'node_modules/zod',
    'node_modules/smol-toml',
    'node_modules/execa',
  ]) {
    assert.ok(existsSync(join(dest, p)), `${p} is in the bundle`);
  }
  for (const dev of ['typescript', 'tsx', 'esbuild', 'fast-check', '@types'])
    assert.ok(!existsSync(join(dest, 'node_modules', dev)), `${dev} is not in the bundle`);
  assert.ok(!existsSync(join(dest, 'src')) && !existsSync(join(dest, 'test')), 'no sources or tests in the bundle');
  assert.ok(statSync(join(dest, 'scripts/fake-worker')).mode & 0o100, 'the fake worker stays executable');
  const v = spawnSync(process.execPath, [join(dest, 'dist/cli/main.js'), 'version'], { encoding: 'utf8', cwd: '/' });
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /^warden \d+\.\d+\.\d+\n$/);
});

describe('the config example install.sh writes', () => {
  const example = readFileSync(join(ROOT, 'examples/config.toml'), 'utf8');
  const check = (text: string) => {
    const file = join(tmpRoot, `example-${++n}.toml`);
    writeFileSync(file, text);
    // judged on the 8 GB Pi the example's defaults are for, not on this machine's memory
    return runCliSync(['config', 'check', '--config', file, '--sysroot', join(HOSTS, 'pi5-bookworm-fixed')]);
  };
  test('fails `config check` only on the two things the owner must fill in, so install.sh does not start warden', () => {
    const r = check(example);
    assert.equal(r.code, 78);
    const keys = r.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => /: ([a-z_.]+): /.exec(l)?.[1]);
    assert.deepEqual(keys, ['source.github.repo', 'worktree.repo']);
  });
  test('passes once they are filled in', () => {
    const filled = example.replace(/^repo = ""$/m, 'repo = "octo/widgets"').replace(/^repo = ""$/m, 'repo = "/home/pi/src/widgets"');
    const r = check(filled);
    assert.equal(r.code, 0, r.stderr);
  });
  test('every commented key in it is a real key (uncommenting one never makes an unknown-key error)', () => {
    const uncommented = example
      .replace(/^repo = ""$/m, 'repo = "octo/widgets"')
      .replace(/^repo = ""$/m, 'repo = "/home/pi/src/widgets"')
      .replace(/^# (\[alerts\])$/m, '$1')
      .replace(/^# ([a-z_]+ = .*)$/gm, '$1')
      .replace(/^ntfy_token_file = .*$/m, '');
    const r = check(uncommented);
    assert.doesNotMatch(r.stderr, /unknown key/);
    assert.equal(r.code, 0, r.stderr);
  });
});
