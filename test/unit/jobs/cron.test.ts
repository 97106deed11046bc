// Cron expressions for [alerts] digest and the GitHub poll.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cronProblem } from '../../../src/jobs/cron.ts';

test('valid cron expressions are accepted, with or without seconds', () => {
  for (const e of ['0 8 * * *', '*/5 * * * *', '30 0 8 * * 1-5']) assert.equal(cronProblem(e), null, e);
});

test('an invalid expression is one line naming the field and the value', () => {
  assert.match(cronProblem('0 25 * * *') ?? '', /hour: 25 is a invalid expression for hour/);
  assert.match(cronProblem('daily') ?? '', /expected 5 or 6 fields but got 1/);
});
