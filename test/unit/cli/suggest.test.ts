import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closest, didYouMean, editDistance } from '../../../src/cli/suggest.ts';

describe('editDistance', () => {
  test('counts inserts, deletes, substitutions, and a swap of neighbours as one edit', () => {
    assert.equal(editDistance('status', 'status'), 0);
    assert.equal(editDistance('statu', 'status'), 1);
    assert.equal(editDistance('statuss', 'status'), 1);
    assert.equal(editDistance('staths', 'status'), 1);
    assert.equal(editDistance('stauts', 'status'), 1);
    assert.equal(editDistance('', 'abc'), 3);
  });
});

describe('closest', () => {
  const words = ['run', 'status', 'tasks', 'task', 'logs', 'pause', 'resume'];
  test('finds a typo, a swap and a prefix; nearest first', () => {
    assert.deepEqual(closest('stauts', words), ['status']);
    assert.deepEqual(closest('stat', words), ['status']);
    assert.deepEqual(closest('taks', words).sort(), ['task', 'tasks'], 'both one edit away');
    assert.deepEqual(closest('rseume', words), ['resume']);
  });
  test('a short word allows one edit only, so unrelated words stay out', () => {
    assert.deepEqual(closest('rux', words), ['run']);
    assert.deepEqual(closest('xyz', words), []);
  });
});

describe('didYouMean', () => {
  test('names the close words, or lists them all when none is close', () => {
    assert.equal(didYouMean('pasue', ['pause', 'resume']), 'did you mean "pause"?');
    assert.equal(didYouMean('zzzzz', ['pause', 'resume']), 'choose one of: pause, resume');
    assert.equal(
      didYouMean('jsn', ['json'], (s) => `--${s}`),
      'did you mean --json?',
    );
  });
});
