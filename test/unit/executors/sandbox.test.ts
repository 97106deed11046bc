// The sandbox as declared: the settings of every attempt, what each attempt's paths become, what a
// host without cgroup v2 cannot enforce, and the README table that must name each setting.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONFINEMENT, sandboxEnv, sandboxGaps, sandboxLine, sandboxProperties, type SandboxPaths } from '../../../src/executors/sandbox.ts';
import { ROOT } from '../../helpers/paths.ts';

const PATHS: SandboxPaths = {
  worktree: '/var/lib/warden/worktrees/gh-1',
  home: '/var/lib/warden/homes/gh-1',
  runFiles: ['/var/lib/warden/run/gh-1.2.pid', '/var/lib/warden/run/gh-1.2.exit'],
  promptFile: '/var/lib/warden/prompts/gh-1',
  gitDir: '/home/pi/src/project/.git',
  writable: ['/srv/cache'],
  hiddenDirs: ['/var/lib/warden', '/var/lib/warden/worktrees'],
  inaccessible: ['/etc/warden', '/etc/warden/config.toml'],
};
const LIMITS = { tasksMax: 512, fileSizeMax: 2 * 1024 ** 3, denyNetworks: ['192.168.1.0/24'], envFile: '/etc/warden/env' };

test('every attempt gets every row of the confinement table, then its limits', () => {
  const props = sandboxProperties(PATHS, LIMITS);
  for (const r of CONFINEMENT) assert.ok(props.includes(`${r.setting}=${r.value}`), `${r.setting} missing`);
  assert.ok(props.includes('TasksMax=512'));
  assert.ok(props.includes(`LimitFSIZE=${2 * 1024 ** 3}`));
  assert.ok(props.includes('CapabilityBoundingSet='), 'an empty bounding set: no capability at all');
  assert.ok(props.includes('ProtectSystem=strict'));
});

test("state_dir and the worktrees' base are an empty read-only tmpfs; only the attempt's own paths come back, writable", () => {
  const props = sandboxProperties(PATHS, LIMITS);
  assert.deepEqual(
    props.filter((p) => p.startsWith('TemporaryFileSystem=')),
    ['TemporaryFileSystem=/var/lib/warden:ro', 'TemporaryFileSystem=/var/lib/warden/worktrees:ro'],
  );
  assert.deepEqual(
    props.filter((p) => p.startsWith('BindPaths=')),
    [
      'BindPaths=/var/lib/warden/worktrees/gh-1',
      'BindPaths=/var/lib/warden/homes/gh-1',
      'BindPaths=/var/lib/warden/run/gh-1.2.pid',
      'BindPaths=/var/lib/warden/run/gh-1.2.exit',
      'BindPaths=/home/pi/src/project/.git',
      // an owner-listed path that is missing must not keep the worker from starting
      'BindPaths=-/srv/cache',
    ],
  );
  assert.deepEqual(
    props.filter((p) => p.startsWith('BindReadOnlyPaths=')),
    ['BindReadOnlyPaths=/var/lib/warden/prompts/gh-1'],
  );
  assert.ok(!props.some((p) => p.startsWith('ReadWritePaths=')), 'ReadWritePaths= cannot reopen a path below a TemporaryFileSystem=');
  assert.deepEqual(
    props.filter((p) => p.startsWith('InaccessiblePaths=')),
    ['InaccessiblePaths=-/etc/warden', 'InaccessiblePaths=-/etc/warden/config.toml'],
  );
});

test("[fleet]: the heartbeat's directory comes back read-only, so the dead man's switch can read what warden renews", () => {
  const props = sandboxProperties({ ...PATHS, readOnlyDirs: ['/var/lib/warden/fleet'] }, LIMITS);
  assert.deepEqual(
    props.filter((p) => p.startsWith('BindReadOnlyPaths=')),
    ['BindReadOnlyPaths=/var/lib/warden/prompts/gh-1', 'BindReadOnlyPaths=/var/lib/warden/fleet'],
  );
  assert.ok(!props.includes('BindPaths=/var/lib/warden/fleet'), 'never writable: the worker must not move its own deadline');
});

