// The config schema: resolved defaults, malformed files rejected by the real CLI with one line per
// problem (exit 78, EX_CONFIG) and no stack trace, the [fleet] table, and README's config table.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseConfigText } from '../../../src/config/load.ts';
import { configTables } from '../../../src/config/schema.ts';
import { FAILURE_KINDS } from '../../../src/policy/failure-kind.ts';
import { MINIMAL_CONFIG } from '../../helpers/settings.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = join(ROOT, 'dist/cli/main.js');

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const MINIMAL = MINIMAL_CONFIG;

const tmpRoot = mkdtempSync(join(tmpdir(), 'warden-config-test-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let fileNo = 0;

/** Writes `text` to a fresh config file and runs `warden config check --config FILE` on it. */
function configCheck(text: string): { file: string; status: number | null; stdout: string; stderr: string; lines: string[] } {
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` before the unit tests`);
  const file = join(tmpRoot, `config-${++fileNo}.toml`);
  writeFileSync(file, text);
  const env = { ...process.env };
  delete env.WARDEN_CONFIG;
  const r = spawnSync(process.execPath, [CLI, 'config', 'check', '--config', file], { encoding: 'utf8', env, timeout: 30_000 });
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  return { file, status: r.status, stdout: r.stdout, stderr: r.stderr, lines };
}

function assertNoStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /^ {4}at /m, `stderr must not contain a stack trace:\n${stderr}`);
}

describe('defaults', () => {
  const c = parseConfigText(MINIMAL, 'minimal.toml');

  test('max_concurrent_workers defaults to 1', () => assert.equal(c.supervisor.max_concurrent_workers, 1));
  test('min_spawn_interval defaults to 10s', () => assert.equal(c.supervisor.min_spawn_interval, 10 * SECOND));
  test('poll_interval defaults to 30s', () => assert.equal(c.supervisor.poll_interval, 30 * SECOND));
  test('memory_max defaults to 2G', () => assert.equal(c.worker.memory_max, 2 * GiB));
  test('cpu_quota defaults to 100%', () => assert.equal(c.worker.cpu_quota, 100));
  test('max_runtime defaults to 2h', () => assert.equal(c.worker.max_runtime, 2 * HOUR));
  test('startup_window defaults to 10s', () => assert.equal(c.worker.startup_window, 10 * SECOND));
  test('max_attempts defaults to 3', () => assert.equal(c.worker.max_attempts, 3));
  test('backoff for startup_error defaults to 5m x2, at most 2h', () => {
    assert.deepEqual(c.backoff.startup_error, { base: 5 * MINUTE, factor: 2, max: 2 * HOUR });
  });
  test('backoff for every other failure kind defaults to 1m x2, at most 30m', () => {
    for (const kind of FAILURE_KINDS.filter((k) => k !== 'startup_error')) {
      assert.deepEqual(c.backoff[kind], { base: MINUTE, factor: 2, max: 30 * MINUTE }, kind);
    }
  });
  test('breaker defaults to 3 failures in 10m, cooldown 15m', () => {
    assert.deepEqual(c.breaker, { failures: 3, window: 10 * MINUTE, cooldown: 15 * MINUTE });
  });
  test('admission defaults to 768M available, 1.5 load per CPU, 20% PSI, recover after 2m, watch every 1s', () => {
    assert.deepEqual(c.admission, {
      min_available_memory: 768 * MiB,
      max_load_per_cpu: 1.5,
      max_memory_pressure: 20,
      recover_after: 2 * MINUTE,
      watch_interval: 1000,
      max_temperature: 75,
      min_free_inodes: 10_000,
    });
  });
  test('executor defaults to auto', () => assert.equal(c.executor.kind, 'auto'));
});

test('a partial [backoff.<kind>] override keeps the other fields of that kind', () => {
  const c = parseConfigText(MINIMAL + '[backoff.startup_error]\nbase = "1m"\n', 'partial.toml');
  assert.deepEqual(c.backoff.startup_error, { base: MINUTE, factor: 2, max: 2 * HOUR });
  assert.deepEqual(c.backoff.timeout, { base: MINUTE, factor: 2, max: 30 * MINUTE });
});

