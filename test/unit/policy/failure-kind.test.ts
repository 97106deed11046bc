// The closed list of failure kinds: each one reads as its own sentence in `warden status` and
// alerts, and a value outside the union fails loudly where a switch meets it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertNever, describeFailureKind, FAILURE_KINDS, type FailureKind } from '../../../src/policy/failure-kind.ts';

test('every failure kind has a description of its own', () => {
  const texts = FAILURE_KINDS.map((k) => describeFailureKind(k));
  for (const [i, t] of texts.entries()) assert.match(t, /^\S.*\S$/, FAILURE_KINDS[i]);
  assert.equal(new Set(texts).size, FAILURE_KINDS.length, 'two kinds share a description');
  assert.match(describeFailureKind('oom_killed'), /memory limit/);
});

test('a value outside the union throws, naming what it is and the value', () => {
  assert.throws(() => describeFailureKind('out_of_cheese' as FailureKind), { message: 'unhandled failure kind: "out_of_cheese"' });
  assert.throws(() => assertNever('x' as never), { message: 'unhandled value: "x"' });
});
