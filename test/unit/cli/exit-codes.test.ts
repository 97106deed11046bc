// Every exit code of `warden`, declared once: README's exit-code table is that list, row for row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXIT_CODES } from '../../../src/cli/exit-codes.ts';
import { readmeSection } from '../../helpers/readme.ts';

const section = readmeSection('Command line');

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