describe('malformed configs via the real CLI exit 78 with one line per problem and no stack trace', () => {
  const cases: { name: string; text: string; expect: RegExp }[] = [
    {
      name: 'missing key: no supervisor.state_dir',
      text: '[supervisor]\nmax_concurrent_workers = 1\n',
      expect: /supervisor\.state_dir: required key is missing/,
    },
    {
      name: 'missing key: no [supervisor] table',
      text: '[worker]\nmemory_max = "1G"\n',
      expect: /supervisor: required table \[supervisor\] is missing/,
    },
    {
      name: 'wrong type: max_concurrent_workers = "one"',
      text: MINIMAL + 'max_concurrent_workers = "one"\n',
      expect: /:3:1: supervisor\.max_concurrent_workers: expected an integer/,
    },
    {
      name: 'unknown key: a typo like min_spawn_intervl',
      text: MINIMAL + 'min_spawn_intervl = "10s"\n',
      expect: /:3:1: supervisor\.min_spawn_intervl: unknown key/,
    },
    {
      name: 'unknown key: an unknown [backoff.foo] table',
      text: MINIMAL + '[backoff.foo]\nbase = "1m"\n',
      expect: /:3:1: backoff\.foo: unknown key/,
    },
    {
      name: 'negative size: memory_max = "-1G"',
      text: MINIMAL + '[worker]\nmemory_max = "-1G"\n',
      expect: /:4:1: worker\.memory_max: expected a non-negative size, got "-1G"/,
    },
    {
      name: 'a busy-poll pressure watch: watch_interval = "10ms"',
      text: MINIMAL + '[admission]\nwatch_interval = "10ms"\n',
      expect: /:4:1: admission\.watch_interval: expected "0s" \(off\) or at least "100ms"/,
    },
    {
      name: 'out of range: max_concurrent_workers = 0',
      text: MINIMAL + 'max_concurrent_workers = 0\n',
      expect: /:3:1: supervisor\.max_concurrent_workers: expected an integer between 1 and 64/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = configCheck(c.text);
      assert.equal(r.status, 78, r.stderr);
      assert.equal(r.lines.length, 1, `expected exactly one problem line, got:\n${r.stderr}`);
      assert.match(r.lines[0] ?? '', c.expect);
      assert.ok((r.lines[0] ?? '').startsWith(r.file), `the line names the file: ${r.lines[0]}`);
      assertNoStackTrace(r.stderr);
    });
  }

  test('bad TOML line: `foo = = 3` on line 3 is reported as FILE:3:', () => {
    const r = configCheck('[supervisor]\nstate_dir = "/var/lib/warden"\nfoo = = 3\n');
    assert.equal(r.status, 78, r.stderr);
    assert.equal(r.lines.length, 1, r.stderr);
    assert.ok((r.lines[0] ?? '').startsWith(`${r.file}:3:`), `expected ${r.file}:3: in ${r.lines[0]}`);
    assert.match(r.lines[0] ?? '', /invalid TOML/);
    assertNoStackTrace(r.stderr);
  });

  test('three problems in one file give three lines, one per offending key', () => {
    const r = configCheck(MINIMAL + 'min_spawn_intervl = "10s"\nmax_concurrent_workers = 0\n[worker]\nmemory_max = "-1G"\n');
    assert.equal(r.status, 78, r.stderr);
    assert.equal(r.lines.length, 3, r.stderr);
    assert.match(r.lines[0] ?? '', /:3:1: supervisor\.min_spawn_intervl: /);
    assert.match(r.lines[1] ?? '', /:4:1: supervisor\.max_concurrent_workers: /);
    assert.match(r.lines[2] ?? '', /:6:1: worker\.memory_max: /);
    assertNoStackTrace(r.stderr);
  });
});

test('a valid config passes `config check` with exit 0', () => {
  // min_available_memory 0: a 512M worker fits even a 1 GB host, so the verdict does not depend on this machine's memory
  const r = configCheck(
    MINIMAL + '[worker]\nmemory_max = "512M"\n[admission]\nmin_available_memory = "0"\n[backoff.startup_error]\nbase = "1m"\n',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /: OK \(sha256 [0-9a-f]{12}\)/);
  assert.equal(r.stderr, '');
});

