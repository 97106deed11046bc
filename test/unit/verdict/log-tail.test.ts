// The running attempt's log cap: once the log passes capBytes, LogTail cuts it back to its first
// half and a marker line; the worker's O_APPEND writes go on after the marker, and the verdict
// reader still sees every event, including ones that straddle a cut.
import assert from 'node:assert/strict';
import { appendFileSync, closeSync, constants, openSync, readFileSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../helpers/wait.ts';
import { LogTail } from '../../../src/verdict/log-tail.ts';
import { streamFixture as fixture } from '../../helpers/streams.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('log-tail-test');
const CAP = 64 * 1024;

test('a log written past its cap keeps its head, a marker and its tail; the result event is parsed', () => {
  const log = join(tmp.fresh('cap'), '1.log');
  const fd = openSync(log, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT); // as the worker's stdout
  writeSync(fd, '{"type":"system","subtype":"init","session_id":"s-1"}\n');
  const tail = new LogTail(log, { fromOffset: 0, capBytes: CAP });
  let maxSize = 0;
  const junk = 'x'.repeat(99) + '\n';
  for (let i = 0; i < 5000; i++) {
    // an event split across writes and across cuts must still arrive whole
    writeSync(fd, i % 500 === 0 ? '{"type":"assistant","mess' : junk);
    if (i % 500 === 0) writeSync(fd, 'age":{}}\n');
    if (i % 50 === 0) tail.drain();
    maxSize = Math.max(maxSize, statSync(log).size);
  }
  writeSync(fd, '{"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":7,"total_cost_usd":0.5}\n');
  closeSync(fd);
  const v = tail.finish();
  const text = readFileSync(log, 'utf8');
  assert.ok(tail.cuts.count > 0, 'the log was cut');
  assert.ok(statSync(log).size <= CAP, `final size ${statSync(log).size} <= cap`);
  assert.ok(maxSize <= CAP + 50 * junk.length + 64 * 1024, `max size seen ${maxSize}`);
  assert.ok(text.startsWith('{"type":"system","subtype":"init","session_id":"s-1"}\n'), 'the head is kept');
  assert.match(text, /\n\[warden: \d+ bytes of output cut here \(worker\.log_max\)\]\n/);
  assert.ok(text.endsWith('"total_cost_usd":0.5}\n'), 'the tail is kept');
  assert.equal(v.sessionId, 's-1');
  assert.equal(v.subtype, 'error_max_turns');
  assert.equal(v.numTurns, 7);
  assert.equal(v.events, 1 + 10 + 1, 'every event, also those written across a cut');
});

test('the result event stays in the file when warden parsed it before the cut (the kept tail is the newest output, parsed or not)', () => {
  const log = join(tmp.fresh('parsed'), '1.log');
  const fd = openSync(log, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT);
  writeSync(fd, '{"type":"system","subtype":"init","session_id":"s-2"}\n');
  const tail = new LogTail(log, { fromOffset: 0, capBytes: CAP });
  // the output up to just under the cap is read first; then the result event takes the log past
  // the cap, and the read that parses it is the one that finds the log over its cap
  const junk = 'x'.repeat(99) + '\n';
  writeSync(fd, junk.repeat(Math.floor(CAP / junk.length) - 1)); // 54 + 65,400 bytes: the result's 91 take it past
  tail.drain(true);
  assert.equal(tail.cuts.count, 0, 'still under the cap');
  const result = '{"type":"result","subtype":"success","is_error":false,"num_turns":2,"total_cost_usd":0.25}\n';
  writeSync(fd, result);
  tail.drain(true);
  assert.ok(tail.cuts.count > 0, 'the log was cut');
  const text = readFileSync(log, 'utf8');
  assert.ok(text.endsWith(result), `the result event is still the file's last line: ...${JSON.stringify(text.slice(-120))}`);
  assert.ok(text.startsWith('{"type":"system","subtype":"init","session_id":"s-2"}\n'), 'the head is kept');
  assert.match(text, /\n\[warden: \d+ bytes of output cut here \(worker\.log_max\)\]\nx/, 'the kept tail starts at a line');
  assert.ok(statSync(log).size <= CAP, `size ${statSync(log).size} <= cap`);
  closeSync(fd);
  const v = tail.finish();
  assert.equal(v.events, 2, 'each event parsed once: the parsed part of the kept tail is not read again');
  assert.equal(v.numTurns, 2);
  assert.equal(v.totalCostUsd, 0.25);
  assert.equal(tail.cuts.skipped, 0);
});

test('a log under its cap is never touched', () => {
  const log = join(tmp.fresh('under'), '1.log');
  writeFileSync(log, 'a\n'.repeat(1000));
  const tail = new LogTail(log, { fromOffset: 0, capBytes: CAP });
  tail.finish();
  assert.equal(readFileSync(log, 'utf8'), 'a\n'.repeat(1000));
  assert.equal(tail.cuts.count, 0);
});

test('a symlink planted as the log is not followed', () => {
  const dir = tmp.fresh('link');
  const outside = join(tmp.fresh('outside'), 'big');
  writeFileSync(outside, '{"type":"result","num_turns":3}\n' + 'y'.repeat(CAP * 2));
  symlinkSync(outside, join(dir, '1.log'));
  const tail = new LogTail(join(dir, '1.log'), { fromOffset: 0, capBytes: CAP });
  const v = tail.finish();
  assert.equal(v.sawResult, false);
  assert.equal(statSync(outside).size, 32 + CAP * 2, 'the target is not cut');
});

test('a worker far ahead of warden: the unparsed middle is skipped, the newest output and the result are kept', () => {
  const log = join(tmp.fresh('ahead'), '1.log');
  const fd = openSync(log, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT);
  writeSync(fd, '{"type":"system","subtype":"init","session_id":"s-2"}\n');
  const tail = new LogTail(log, { fromOffset: 0, capBytes: CAP });
  // 20 x the cap written before warden reads again, the result event last
  writeSync(fd, ('x'.repeat(99) + '\n').repeat((20 * CAP) / 100));
  writeSync(fd, '{"type":"result","subtype":"success","is_error":false,"num_turns":2}\n');
  closeSync(fd);
  const v = tail.finish();
  const text = readFileSync(log, 'utf8');
  assert.ok(statSync(log).size <= CAP, `final size ${statSync(log).size}`);
  assert.ok(tail.cuts.skipped > 10 * CAP, `skipped ${tail.cuts.skipped}`);
  assert.equal(tail.cuts.lost, 0);
  assert.ok(text.startsWith('{"type":"system"'));
  assert.ok(text.endsWith('"num_turns":2}\n'));
  assert.equal(v.sessionId, 's-2');
  assert.equal(v.numTurns, 2);
  assert.equal(v.subtype, 'success');
});

describe('log tail (a real file, appended while it is followed)', () => {
  test('reads events as they are written, from the given offset, and tracks the last event time', async () => {
    const dir = tmp.fresh('tail');
    const log = join(dir, '1.log');
    writeFileSync(log, '{"type":"result","num_turns":99}\n'); // an earlier run of the same attempt number
    const offset = readFileSync(log).length;
    let clock = 1000;
    const tail = new LogTail(log, { fromOffset: offset, pollMs: 20, now: () => clock });
    const lines = fixture('success').toString().split('\n');
    appendFileSync(log, lines[0]!.slice(0, 50));
    clock = 2000;
    await sleep(60);
    tail.drain(); // whether or not the watch fired yet: the half line is read now
    assert.equal(tail.lastEventAt, 1000, 'half a line is not an event');
    appendFileSync(log, lines[0]!.slice(50) + '\n');
    // the watch (or the poll) reads the rest of the line on its own: no drain() here
    await waitFor('the completed line read as an event', () => tail.lastEventAt === 2000, 10_000, 10);
    clock = 3000;
    appendFileSync(log, lines.slice(1).join('\n'));
    const v = tail.finish();
    assert.equal(v.numTurns, 3, 'the earlier run before the offset is not read');
    assert.equal(v.totalCostUsd, 0.0421);
    assert.equal(tail.lastEventAt, 3000);
  });
});
