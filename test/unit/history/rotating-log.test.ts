import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RotatingLog } from '../../../src/history/rotating-log.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('rotlog');

describe('RotatingLog', () => {
  test('a torn last line (a crash during an append) is skipped on read and cut at the next start', () => {
    const dir = tmp.fresh();
    const log = new RotatingLog(dir, 'x', 1024);
    log.repair();
    log.append('{"a":1}');
    appendFileSync(log.path, '{"a":2,"b'); // the crash
    assert.deepEqual(log.lines(), ['{"a":1}']);
    const again = new RotatingLog(dir, 'x', 1024);
    assert.equal(again.repair(), '{"a":2,"b'.length);
    again.append('{"a":3}');
    assert.equal(readFileSync(log.path, 'utf8'), '{"a":1}\n{"a":3}\n');
  });

  test('a file that is all torn line is emptied', () => {
    const dir = tmp.fresh();
    const log = new RotatingLog(dir, 'x', 1024);
    log.repair();
    appendFileSync(log.path, 'no newline at all');
    assert.equal(new RotatingLog(dir, 'x', 1024).repair(), 17);
    assert.equal(statSync(log.path).size, 0);
  });

  test('rotation keeps the disk within two generations, oldest lines dropped first', () => {
    const dir = tmp.fresh();
    const log = new RotatingLog(dir, 'x', 100);
    log.repair();
    for (let i = 0; i < 1000; i++) {
      log.append(JSON.stringify({ i }));
      assert.ok(log.diskBytes() <= 200, `at ${i}: ${log.diskBytes()} bytes`);
    }
    const lines = log.lines();
    assert.equal(lines.at(-1), '{"i":999}');
    assert.ok(lines.length >= 100 / 10, `kept ${lines.length} lines`);
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { i: number }).i),
      lines.map((_, k) => 1000 - lines.length + k),
      'contiguous, newest last',
    );
  });

  test('a symlink planted as the file is refused, not followed', () => {
    const dir = tmp.fresh();
    symlinkSync('/etc/passwd', join(dir, 'x.jsonl'));
    assert.throws(() => new RotatingLog(dir, 'x', 100).repair(), /symbolic link/);
  });
});
