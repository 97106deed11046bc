// The gh-based GitHub source against a fake `gh` on PATH (a real process serving recorded JSON).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { describe, test } from 'node:test';
import { classifyGhFailure, findPullRequest, listLabelledIssues, type GhOptions } from '../../../src/tasks/github.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('github-test');

const FAKE = new URL('../../fixtures/fake-gh', import.meta.url).pathname;

function fakeGh(): { dir: string; opts: GhOptions } {
  const dir = tmp.fresh('gh');
  mkdirSync(join(dir, 'bin'));
  symlinkSync(FAKE, join(dir, 'bin', 'gh'));
  return { dir, opts: { bin: 'gh', timeoutMs: 10_000, env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, FAKE_GH_DIR: dir } } };
}

const issue = (number: number, labels: string[] = ['warden'], extra: Record<string, unknown> = {}) => ({
  number,
  title: `issue ${number}`,
  body: `body ${number}`,
  labels: labels.map((name) => ({ name })),
  updatedAt: '2026-11-27T00:00:00Z',
  url: `https://github.com/o/r/issues/${number}`,
  ...extra,
});

describe('gh issue list', () => {
  test('parses labelled issues and passes repo and label as separate arguments', async () => {
    const { dir, opts } = fakeGh();
    writeFileSync(join(dir, 'issues.json'), JSON.stringify([issue(3, ['warden', 'priority:P0']), issue(4, ['warden'], { body: null })]));
    const r = await listLabelledIssues('o/r', 'warden', 100, opts);
    assert.ok(r.ok);
    assert.deepEqual(
      r.value.map((i) => [i.number, i.labels, i.body]),
      [
        [3, ['warden', 'priority:P0'], 'body 3'],
        [4, ['warden'], ''],
      ],
    );
    const call = JSON.parse(readFileSync(join(dir, 'calls.log'), 'utf8').split('\n')[0] ?? '[]') as string[];
    assert.deepEqual(call.slice(0, 6), ['issue', 'list', '-R', 'o/r', '-l', 'warden']);
  });

  for (const [mode, cause] of [
    ['auth', 'not_authenticated'],
    ['network', 'network'],
    ['rate', 'rate_limited'],
    ['json', 'malformed_json'],
    ['crash', 'failed'],
  ] as const) {
    test(`a gh that fails with "${mode}" is reported as ${cause}, never thrown`, async () => {
      const { dir, opts } = fakeGh();
      writeFileSync(join(dir, 'fail'), mode);
      const r = await listLabelledIssues('o/r', 'warden', 100, opts);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.cause, cause, r.message);
    });
  }

  test('gh not installed is reported as not_installed with how to fix it', async () => {
    const r = await listLabelledIssues('o/r', 'warden', 100, { bin: 'gh-definitely-missing', timeoutMs: 5000 });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.cause, 'not_installed');
      assert.match(r.message, /install the GitHub CLI/);
    }
  });

  test('JSON of the wrong shape is malformed_json', async () => {
    const { dir, opts } = fakeGh();
    writeFileSync(join(dir, 'issues.json'), JSON.stringify([{ number: 'seven' }]));
    const r = await listLabelledIssues('o/r', 'warden', 100, opts);
    assert.ok(!r.ok && r.cause === 'malformed_json');
  });
});

describe('gh pr list', () => {
  test('finds the PR of the task branch, or reports none', async () => {
    const { dir, opts } = fakeGh();
    assert.deepEqual(await findPullRequest('o/r', 'warden/gh-3', opts), { ok: true, value: null });
    mkdirSync(join(dir, 'prs'));
    writeFileSync(
      join(dir, 'prs', 'warden__gh-3.json'),
      JSON.stringify({ number: 9, url: 'https://github.com/o/r/pull/9', state: 'OPEN' }),
    );
    const r = await findPullRequest('o/r', 'warden/gh-3', opts);
    assert.deepEqual(r, { ok: true, value: { number: 9, url: 'https://github.com/o/r/pull/9', state: 'OPEN' } });
  });
});

describe('gh failures', () => {
  test('gh stderr wordings map to causes', () => {
    assert.equal(classifyGhFailure({ stderr: 'HTTP 401: Bad credentials' }), 'not_authenticated');
    assert.equal(classifyGhFailure({ stderr: 'dial tcp: lookup api.github.com: no such host' }), 'network');
    assert.equal(classifyGhFailure({ stderr: 'You have exceeded a secondary rate limit' }), 'rate_limited');
    assert.equal(classifyGhFailure({ stderr: '', timedOut: true }), 'network');
  });
});