describe('paths that pass the check must work at run time (issue 16)', () => {
  const problemsOf = (text: string): string[] => {
    try {
      parseConfigText(text, 'c.toml');
      return [];
    } catch (err) {
      return (err as Error).message.split('\n');
    }
  };

  test('a control socket over the 107-byte sun_path limit is refused; 107 bytes is accepted', () => {
    const at = (n: number) => '/' + 's'.repeat(n - 1);
    assert.deepEqual(problemsOf(`${MINIMAL}[control]\nsocket = "${at(107)}"\n`), []);
    const p = problemsOf(`${MINIMAL}[control]\nsocket = "${at(108)}"\n`);
    assert.equal(p.length, 1);
    assert.match(p[0] ?? '', /control\.socket: the control socket path \S+ is 108 bytes, over the 107-byte limit/);
  });

  test('the default socket derived from a long state_dir is checked too, on state_dir', () => {
    const dir = '/' + 'd'.repeat(100); // + "/warden.sock" = 113 bytes
    const p = problemsOf(`[supervisor]\nstate_dir = "${dir}"\n`);
    assert.equal(p.length, 1, p.join('\n'));
    assert.match(p[0] ?? '', /supervisor\.state_dir: .* over the 107-byte limit .*shorten state_dir or set \[control\] socket/);
    // with a short socket of its own, the long state_dir is fine
    assert.deepEqual(problemsOf(`[supervisor]\nstate_dir = "${dir}"\n[control]\nsocket = "/run/warden.sock"\n`), []);
  });

  test('a NUL byte in state_dir (or another path) is refused', () => {
    assert.match(
      problemsOf('[supervisor]\nstate_dir = "/var/lib/w\\u0000x"\n')[0] ?? '',
      /supervisor\.state_dir: a path cannot contain a NUL byte/,
    );
    assert.match(
      problemsOf(`${MINIMAL}[control]\nsocket = "/run/w\\u0000.sock"\n`)[0] ?? '',
      /control\.socket: a path cannot contain a NUL byte/,
    );
  });

  test('state_dir on a directory shared with the system is refused; a directory of its own is not', () => {
    for (const dir of ['/', '//', '/etc', '/usr/', '/tmp', '/var/lib', '/var/lib/..', '/proc/1', '/sys/fs', '/dev/shm']) {
      const p = problemsOf(`[supervisor]\nstate_dir = "${dir}"\n`);
      assert.equal(p.length, 1, `${dir}: ${p.join('\n')}`);
      assert.match(p[0] ?? '', /supervisor\.state_dir: .*(shared with the rest of the system|kernel virtual filesystem)/, dir);
    }
    for (const dir of ['/var/lib/warden', '/tmp/warden-test', '/srv/warden', '/home/pi/warden'])
      assert.deepEqual(problemsOf(`[supervisor]\nstate_dir = "${dir}"\n`), [], dir);
  });

  test('`warden config check` exits 78 with one line for each of them', () => {
    for (const text of [
      '[supervisor]\nstate_dir = "/"\n',
      `[supervisor]\nstate_dir = "/${'d'.repeat(100)}"\n`,
      '[supervisor]\nstate_dir = "/a\\u0000b"\n',
    ]) {
      const r = configCheck(text);
      assert.equal(r.status, 78, r.stderr);
      assert.equal(r.lines.length, 1, r.stderr);
      assertNoStackTrace(r.stderr);
    }
  });
});

test('[worker] deny_networks takes addresses and networks systemd accepts, and names what it refuses', () => {
  const base = '[supervisor]\nstate_dir = "/var/lib/warden"\n[worker]\n';
  const ok = parseConfigText(`${base}deny_networks = ["192.168.1.0/24", "10.0.0.7", "fd00::/8"]\n`, 'c.toml');
  assert.deepEqual(ok.worker.deny_networks, ['192.168.1.0/24', '10.0.0.7', 'fd00::/8']);
  for (const bad of ['192.168.1.0/33', 'lan', '10.0.0.0/8/1', 'fd00::/129'])
    assert.throws(
      () => parseConfigText(`${base}deny_networks = ["${bad}"]\n`, 'c.toml'),
      (err: Error) => /worker\.deny_networks.*expected an IP address or network/.test(err.message),
      bad,
    );
  const d = parseConfigText(base, 'c.toml');
  assert.deepEqual(
    [d.worker.tasks_max, d.worker.file_size_max, d.worker.env_file, d.executor.sandbox],
    [512, 2 * 1024 ** 3, '/etc/warden/env', false],
  );
});

// The [fleet] table: optional, its defaults, and the mistakes it refuses with one line each.
describe('the [fleet] table', () => {
  const withFleet = (body: string) => parseConfigText(`${MINIMAL_CONFIG}[fleet]\n${body}\n`, 'w.toml');
  const refusal = (body: string): string => {
    try {
      withFleet(body);
    } catch (err) {
      return (err as Error).message;
    }
    return 'accepted';
  };

  test('without [fleet], the config has none: a single node', () => {
    assert.equal(parseConfigText(MINIMAL_CONFIG, 'w.toml').fleet, null);
  });

  test('defaults: the host name as the node, "/warden/", 30 s leases, no fleet-wide worker limit', () => {
    const f = withFleet('endpoints = ["http://10.0.0.2:2379"]').fleet;
    assert.equal(f?.node, hostname());
    assert.equal(f?.prefix, '/warden/');
    assert.equal(f?.lease_ttl, 30_000);
    assert.equal(f?.max_fleet_workers, null);
  });

  test('refused: no endpoint, credentials in a URL, a lease_ttl out of range, half a TLS pair, http with a CA', () => {
    assert.match(refusal('endpoints = []'), /fleet\.endpoints: expected at least one etcd endpoint/);
    assert.match(refusal('endpoints = ["http://root:pw@10.0.0.2:2379"]'), /no credentials/);
    assert.match(
      refusal('endpoints = ["http://10.0.0.2:2379"]\nlease_ttl = "1s"'),
      /fleet\.lease_ttl: expected a duration between 3s and 10m/,
    );
    assert.match(
      refusal('endpoints = ["https://10.0.0.2:2379"]\nca_file = "/etc/ca.crt"\ncert_file = "/etc/c.crt"'),
      /fleet\.key_file: set cert_file and key_file together/,
    );
    assert.match(refusal('endpoints = ["http://10.0.0.2:2379"]\nca_file = "/etc/ca.crt"'), /every endpoint must be https/);
    assert.match(
      refusal('endpoints = ["http://10.0.0.2:2379"]\nusername = "warden"'),
      /fleet\.password_file: set username and password_file together/,
    );
  });
});

