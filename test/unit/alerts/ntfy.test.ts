// The ntfy channel: header encoding, and the TLS path against a port where nothing listens (the
// real exchange with a loopback ntfy receiver is test/integration/alerts.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeHeaderValue, NtfyChannel } from '../../../src/alerts/ntfy.ts';
import { mustAlert as must, TASK_DEAD as DEAD } from '../../helpers/alerts.ts';

test('ntfy headers: ASCII passes as it is, anything else as an RFC 2047 encoded word', () => {
  assert.equal(encodeHeaderValue('pi: task gh-1 is dead'), 'pi: task gh-1 is dead');
  const enc = encodeHeaderValue('pi: tâche morte ☠');
  assert.match(enc, /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
  assert.equal(Buffer.from(enc.slice(10, -2), 'base64').toString('utf8'), 'pi: tâche morte ☠');
  assert.equal(encodeHeaderValue('two\nlines'), 'two lines', 'no header injection through a newline');
});

test('ntfy over https takes the TLS path (here: nothing listens, so a retryable ECONNREFUSED)', async () => {
  const r = await new NtfyChannel('https://127.0.0.1:1/topic', 'tk_secret').send(must(DEAD), AbortSignal.timeout(5000));
  assert.deepEqual(r, { ok: false, retry: true, error: 'POST https://127.0.0.1:1/topic: ECONNREFUSED' });
});
