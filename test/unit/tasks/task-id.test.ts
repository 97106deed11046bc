// Task IDs become file names, worktree paths and unit names: anything outside the pattern is
// refused at the edge, before a single file is written.
import assert from 'node:assert/strict';

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

import { join, relative } from 'node:path';
import { describe, test } from 'node:test';

import { checkTaskId } from '../../../src/tasks/task-id.ts';
import { tempRoot } from '../../helpers/tmp.ts';
import { runCliSync, type CliResult } from '../../helpers/cli.ts';

const VALID = ['gh-12', 'a', 'A.b_c-1', 'x'.repeat(64)];
const INVALID: [string, string][] = [
  ['../x', 'a path escape'],
  ['a b', 'a space'],
  ['$(id)', 'a shell substitution'],
  ['', 'empty'],
  ['x'.repeat(65), '65 characters'],
  ['-x', 'a leading dash'],
  ['.x', 'a leading dot'],
];

describe('checkTaskId', () => {
  for (const id of VALID) {
    test(`accepts ${id.length > 20 ? `${id.length} characters` : JSON.stringify(id)}`, () => {
      assert.deepEqual(checkTaskId(id), { ok: true });
    });
  }
  for (const [id, what] of INVALID) {
    test(`refuses ${what}${id.length <= 20 ? ` (${JSON.stringify(id)})` : ''}`, () => {
      const r = checkTaskId(id);
      assert.equal(r.ok, false);
      assert.ok(!r.ok && /^invalid task ID/.test(r.error), !r.ok ? r.error : '');
    });
  }
});

// ---- through the real CLI -------------------------------------------------------------------------

const tmpRoot = tempRoot('task-id-test').path;
let caseNo = 0;

/** A fresh directory with config.toml whose state_dir (not yet created) is DIR/state. */
function sandbox(): { dir: string; stateDir: string; config: string } {
  const dir = join(tmpRoot, `case${++caseNo}`);
  mkdirSync(dir);
  const stateDir = join(dir, 'state');
  const config = join(dir, 'config.toml');
  writeFileSync(config, `[supervisor]\nstate_dir = "${stateDir}"\n`);
  return { dir, stateDir, config };
}

/** Every file under `dir`, relative to it (recursive). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => !d.isDirectory())
    .map((d) => relative(dir, join(d.parentPath ?? d.path, d.name)))
    .sort();
}

function taskAdd(config: string, id: string): CliResult {
  // `--` ends the options, so an ID like "-x" reaches the ID check instead of the option parser
  return runCliSync(['task', 'add', '--prompt', 'fix the bug', '--config', config, '--', id]);
}

describe('`warden task add` through the real CLI', () => {
  for (const [id, what] of INVALID) {
    test(`an ID with ${what} exits 2 with a clear message and creates no file anywhere`, () => {
      const box = sandbox();
      const r = taskAdd(box.config, id);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^warden: invalid task ID/);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line:\n${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.equal(existsSync(box.stateDir), false, 'the state dir was not created');
      assert.deepEqual(filesUnder(box.dir), ['config.toml'], 'nothing was written next to it either (e.g. by ../x)');
    });
  }

  test('"-x" without `--` is refused by the option parser: exit 2 and no file anywhere', () => {
    const box = sandbox();
    const r = runCliSync(['task', 'add', '-x', '--prompt', 'fix the bug', '--config', box.config]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^warden: Unknown option '-x'/);
    assert.deepEqual(filesUnder(box.dir), ['config.toml']);
  });

  test('a valid ID creates exactly one queue file', () => {
    const box = sandbox();
    const r = taskAdd(box.config, 'gh-12');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^queued gh-12 \(priority 2\)/);
    assert.deepEqual(filesUnder(box.stateDir), ['queue/gh-12.json']);
    const req = JSON.parse(readFileSync(join(box.stateDir, 'queue', 'gh-12.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(req.id, 'gh-12');
    assert.equal(req.prompt, 'fix the bug');
  });

  test('adding the same ID twice fails with exit 2 and keeps the first request', () => {
    const box = sandbox();
    assert.equal(taskAdd(box.config, 'gh-12').code, 0);
    const first = readFileSync(join(box.stateDir, 'queue', 'gh-12.json'));
    const again = taskAdd(box.config, 'gh-12');
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /^warden: task gh-12 is already queued/);
    assert.deepEqual(filesUnder(box.stateDir), ['queue/gh-12.json']);
    assert.deepEqual(readFileSync(join(box.stateDir, 'queue', 'gh-12.json')), first);
  });
});

describe('reserved names', () => {
  test('IDs that are Object.prototype property names are refused, so a task map lookup never sees an inherited value', () => {
    for (const id of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const r = checkTaskId(id);
      assert.equal(r.ok, false, id);
      if (!r.ok) assert.match(r.error, /reserved/);
    }
  });
});