test('loopback is always denied, the owner adds networks; secrets come from an EnvironmentFile systemd reads', () => {
  const props = sandboxProperties(PATHS, LIMITS);
  assert.ok(props.includes('IPAddressDeny=localhost 192.168.1.0/24'));
  assert.ok(sandboxProperties(PATHS, { ...LIMITS, denyNetworks: [] }).includes('IPAddressDeny=localhost'));
  assert.ok(props.includes('EnvironmentFile=-/etc/warden/env'));
  assert.ok(!sandboxProperties(PATHS, { ...LIMITS, envFile: null }).some((p) => p.startsWith('EnvironmentFile=')));
  const withoutGit = sandboxProperties({ ...PATHS, gitDir: null }, LIMITS);
  assert.ok(!withoutGit.some((p) => p.includes('/.git')));
});

test('cgroup v2 enforces all of it; on hybrid and v1 IPAddressDeny is a named gap, and the line says partial', () => {
  assert.deepEqual(sandboxGaps('v2'), []);
  for (const mode of ['hybrid', 'v1'] as const) {
    const gaps = sandboxGaps(mode);
    assert.equal(gaps.length, 1);
    assert.match(sandboxLine(true, gaps), /^sandbox: partial: IPAddressDeny needs cgroup v2 \(this host: (hybrid|v1)\)/);
  }
  assert.equal(sandboxLine(true, []), 'sandbox: on');
  assert.equal(sandboxLine(false, sandboxGaps('v1')), 'sandbox: off');
});

test("the worker inherits warden's locale and path, not its secrets (unit properties are readable by every local user)", () => {
  const env = sandboxEnv({
    PATH: '/usr/bin',
    LANG: 'C.UTF-8',
    LC_ALL: 'C',
    WARDEN_TASK_ID: 'gh-1',
    ANTHROPIC_API_KEY: 'sk-secret',
    GH_TOKEN: 'ghp_secret',
    HOME: '/root',
  });
  assert.deepEqual(Object.keys(env).sort(), ['LANG', 'LC_ALL', 'PATH', 'WARDEN_TASK_ID']);
});

/** The rows of README's "What a worker can and cannot touch" table. */
function touchTable(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### What a worker can and cannot touch');
  assert.ok(start >= 0, 'README.md has no "What a worker can and cannot touch" section');
  const lines = readme.slice(start).split('\n');
  const head = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[] = [];
  for (const l of lines.slice(head + 2)) {
    if (!l.startsWith('|')) break;
    rows.push(l);
  }
  return rows;
}

test('the README table names every setting of the confinement table', () => {
  const table = touchTable().join('\n');
  const missing = CONFINEMENT.filter((r) => !table.includes(`\`${r.setting}=`));
  assert.deepEqual(
    missing.map((r) => r.setting),
    [],
  );
});

test('each README row is proven by a named test: an attempt of the hostile worker or a test of test/systemd/sandbox.test.ts', () => {
  const hostile = readFileSync(join(ROOT, 'test/fixtures/hostile-worker.mjs'), 'utf8');
  const suite = readFileSync(join(ROOT, 'test/systemd/sandbox.test.ts'), 'utf8');
  const rows = touchTable();
  assert.ok(rows.length >= 10, `${rows.length} rows`);
  for (const row of rows) {
    const proof = row.split('|').at(-2)?.trim() ?? '';
    const names = [...proof.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '');
    assert.ok(names.length > 0, `row names no test: ${row}`);
    for (const name of names) {
      // "read /a/file" is the hostile worker's `read ${file}` over the plan's files
      const inHostile = /^read \//.test(name)
        ? hostile.includes('`read ${file}`')
        : hostile.includes(`'${name}'`) || hostile.includes(`"${name}"`);
      assert.ok(inHostile || suite.includes(`'${name}'`), `no test named "${name}" (row: ${row})`);
    }
  }
});
