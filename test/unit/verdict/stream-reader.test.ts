// The stream-json reader: recorded runs, chunks split anywhere, noise, unknown events, huge lines.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { StreamVerdictReader } from '../../../src/verdict/stream-reader.ts';
import { readVerdict as read, streamFixture as fixture } from '../../helpers/streams.ts';

describe('stream-json reader', () => {
  test('the real unauthenticated run: session, turns, cost, is_error, the error field and the result text', () => {
    const v = read(fixture('auth'));
    assert.equal(v.sessionId, '0b6c3f0e-5d2a-4a55-9f61-2f7d0c1e9a01');
    assert.equal(v.subtype, 'success');
    assert.equal(v.isError, true);
    assert.equal(v.numTurns, 1);
    assert.equal(v.totalCostUsd, 0);
    assert.equal(v.durationMs, 41);
    assert.equal(v.error, 'authentication_failed');
    assert.equal(v.resultText, 'Not logged in · Please run /login');
    assert.equal(v.events, 3);
  });

  test('a success with cost and turns', () => {
    const v = read(fixture('success'));
    assert.deepEqual([v.isError, v.numTurns, v.totalCostUsd, v.durationMs, v.error], [false, 3, 0.0421, 18234, null]);
  });

  test('noise, unknown event types and a cut-off line are skipped; the result still counts', () => {
    const v = read(fixture('garbage'));
    assert.equal(v.sawResult, true);
    assert.equal(v.totalCostUsd, 0.0105);
    assert.equal(v.unknownEvents, 1, 'some_future_event');
    assert.ok(v.noiseLines >= 5, `noise lines: ${v.noiseLines}`);
    assert.equal(v.sessionId, 'b1f20314-1212-4182-a394-c5d6e7f8091a');
  });

  test('chunks split at arbitrary byte boundaries (inside UTF-8 characters too) give the same verdict (property)', () => {
    const whole = Buffer.concat([fixture('garbage'), fixture('auth'), fixture('success')]);
    const expected = read(whole);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 60 }), (chunks) => {
        assert.deepStrictEqual(read(whole, chunks), expected);
      }),
      { numRuns: 300, seed: 8 },
    );
    // the · of "Not logged in · Please run /login" is two bytes: split between them
    const at = whole.indexOf(Buffer.from('·')) + 1;
    assert.deepStrictEqual(read(whole, [at]), expected);
  });

  test('a last line without a newline counts at the end of the stream', () => {
    const v = read(Buffer.from('{"type":"result","subtype":"success","is_error":false,"num_turns":2}'));
    assert.equal(v.numTurns, 2);
  });

  test('a line longer than the limit is dropped, not buffered, and the next line still parses', () => {
    const r = new StreamVerdictReader(1024);
    const huge = Buffer.alloc(10 * 1024 * 1024, 'x');
    r.push(Buffer.from('{"type":"assistant","message":{"content":"'));
    for (let i = 0; i < 10; i++) r.push(huge.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
    r.push(Buffer.from('"}}\n{"type":"result","subtype":"success","is_error":false,"num_turns":4}\n'));
    const v = r.result();
    assert.equal(v.droppedLongLines, 1);
    assert.equal(v.numTurns, 4);
  });

  test('bad constructor argument is a RangeError', () => {
    assert.throws(() => new StreamVerdictReader(0), RangeError);
  });
});
