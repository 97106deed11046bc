// warden doctor's fleet checks, the pure parts: the clock offset from etcd's Date headers, and
// systemd's time spans (WatchdogUSec as `systemctl show` prints it).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clockOffset, parseSystemdSpan, type DateSample } from '../../../src/doctor/fleet.ts';

describe("the clock offset against etcd's Date header", () => {
  // etcd's clock is 2.3 s ahead of this node's; answers take 4 ms, asked every 20 ms
  const etcdAhead = 2300;
  const samples = (from: number, n: number): DateSample[] =>
    Array.from({ length: n }, (_, i) => {
      const sentAt = from + i * 24;
      return { sentAt, receivedAt: sentAt + 4, dateS: Math.floor((sentAt + 2 + etcdAhead) / 1000) };
    });
  test('the second that changes between two answers pins the offset to within their spacing', () => {
    const o = clockOffset(samples(1_000_000_000_100, 60));
    assert.ok(o);
    assert.ok(Math.abs(o.offsetMs - etcdAhead) <= o.uncertaintyMs, JSON.stringify(o));
    assert.ok(o.uncertaintyMs <= 20, `uncertainty ${o.uncertaintyMs}`);
  });
  test('a clock behind etcd gives a negative offset', () => {
    const s = samples(1_000_000_000_100, 60).map((x) => ({ ...x, dateS: Math.floor((x.sentAt + 2 - 5000) / 1000) }));
    const o = clockOffset(s)!;
    assert.ok(Math.abs(o.offsetMs + 5000) <= o.uncertaintyMs, JSON.stringify(o));
  });
  test('answers all within one second pin nothing', () => {
    assert.equal(clockOffset(samples(1_000_000_000_000, 5)), null);
    assert.equal(clockOffset([]), null);
  });
});

describe('systemd time spans', () => {
  test('seconds, minutes and milliseconds, alone or combined', () => {
    assert.equal(parseSystemdSpan('30s\n'), 30_000);
    assert.equal(parseSystemdSpan('1min 30s'), 90_000);
    assert.equal(parseSystemdSpan('500ms'), 500);
  });
  test('0 (no watchdog) and anything unreadable give null', () => {
    assert.equal(parseSystemdSpan('0'), null);
    assert.equal(parseSystemdSpan('infinity'), null);
    assert.equal(parseSystemdSpan(''), null);
  });
});
