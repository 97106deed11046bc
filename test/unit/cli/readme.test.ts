// README.md's "Command line" section against the code: its usage block is `warden help` as the
// command table prints it, and its exit-code table is src/cli/exit-codes.ts, row for row.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EXIT_CODES } from '../../../src/cli/exit-codes.ts';
import { globalUsage } from '../../../src/cli/parse.ts';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const section = README.slice(README.indexOf('## Command line'), README.indexOf('\n## ', README.indexOf('## Command line') + 1));

test("README's usage block is `warden help`, so every command of the table is documented", () => {
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1];
  assert.equal(block, globalUsage() + '\n');
});

test("README's exit-code table lists exactly the codes of src/cli/exit-codes.ts, with their meaning", () => {
  const rows = section
    .split('\n')
    .filter((l) => /^\| \d+ \|/.test(l))
    .map((l) => l.trim());
  assert.deepEqual(
    rows,
    EXIT_CODES.map((e) => `| ${e.code} | ${e.meaning} |`),
  );
});
