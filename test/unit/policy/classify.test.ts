// classifyExit: every exit report to one outcome, and never a throw on garbage.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { classifyExit, type ExitOutcome, type ExitReport } from '../../../src/policy/classify.ts';
import { FAILURE_KINDS } from '../../../src/policy/failure-kind.ts';
import { exitReport as report } from '../../helpers/tasks.ts';
import { SECOND } from '../../helpers/units.ts';

describe('classifyExit', () => {
  const cs = { startupWindow: 10 * SECOND };
  const rules: [string, Partial<ExitReport>, ExitOutcome][] = [
    ['a spawn error is spawn_failed', { spawnError: 'ENOENT: claude not found', exitCode: null }, 'spawn_failed'],
    ['a worktree error is worktree_error', { worktreeError: 'git worktree add failed', exitCode: null }, 'worktree_error'],
    ['running past max_runtime is timeout', { timedOut: true, exitCode: null, signal: 'SIGTERM' }, 'timeout'],
    ['an OOM kill is oom_killed', { oomKilled: true, exitCode: null, signal: 'SIGKILL' }, 'oom_killed'],
    ['a lost exit status is unknown', { lost: true, exitCode: null }, 'unknown'],
    ['exit code 0 inside the startup window is startup_error', { exitCode: 0, durationMs: 1 * SECOND }, 'startup_error'],
    ['exit code 1 inside the startup window is startup_error', { exitCode: 1, durationMs: 9_999 }, 'startup_error'],
    ['a signal after the startup window is crashed', { exitCode: null, signal: 'SIGSEGV' }, 'crashed'],
    ['a nonzero code after the startup window is exit_nonzero', { exitCode: 2 }, 'exit_nonzero'],
    ['code 0 after the startup window is succeeded', { exitCode: 0, durationMs: 10 * SECOND }, 'succeeded'],
  ];
  for (const [name, over, want] of rules) {
    test(name, () => assert.equal(classifyExit(report(over), cs), want));
  }

  test('NaN duration with exitCode null and signal null is unknown', () => {
    assert.equal(classifyExit(report({ durationMs: NaN, exitCode: null, signal: null }), cs), 'unknown');
  });

  test('a non-integer exit code is unknown', () => {
    assert.equal(classifyExit(report({ exitCode: 1.5 }), cs), 'unknown');
  });

  test('never throws on garbage input, and always returns a known outcome', () => {
    const known = new Set<string>(['succeeded', ...FAILURE_KINDS]);
    assert.equal(classifyExit(null as unknown as ExitReport, cs), 'unknown');
    assert.equal(classifyExit(undefined as unknown as ExitReport, cs), 'unknown');
    fc.assert(
      fc.property(
        fc.record(
          {
            spawnError: fc.anything(),
            worktreeError: fc.anything(),
            exitCode: fc.anything(),
            signal: fc.anything(),
            durationMs: fc.oneof(fc.double(), fc.anything()),
            timedOut: fc.anything(),
            oomKilled: fc.anything(),
            lost: fc.anything(),
          },
          { requiredKeys: [] },
        ),
        fc.anything(),
        (garbage, window) => {
          const out = classifyExit(garbage as unknown as ExitReport, { startupWindow: window as number });
          assert.ok(known.has(out), `unexpected outcome ${String(out)}`);
        },
      ),
      { seed: 7, numRuns: 500 },
    );
  });
});
