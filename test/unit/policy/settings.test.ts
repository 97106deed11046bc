// coreSettingsFrom: the one mapping from a loaded config to what the decision core reads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../../src/config/load.ts';
import { coreSettingsFrom, DEFAULT_USAGE_LIMIT_WAIT } from '../../../src/policy/settings.ts';
import { MINIMAL_CONFIG } from '../../helpers/settings.ts';
import { GiB, MiB, MINUTE, SECOND } from '../../helpers/units.ts';

test('each key lands in its own setting, in ms and bytes', () => {
  const config = parseConfigText(
    `${MINIMAL_CONFIG}max_concurrent_workers = 3\nmin_spawn_interval = "20s"\nmax_daily_cost_usd = 5\n` +
      '[worker]\nmax_attempts = 4\nstartup_window = "15s"\nmemory_max = "1G"\nusage_limit_wait = "30m"\n' +
      '[admission]\nmin_available_memory = "512M"\nmax_load_per_cpu = 2\nmax_memory_pressure = 30\nrecover_after = "3m"\nmax_temperature = 70\n' +
      '[breaker]\nfailures = 5\n',
    'w.toml',
  );
  const s = coreSettingsFrom(config);
  assert.deepEqual(
    [s.maxConcurrentWorkers, s.minSpawnInterval, s.maxDailyCostUsd, s.maxAttempts, s.startupWindow, s.memoryMax, s.usageLimitWait],
    [3, 20 * SECOND, 5, 4, 15 * SECOND, GiB, 30 * MINUTE],
  );
  assert.deepEqual(s.admission, {
    minAvailableMemory: 512 * MiB,
    maxLoadPerCpu: 2,
    maxMemoryPressure: 30,
    recoverAfter: 3 * MINUTE,
    maxTemperature: 70,
  });
  assert.equal(s.breaker.failures, 5);
  assert.equal(s.backoff, config.backoff);
});

test('without usage_limit_wait or max_daily_cost_usd: wait an hour, and no budget', () => {
  const s = coreSettingsFrom(parseConfigText(MINIMAL_CONFIG, 'w.toml'));
  assert.equal(s.usageLimitWait, DEFAULT_USAGE_LIMIT_WAIT);
  assert.equal(DEFAULT_USAGE_LIMIT_WAIT, 60 * MINUTE);
  assert.equal(s.maxDailyCostUsd, null);
  const { usage_limit_wait: _, ...worker } = parseConfigText(MINIMAL_CONFIG, 'w.toml').worker;
  assert.equal(coreSettingsFrom({ ...parseConfigText(MINIMAL_CONFIG, 'w.toml'), worker }).usageLimitWait, DEFAULT_USAGE_LIMIT_WAIT);
});