// README.md's config reference table against the schema: every key the schema accepts is
// documented there, and every key documented there is one the schema accepts. Keys are compared
// as `table.key` (`source.github.repo`, `backoff.<kind>.base`), walking the zod schema itself, so a
// new key without a README row (or a README row for a removed key) fails here, by name.
describe("README's config table against the schema", () => {
  const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

  /** The schema under its optional/default/transform wrappers. */
  function unwrap(s: z.core.$ZodType): z.core.$ZodType {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault || s instanceof z.ZodPrefault)
      return unwrap(s.unwrap());
    if (s instanceof z.ZodPipe) return unwrap(s.in);
    return s;
  }

  /** `table.key` for every key of every table, nested tables included. [backoff.<kind>] is one
   * table for all failure kinds, as the README writes it. */
  function schemaKeys(shape: Record<string, z.core.$ZodType>, prefix: string[] = []): string[] {
    const out: string[] = [];
    for (const [key, sub] of Object.entries(shape)) {
      const inner = unwrap(sub);
      const name = prefix[0] === 'backoff' && (FAILURE_KINDS as readonly string[]).includes(key) ? '<kind>' : key;
      if (inner instanceof z.ZodObject) out.push(...schemaKeys(inner.shape, [...prefix, name]));
      else if (prefix.length === 0) out.push(`${name} (a key outside any table)`);
      else out.push([...prefix, name].join('.'));
    }
    return [...new Set(out)];
  }

  /** The keys in the README's `| key | default | meaning |` table: a first cell like
   * "`[worker] memory_max`" or "`[alerts] retry_base`, `retry_max`". */
  function readmeKeys(text: string): string[] {
    const lines = text.split('\n');
    const start = lines.findIndex((l) => /^\|\s*key\s*\|\s*default\s*\|\s*meaning\s*\|/.test(l));
    assert.ok(start >= 0, 'README.md has no "| key | default | meaning |" table');
    const out: string[] = [];
    for (const line of lines.slice(start + 2)) {
      if (!line.startsWith('|')) break;
      const cell = line.split('|')[1] ?? '';
      const names = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
      const first = /^\[([^\]]+)\]\s+(\S+)$/.exec(names[0] ?? '');
      assert.ok(first, `README config table row does not start with "\`[table] key\`": ${line}`);
      const [, table, key] = first;
      for (const k of [key, ...names.slice(1)]) out.push(`${table}.${k}`);
    }
    return out;
  }

  test('every schema key is in the README config table, and every key there is in the schema', () => {
    const schema = schemaKeys(configTables.shape);
    const readme = readmeKeys(README);
    assert.ok(schema.length > 50 && readme.length > 50, `walked ${schema.length} schema keys and ${readme.length} README keys`);
    const undocumented = schema.filter((k) => !readme.includes(k));
    const unknown = readme.filter((k) => !schema.includes(k));
    assert.deepEqual(undocumented, [], `keys the README config table does not document: ${undocumented.join(', ')}`);
    assert.deepEqual(unknown, [], `keys in the README config table that the schema does not accept: ${unknown.join(', ')}`);
    const twice = readme.filter((k, i) => readme.indexOf(k) !== i);
    assert.deepEqual(twice, [], `keys documented twice in the README config table: ${twice.join(', ')}`);
  });

  test('every failure kind (the <kind> of [backoff.<kind>]) is in the README list of failure kinds', () => {
    const start = README.indexOf('Failure kinds (the `<kind>` in `[backoff.<kind>]`)');
    assert.ok(start >= 0, 'README.md has no "Failure kinds (the `<kind>` in `[backoff.<kind>]`)" paragraph');
    const paragraph = README.slice(start, README.indexOf('\n\n', start));
    const missing = FAILURE_KINDS.filter((k) => !paragraph.includes(`\`${k}\``));
    assert.deepEqual(missing, [], `failure kinds the README list does not name: ${missing.join(', ')}`);
  });
});
