// The CLI side of the control socket, against a real HTTP server on a unix socket.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { callDaemon, DaemonUnreachable } from '../../../src/control/client.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('client-test');
const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

/** A server on a fresh socket answering every request with `status` and `body` (nothing: never answers). */
async function serve(status: number, body: string | null): Promise<string> {
  const socket = join(tmp.fresh('s'), 'c.sock');
  const server = createServer((_req, res) => {
    if (body === null) return; // hangs
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return socket;
}

describe('callDaemon', () => {
  test('a 200 answer resolves to its JSON body', async () => {
    const socket = await serve(200, JSON.stringify({ daemon: { pid: 42 } }));
    assert.deepEqual(await callDaemon(socket, 'GET', '/status'), { daemon: { pid: 42 } });
  });

  test("an error status rejects with the daemon's own error message", async () => {
    const socket = await serve(409, JSON.stringify({ error: 'task gh-1 is running' }));
    await assert.rejects(callDaemon(socket, 'POST', '/cancel/gh-1'), { message: 'task gh-1 is running' });
  });

  test('an error status without a message rejects with the HTTP status', async () => {
    const socket = await serve(500, '{}');
    await assert.rejects(callDaemon(socket, 'GET', '/status'), { message: 'HTTP 500' });
  });

  test('an answer that is not JSON is reported with its start', async () => {
    const socket = await serve(200, '<html>proxy</html>');
    await assert.rejects(callDaemon(socket, 'GET', '/status'), /unexpected answer from the daemon: <html>proxy/);
  });

  test('no socket file means warden is not running', async () => {
    const socket = join(tmp.path, 'absent.sock');
    await assert.rejects(
      callDaemon(socket, 'GET', '/status'),
      (err: unknown) => err instanceof DaemonUnreachable && err.message === `warden is not running (no daemon on ${socket})`,
    );
  });

  test('a daemon that does not answer in time is unreachable, with the timeout in the message', async () => {
    const socket = await serve(200, null);
    await assert.rejects(
      callDaemon(socket, 'GET', '/status', 200),
      (err: unknown) => err instanceof DaemonUnreachable && /did not answer on .* within 200 ms/.test(err.message),
    );
  });
});
