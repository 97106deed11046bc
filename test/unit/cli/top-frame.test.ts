import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bar, fit, renderTop, visibleLength, type TopInput } from '../../../src/cli/top-frame.ts';
import { historyReport, scopeUsage, STATUS_NOW, statusReport } from '../../helpers/status.ts';
import { MINUTE } from '../../helpers/units.ts';

const worker = (id: string, n = 0) => ({
  taskId: id,
  attempt: 1,
  pid: 700 + n,
  unit: `warden-${id}.scope`,
  startedAt: STATUS_NOW - 2 * MINUTE,
});

function frame(over: Partial<TopInput> = {}, workers = [worker('gh-12')]): string[] {
  return renderTop({
    status: statusReport({ workers }, scopeUsage()),
    error: null,
    history: historyReport(),
    now: STATUS_NOW,
    width: 80,
    height: 24,
    color: false,
    ...over,
  });
}

describe('warden top frame', () => {
  test('fits 80x24 and shows the worker with memory and CPU bars against its caps', () => {
    const lines = frame();
    assert.ok(lines.length <= 24);
    for (const l of lines) assert.ok(visibleLength(l) <= 80, `too wide: ${l}`);
    const text = lines.join('\n');
    assert.match(text, /^ gh-12 +up 2m {2}attempt 1 {2}pid 700$/m);
    assert.match(text, /mem \[█+░+\] 300M\/2G {2}cpu \[█+░+\] 43%\/100%/);
    assert.match(text, /^host {5}MemAvailable 6G\/8G/m);
    assert.match(text, /^queue {4}pending 0 {2}retry_wait 0 {2}running 0$/m);
    assert.match(text, /spawning t1 attempt 1/);
    assert.match(text, /^ MemAvail /m);
  });

  test('a 64-character task ID is cut to fit, not wrapped', () => {
    const id = 'gh-' + 'y'.repeat(61);
    const lines = frame({}, [worker(id)]);
    const row = lines.find((l) => l.startsWith(' gh-yyy'));
    assert.ok(row && visibleLength(row) <= 80 && row.includes('…') && row.includes('pid 700'), row);
  });

  test('many workers on 24 rows: the history goes first, then "+N more"', () => {
    const many = Array.from({ length: 12 }, (_, i) => worker(`w${i}`, i));
    const lines = frame({}, many);
    assert.ok(lines.length <= 24 && lines.length >= 22, String(lines.length));
    assert.ok(!lines.some((l) => l.includes('MemAvail ')), 'no room for the history');
    assert.match(lines.join('\n'), /^ \+\d+ more$/m);
  });

  test('colour only when asked: no escape sequence without it', () => {
    assert.ok(!frame().join('').includes('\x1b['));
    assert.ok(frame({ color: true }).join('').includes('\x1b[1m'));
    for (const l of frame({ color: true })) assert.ok(visibleLength(l) <= 80);
  });

  test('the daemon gone: the error on top, the last status kept', () => {
    const lines = frame({ error: 'warden is not running (no daemon on /x.sock)' });
    assert.match(lines[1] ?? '', /daemon: warden is not running/);
    assert.ok(lines.some((l) => l.includes('gh-12')));
  });

  test('bars and cutting lines', () => {
    assert.equal(bar(0.5, 4, false), '[██░░]');
    assert.equal(bar(null, 3, false), '[   ]');
    assert.equal(bar(2, 2, false), '[██]');
    assert.equal(fit('abcdef', 4), 'abc…');
    assert.equal(visibleLength(fit('\x1b[1mabcdef\x1b[0m', 4)), 4);
  });
});
