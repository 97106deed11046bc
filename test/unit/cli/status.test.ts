import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderStatus } from '../../../src/cli/status.ts';
import { emptyState } from '../../../src/state/types.ts';
import { defaultConfig } from '../../helpers/settings.ts';
import { historyReport, scopeUsage, STATUS_NOW, statusReport } from '../../helpers/status.ts';
import { MINUTE } from '../../helpers/units.ts';

const ID64 = 'gh-' + 'x'.repeat(61);
const worker = { taskId: ID64, attempt: 2, pid: 777, unit: `warden-${ID64}.scope`, startedAt: STATUS_NOW - 3 * MINUTE };

describe('warden status text', () => {
  test('a worker shows memory against its cap, its peak, CPU % and uptime; a 64-character ID sits on its own line', () => {
    const lines = renderStatus(statusReport({ workers: [worker] }, scopeUsage()), null, STATUS_NOW, false);
    const i = lines.indexOf(`  ${ID64}`);
    assert.ok(i > 0, lines.join('\n'));
    assert.match(lines[i + 1] ?? '', /attempt 2, pid 777, up 3m/);
    assert.match(lines[i + 2] ?? '', /memory 300M of 2G \(15%\), peak 400M; cpu 43% over 2s; PSI 0\.0% {2}\[scope cgroup v1\]/);
  });

  test('times are local with a relative form; the not-available notes are not repeated', () => {
    const text = renderStatus(statusReport(), null, STATUS_NOW, false).join('\n');
    assert.match(text, /loaded 14:02:00 \(3m ago\)/);
    assert.match(text, /14:04:00 +1m ago {2}spawning t1 attempt 1/);
    assert.doesNotMatch(text, /note:|no CPU thermal zone/);
  });

  test('a pressure pause shows when it may lift, and the thresholds in force', () => {
    const cfg = defaultConfig();
    const st = emptyState(cfg.breaker.cooldown);
    const state = {
      ...st,
      pause: { ...st.pause, pressure: { since: STATUS_NOW - 5 * MINUTE, reasons: ['memory'], clearSince: STATUS_NOW - MINUTE } },
    };
    const text = renderStatus(statusReport({ state }), null, STATUS_NOW, false).join('\n');
    assert.match(text, /paused: {3}pressure since 14:00:00 \(5m ago\): may lift at 14:06:00 \(in 1m\) if it stays clear for recover_after/);
    assert.match(text, /limits: {3}min_available_memory .* recover_after 2m; breaker 3 in 10m, cooldown 15m/);
  });

  test('the last hours as sparklines, with what the history costs on disk', () => {
    const text = renderStatus(statusReport(), historyReport(), STATUS_NOW, false).join('\n');
    assert.match(text, /history: {2}last 6h, one column per 6m \(29\.3K on disk of at most 768K, 19\.5K written today\)/);
    assert.match(text, /MemAvail +[▁▂▃▄▅▆▇█]{60} 2\.0G\.\.5\.5G/);
  });
});
