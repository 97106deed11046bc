// The worker's stdin (its prompt file) and its log, opened by warden and inherited by the worker.
import assert from 'node:assert/strict';
import { closeSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SpawnError } from '../../../src/executors/types.ts';
import { openWorkerStdio } from '../../../src/executors/worker-stdio.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('worker-stdio-test');

test('stdin reads the prompt file and the log is appended to, never truncated', () => {
  const dir = tmp.fresh('ok');
  writeFileSync(join(dir, 'prompt.md'), 'fix it');
  writeFileSync(join(dir, 'attempt.log'), 'earlier\n');
  const { stdin, out } = openWorkerStdio({ stdinFile: join(dir, 'prompt.md'), logFile: join(dir, 'attempt.log') });
  try {
    const buf = Buffer.alloc(16);
    assert.equal(buf.subarray(0, readSync(stdin, buf)).toString(), 'fix it');
    writeSync(out, 'later\n');
  } finally {
    closeSync(stdin);
    closeSync(out);
  }
  assert.equal(readFileSync(join(dir, 'attempt.log'), 'utf8'), 'earlier\nlater\n');
});

test('a missing prompt file is a SpawnError that names it', () => {
  const dir = tmp.fresh('noprompt');
  assert.throws(
    () => openWorkerStdio({ stdinFile: join(dir, 'missing.md'), logFile: join(dir, 'a.log') }),
    (err: unknown) => err instanceof SpawnError && /cannot open prompt file .*missing\.md/.test(err.message),
  );
});

test('a log file that cannot be created is a SpawnError that names it', () => {
  const dir = tmp.fresh('nolog');
  writeFileSync(join(dir, 'prompt.md'), 'p');
  assert.throws(
    () => openWorkerStdio({ stdinFile: join(dir, 'prompt.md'), logFile: join(dir, 'no-such-dir', 'a.log') }),
    (err: unknown) => err instanceof SpawnError && /cannot open log file .*no-such-dir/.test(err.message),
  );
});
