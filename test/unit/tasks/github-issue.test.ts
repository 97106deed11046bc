// What warden makes of a GitHub issue (src/tasks/github-issue.ts): its priority and its prompt.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { priorityFromLabels, renderPrompt, taskIdForIssue } from '../../../src/tasks/github-issue.ts';

test('priority is the index of the first matching priority label, else the fallback', () => {
  const labels = ['priority:P0', 'priority:P1', 'priority:P2'];
  assert.equal(priorityFromLabels(['x', 'priority:P1'], labels, 2), 1);
  assert.equal(priorityFromLabels(['priority:P0', 'priority:P2'], labels, 2), 0);
  assert.equal(priorityFromLabels([], labels, 2), 2);
});

test('the prompt template is filled once: hostile text stays text and placeholders in it are not expanded', () => {
  const i = {
    number: 5,
    title: '$(rm -rf /) {body} `id`',
    body: '; rm -rf ~ ../../etc/passwd \u0000 ünïcødé',
    labels: [],
    updatedAt: '',
  };
  const out = renderPrompt('#{number} {title}\n\n{body}\n{branch}', 'o/r', i, 'gh-5');
  assert.equal(out, '#5 $(rm -rf /) {body} `id`\n\n; rm -rf ~ ../../etc/passwd \u0000 ünïcødé\nwarden/gh-5');
});

test('the task ID of issue N is gh-N', () => {
  assert.equal(taskIdForIssue(42), 'gh-42');
});
