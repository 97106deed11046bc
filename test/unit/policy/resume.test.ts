// Which retries continue the previous Claude Code session.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resumeArgs, sessionToResume } from '../../../src/policy/resume.ts';
import type { AttemptRecord } from '../../../src/state/types.ts';
import { attemptRecord } from '../../helpers/tasks.ts';

const rec = (outcome: AttemptRecord['outcome'], sessionId: string | null): AttemptRecord => attemptRecord({ outcome, sessionId });

describe('sessionToResume', () => {
  test('after stalled, api_error or usage_limit with a recorded session, the retry resumes it', () => {
    for (const o of ['stalled', 'api_error', 'usage_limit'] as const)
      assert.equal(sessionToResume({ history: [rec(o, 'abc')] }, true), 'abc', o);
  });
  test('after any other outcome, without a session, or with the switch off, the retry starts fresh', () => {
    for (const o of ['exit_nonzero', 'startup_error', 'oom_killed', 'timeout', 'no_pr', 'auth_failed', 'max_turns', 'succeeded'] as const) {
      assert.equal(sessionToResume({ history: [rec(o, 'abc')] }, true), null, o);
    }
    assert.equal(sessionToResume({ history: [rec('stalled', null)] }, true), null);
    assert.equal(sessionToResume({ history: [rec('stalled', 'abc')] }, false), null);
    assert.equal(sessionToResume({ history: [] }, true), null);
  });
  test("the resume flag is Claude Code's --resume <id>", () => {
    assert.deepEqual(resumeArgs('abc'), ['--resume', 'abc']);
    assert.deepEqual(resumeArgs(null), []);
  });
});
