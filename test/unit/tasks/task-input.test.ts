// One check of a task's input for every entry point: what `warden task add` accepts, the daemon
// accepts too. Priorities are bounded integers, prompts are bounded valid UTF-8, and a prompt file
// is a regular file read with a bounded read.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  checkPrompt,
  decodePrompt,
  MAX_PROMPT_BYTES,
  parsePriority,
  PRIORITY_MAX,
  PRIORITY_MIN,
  priorityProblem,
  promptProblem,
  readPromptFile,
  TaskInputError,
} from '../../../src/tasks/task-input.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('task-input');

describe('priority', () => {
  test('integers within the range are accepted, as written', () => {
    assert.equal(parsePriority('0'), 0);
    assert.equal(parsePriority('-5'), -5);
    assert.equal(parsePriority(String(PRIORITY_MAX)), PRIORITY_MAX);
    assert.equal(parsePriority(String(PRIORITY_MIN)), PRIORITY_MIN);
  });

  test('out of range, huge, fractional or not a number: refused with one line', () => {
    for (const bad of ['99999999999999999999', String(PRIORITY_MAX + 1), String(PRIORITY_MIN - 1), '1.5', '1e3', 'x', '', '0x10']) {
      assert.throws(
        () => parsePriority(bad),
        (err: unknown) => err instanceof TaskInputError && !err.message.includes('\n'),
        bad,
      );
    }
  });

  test('priorityProblem is the daemon-side check of the same range', () => {
    assert.equal(priorityProblem(2), null);
    assert.match(priorityProblem(1e20) ?? '', /integer from -1000 to 1000/);
    assert.match(priorityProblem(0.5) ?? '', /integer/);
  });
});

describe('prompt', () => {
  test('a prompt up to the limit is accepted; one byte over is refused', () => {
    assert.equal(promptProblem('x'.repeat(MAX_PROMPT_BYTES)), null);
    assert.match(promptProblem('x'.repeat(MAX_PROMPT_BYTES + 1)) ?? '', /over the limit of 262144 bytes/);
    // the limit is in bytes of UTF-8, not characters
    assert.match(promptProblem('é'.repeat(MAX_PROMPT_BYTES / 2 + 1)) ?? '', /over the limit/);
  });

  test('empty, U+FFFD (invalid UTF-8 on the way in), a lone surrogate or NUL: refused', () => {
    assert.match(promptProblem('  \n') ?? '', /empty/);
    assert.match(promptProblem('a\uFFFDb') ?? '', /not valid UTF-8/);
    assert.match(promptProblem('a\uD800b') ?? '', /lone surrogate/);
    assert.match(promptProblem('a\0b') ?? '', /NUL/);
    assert.equal(promptProblem('fix the bug 🐛 in naïve code'), null);
    assert.throws(() => checkPrompt(''), TaskInputError);
  });

  test('decodePrompt refuses invalid UTF-8 instead of replacing it', () => {
    assert.equal(decodePrompt(Buffer.from('héllo')), 'héllo');
    assert.throws(() => decodePrompt(Buffer.from([0x61, 0xff, 0x62])), /not valid UTF-8/);
    assert.throws(() => decodePrompt(Buffer.from([0xc3])), /not valid UTF-8/); // truncated sequence
  });
});

describe('readPromptFile', () => {
  test('reads a regular file', () => {
    const f = join(tmp.fresh(), 'p.txt');
    writeFileSync(f, 'do it\n');
    assert.equal(readPromptFile(f), 'do it\n');
  });

  test('a file over the limit is refused without reading it whole', () => {
    const f = join(tmp.fresh(), 'big.txt');
    writeFileSync(f, Buffer.alloc(MAX_PROMPT_BYTES + 1, 0x61));
    assert.throws(() => readPromptFile(f), /over the prompt limit/);
  });

  test('invalid UTF-8 in the file is refused', () => {
    const f = join(tmp.fresh(), 'bad.txt');
    writeFileSync(f, Buffer.from([0x61, 0xff]));
    assert.throws(() => readPromptFile(f), /is not valid UTF-8/);
  });

  test('/dev/zero, a FIFO with no writer and a directory are refused at once (no blocking read)', () => {
    const dir = tmp.fresh();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const p of ['/dev/zero', fifo, dir]) {
      const t0 = Date.now();
      assert.throws(() => readPromptFile(p), /not a regular file/, p);
      assert.ok(Date.now() - t0 < 1000, `${p} answered at once`);
    }
  });

  test('a missing file is one line naming the error code', () => {
    assert.throws(() => readPromptFile('/nonexistent/p.txt'), /cannot read --prompt-file \/nonexistent\/p\.txt: ENOENT/);
  });
});
