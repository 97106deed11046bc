// The worker command's placeholders, filled one argv element at a time (never through a shell).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildWorkerArgv, type CommandValues } from '../../../src/executors/worker-command.ts';

const VALUES: CommandValues = { promptFile: '/p/gh-1.md', taskId: 'gh-1', worktree: '/w/gh-1', permissionMode: 'acceptEdits' };

describe('buildWorkerArgv', () => {
  test('every placeholder is replaced by its value', () => {
    assert.deepEqual(
      buildWorkerArgv(
        ['claude', '-p', '@{prompt_file}', '--task={task_id}', '{worktree}', '--permission-mode', '{permission_mode}'],
        VALUES,
      ),
      ['claude', '-p', '@/p/gh-1.md', '--task=gh-1', '/w/gh-1', '--permission-mode', 'acceptEdits'],
    );
  });

  test('a placeholder used twice in one argument is replaced both times', () => {
    assert.deepEqual(buildWorkerArgv(['{task_id}:{task_id}'], VALUES), ['gh-1:gh-1']);
  });

  test('a value with spaces and shell syntax stays one argument, as it is', () => {
    const hostile = { ...VALUES, promptFile: '/p/a b; rm -rf / $(id) "x"' };
    assert.deepEqual(buildWorkerArgv(['run', '{prompt_file}'], hostile), ['run', '/p/a b; rm -rf / $(id) "x"']);
  });

  test('unknown placeholders and plain arguments are left alone; the template is not modified', () => {
    const template = ['node', '{unknown}', '--flag'] as const;
    assert.deepEqual(buildWorkerArgv(template, VALUES), ['node', '{unknown}', '--flag']);
    assert.deepEqual(template, ['node', '{unknown}', '--flag']);
  });

  test('an empty template is an empty argv', () => {
    assert.deepEqual(buildWorkerArgv([], VALUES), []);
  });
});
