// The command hook: a real program gets the alert as one JSON line on stdin.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { alertDocument, CommandChannel } from '../../../src/alerts/command.ts';
import { mustAlert as must, TASK_DEAD as DEAD } from '../../helpers/alerts.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('command-hook-test').path;

test('the command hook gets the alert as one JSON line on stdin, and its exit code decides', async () => {
  const out = join(tmp, 'hook-out.json');
  const alert = must(DEAD);
  const ok = await new CommandChannel(['/bin/sh', '-c', `cat > ${out}`]).send(alert, AbortSignal.timeout(5000));
  assert.deepEqual(ok, { ok: true, detail: 'exit 0' });
  const { readFileSync } = await import('node:fs');
  assert.equal(readFileSync(out, 'utf8'), alertDocument(alert));
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')).fields, {
    task: 'gh-1',
    failure_kind: 'startup_error',
    attempts: 3,
    detail: 'exit 1 after 0.4s',
  });
  const bad = await new CommandChannel(['/bin/sh', '-c', 'echo nope >&2; exit 3']).send(alert, AbortSignal.timeout(5000));
  assert.deepEqual(bad, { ok: false, retry: true, error: '/bin/sh exited 3: nope' });
  const missing = await new CommandChannel(['/nonexistent/hook']).send(alert, AbortSignal.timeout(5000));
  assert.equal(missing.ok === false && missing.retry, false, 'a missing program is not retried');
  const slow = await new CommandChannel(['/bin/sleep', '5']).send(alert, AbortSignal.timeout(100));
  assert.equal(slow.ok, false);
  assert.match(slow.ok ? '' : slow.error, /timed out/);
});
