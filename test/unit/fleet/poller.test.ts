// The pure parts of the fleet's one GitHub poller: reading a published poll back, and the gh
// timeout cut to what remains of the lease (so a poll never outlives the poller's lease).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodePublishedPoll, ghWindow, pollerKey, publishedPollKey } from '../../../src/fleet/poller.ts';

describe('a published poll read back', () => {
  const issue = { number: 1, title: 't', body: 'b', labels: ['warden'], updatedAt: '2026-11-29T00:00:00Z' };
  test('a successful poll with its issues is taken as written', () => {
    const v = { node: 'n1', at: 5, result: { ok: true, value: [issue] } };
    assert.deepEqual(decodePublishedPoll(v), v);
  });
  test('a failed poll keeps its cause, so every node logs it once', () => {
    const v = { node: 'n1', at: 5, result: { ok: false, cause: 'network', message: 'down' } };
    assert.deepEqual(decodePublishedPoll(v)?.result, { ok: false, cause: 'network', message: 'down' });
  });
  test('anything else is not a poll and is never acted on', () => {
    for (const v of [
      null,
      {},
      { node: 'n1', at: 5 },
      { node: 'n1', at: 5, result: { ok: true } },
      { node: 1, at: 5, result: { ok: true, value: [] } },
    ])
      assert.equal(decodePublishedPoll(v as Record<string, unknown> | null), null, JSON.stringify(v));
  });
});

describe('the gh timeout of a poll', () => {
  test('is the configured one while the lease has longer to go', () => {
    assert.equal(ghWindow(60_000, 17_000), 17_000);
    assert.equal(ghWindow(2_000, 17_000), 2_000);
  });
  test('is cut to what remains of the lease, and with under a second left there is no poll', () => {
    assert.equal(ghWindow(60_000, 1_000), 1_000);
    assert.equal(ghWindow(60_000, 999), null);
    assert.equal(ghWindow(60_000, 0), null);
  });
});

test('the election key and the published poll live under the prefix', () => {
  assert.equal(pollerKey('/warden/'), '/warden/poller');
  assert.equal(publishedPollKey('/warden/'), '/warden/github/poll');
});
