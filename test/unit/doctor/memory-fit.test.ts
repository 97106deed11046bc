// "Can this config ever admit a worker here?" in `warden doctor` (the memory-fit check) and in
// `warden config check`, on the small Pis people run: the verdict as a pure function, then the
// real CLI on fixture hosts (--sysroot) of 2 GB and 8 GB.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseConfigText } from '../../../src/config/load.ts';
import { memoryFitCheck } from '../../../src/doctor/memory-fit.ts';
import { runCliSync } from '../../helpers/cli.ts';
import { MEM_TOTAL } from '../../helpers/hosts.ts';
import { FAKE_WORKER, HOSTS } from '../../helpers/paths.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmpRoot = tempRoot('memory-fit-test').path;
const DEFAULTS = parseConfigText('[supervisor]\nstate_dir = "/var/lib/warden"\n', 'c.toml');

describe('the memory-fit check with the default config (memory_max 2G, min_available_memory 768M)', () => {
  for (const [host, status] of [
    ['1G', 'fail'],
    ['2G', 'fail'],
    ['4G', 'pass'],
    ['8G', 'pass'],
  ] as const) {
    test(`a ${host} Pi: ${status}`, () => assert.equal(memoryFitCheck(DEFAULTS, MEM_TOTAL[host]).status, status));
  }
  test('a fail says what does not fit, and its fix names the values that would, sized for this host', () => {
    const c = memoryFitCheck(DEFAULTS, MEM_TOTAL['1G']);
    assert.equal(
      c.summary,
      'no worker can ever be admitted here: memory_max 2G + min_available_memory 768M exceed what this host can ever have available (MemTotal 922.1M minus 128M for the system)',
    );
    assert.equal(
      c.fix,
      'memory_max = "384M" and min_available_memory = "128M" would fit (sized for this host by `warden config suggest`), then: systemctl reload warden',
    );
  });
  test('a config sized for the 2G Pi passes there', () => {
    const sized = parseConfigText(
      '[supervisor]\nstate_dir = "/var/lib/warden"\n[worker]\nmemory_max = "1152M"\n[admission]\nmin_available_memory = "256M"\n',
      'c.toml',
    );
    assert.equal(memoryFitCheck(sized, MEM_TOTAL['2G']).status, 'pass');
  });
  test('without MemTotal there is no verdict', () => assert.equal(memoryFitCheck(DEFAULTS, null).status, 'info'));
});

describe('the CLI on fixture hosts', () => {
  const dir = join(tmpRoot, 'cli');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.toml');
  // the documented minimal config: every memory setting at its default
  writeFileSync(config, `[supervisor]\nstate_dir = "${dir}/state"\n[worker]\ncommand = ["${FAKE_WORKER}"]\n[executor]\nkind = "direct"\n`);
  const pi2g = join(HOSTS, 'pi4-2gb-bookworm');
  const pi8g = join(HOSTS, 'pi5-bookworm-fixed');

  test('`config check` on a 2 GB Pi: exit 78, one line with what does not fit and which values would', () => {
    const r = runCliSync(['config', 'check', '--config', config, '--sysroot', pi2g]);
    assert.equal(r.code, 78);
    assert.equal(
      r.stderr,
      `${config}: worker.memory_max: no worker can ever be admitted on this host: memory_max 2G + min_available_memory 768M exceed what this host can ever have available (MemTotal 1.8G minus 128M for the system); memory_max = "1152M" and min_available_memory = "256M" would fit (sized for this host by \`warden config suggest\`)\n`,
    );
  });
  test('`config check` on an 8 GB Pi: OK', () => {
    const r = runCliSync(['config', 'check', '--config', config, '--sysroot', pi8g]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /: OK \(sha256 /);
  });
  test('`doctor` on a 2 GB Pi fails the memory-fit check, so not "everything fine"', () => {
    const r = runCliSync(['doctor', '--json', '--config', config, '--sysroot', pi2g], { timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    const rep = JSON.parse(r.stdout) as { ok: boolean; checks: { id: string; status: string; fix?: string }[] };
    const fit = rep.checks.find((c) => c.id === 'memory-fit');
    assert.equal(fit?.status, 'fail');
    assert.match(fit?.fix ?? '', /memory_max = "1152M" and min_available_memory = "256M" would fit/);
    assert.equal(rep.ok, false);
  });
  test('`config suggest` prints the sized values for the host it reads', () => {
    const r = runCliSync(['config', 'suggest', '--sysroot', pi2g]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^max_concurrent_workers = 1$/m);
    assert.match(r.stdout, /^memory_max = "1152M"$/m);
    assert.match(r.stdout, /^min_available_memory = "256M"$/m);
    // and what it prints is a config fragment the sized values check out of
    const file = join(dir, 'suggested.toml');
    writeFileSync(file, r.stdout.replace('[supervisor]\n', `[supervisor]\nstate_dir = "${dir}/state"\n`));
    assert.equal(runCliSync(['config', 'check', '--config', file, '--sysroot', pi2g]).code, 0);
  });
  test('`config suggest` without a readable MemTotal: one line, exit 1', () => {
    const r = runCliSync(['config', 'suggest', '--sysroot', dir]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `warden: cannot read MemTotal from ${dir}/proc/meminfo\n`);
  });
});
