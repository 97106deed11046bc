// The per-task routes of the control API: which URL reaches which command, and the status codes
// that let the CLI tell a refusal (exit 2) from a fault.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routeTask, type TaskCommandHandler } from '../../../src/control/task-routes.ts';
import type { TaskCommandRequest } from '../../../src/policy/task-commands.ts';

function handler(): TaskCommandHandler & { calls: [string, TaskCommandRequest][] } {
  const calls: [string, TaskCommandRequest][] = [];
  return {
    calls,
    show: (id) => (id === 'known' ? { id } : null),
    run: (id, req) => {
      calls.push([id, req]);
      return Promise.resolve(
        id === 'known' ? { ok: true, line: `did ${req.command}`, saved: true } : { ok: false, line: `no task ${id}`, saved: true },
      );
    },
  };
}

test('other URLs are not per-task routes', () => {
  for (const url of ['/tasks', '/status', '/tasks/']) assert.equal(routeTask('GET', url, handler()), null, url);
});

test('GET /tasks/<id>: the task, or 404', async () => {
  assert.deepEqual(await routeTask('GET', '/tasks/known', handler()), { status: 200, body: { id: 'known' } });
  assert.equal((await routeTask('GET', '/tasks/other', handler()))?.status, 404);
});

test('POST /tasks/<id>/<command>: 200 with the line, 409 for a refusal', async () => {
  const h = handler();
  assert.deepEqual(await routeTask('POST', '/tasks/known/retry', h), { status: 200, body: { ok: true, line: 'did retry', saved: true } });
  assert.deepEqual(await routeTask('POST', '/tasks/x/cancel', h), { status: 409, body: { error: 'no task x', refused: true } });
  assert.deepEqual(await routeTask('POST', '/tasks/known/priority?value=-5', h), {
    status: 200,
    body: { ok: true, line: 'did priority', saved: true },
  });
  assert.deepEqual(h.calls, [
    ['known', { command: 'retry' }],
    ['x', { command: 'cancel' }],
    ['known', { command: 'priority', priority: -5 }],
  ]);
});

test('bad input is a 4xx with a reason, and never reaches the handler', async () => {
  const h = handler();
  assert.equal((await routeTask('POST', '/tasks/known/explode', h))?.status, 404);
  assert.equal((await routeTask('GET', '/tasks/known/retry', h))?.status, 405);
  assert.equal((await routeTask('POST', '/tasks/-bad/retry', h))?.status, 400);
  assert.match(JSON.stringify((await routeTask('POST', '/tasks/known/priority?value=9999', h))?.body), /integer from -1000 to 1000/);
  assert.match(JSON.stringify((await routeTask('POST', '/tasks/known/priority', h))?.body), /give \?value=N/);
  assert.deepEqual(h.calls, []);
});
