// Where a config key sits in the TOML text, so a validation error can name FILE:LINE:COL.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { locateKey } from '../../../src/config/locate.ts';

const TEXT = [
  '# warden config',
  '[supervisor]',
  'state_dir = "/var/lib/warden"',
  '  max_concurrent_workers = 2',
  '',
  '[backoff.startup_error]',
  'base = "5m"',
  '[worker]',
  'limits.memory = "2G"',
  '"quoted" = 1',
].join('\n');

describe('locateKey', () => {
  test('a key in its table is found at its line, column 1', () => {
    assert.deepEqual(locateKey(TEXT, ['supervisor', 'state_dir']), { line: 3, column: 1 });
  });

  test('the column counts the indentation before the key', () => {
    assert.deepEqual(locateKey(TEXT, ['supervisor', 'max_concurrent_workers']), { line: 4, column: 3 });
  });

  test('a key under a dotted table header [a.b] is found', () => {
    assert.deepEqual(locateKey(TEXT, ['backoff', 'startup_error', 'base']), { line: 7, column: 1 });
  });

  test('a dotted key inside a table is found', () => {
    assert.deepEqual(locateKey(TEXT, ['worker', 'limits', 'memory']), { line: 9, column: 1 });
  });

  test('a quoted key matches its bare name', () => {
    assert.deepEqual(locateKey(TEXT, ['worker', 'quoted']), { line: 10, column: 1 });
  });

  test('a missing key points at its table header', () => {
    assert.deepEqual(locateKey(TEXT, ['supervisor', 'poll_interval']), { line: 2, column: 1 });
  });

  test('a key of a table that is not there is not located', () => {
    assert.equal(locateKey(TEXT, ['alerts', 'ntfy_url']), undefined);
  });

  test('array indexes in the path are ignored: the key holding the array is found', () => {
    assert.deepEqual(locateKey('[worker]\ncommand = ["a", 3]\n', ['worker', 'command', 1]), { line: 2, column: 1 });
  });

  test('a path with no key names is not located', () => {
    assert.equal(locateKey(TEXT, [0]), undefined);
  });

  test('comments and a key of the same name in another table are not taken', () => {
    const text = '# state_dir = "x"\n[worker]\nstate_dir = 1\n[supervisor]\nstate_dir = "/s"\n';
    assert.deepEqual(locateKey(text, ['supervisor', 'state_dir']), { line: 5, column: 1 });
  });

  test('CRLF line endings give the same lines', () => {
    assert.deepEqual(locateKey('[supervisor]\r\nstate_dir = "/s"\r\n', ['supervisor', 'state_dir']), { line: 2, column: 1 });
  });
});
