// The /proc readers of the executors, on a fake /proc tree: a stat line's fields, and which
// processes belong to an attempt's process group or session.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { groupMembers, parseStat } from '../../../src/executors/process-info.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('process-info-test');

/** A stat line as the kernel writes it: pid (comm) state ppid pgrp session ... starttime (field 22). */
function stat(pid: number, comm: string, state: string, pgrp: number, session: number, start = 1000): string {
  const rest = Array.from({ length: 18 }, (_, i) => (i === 15 ? String(start) : '0'));
  return `${pid} (${comm}) ${state} 1 ${pgrp} ${session} ${rest.join(' ')}\n`;
}

function fakeProc(entries: [number, string][]): string {
  const root = tmp.fresh('proc');
  for (const [pid, text] of entries) {
    mkdirSync(join(root, String(pid)));
    writeFileSync(join(root, String(pid), 'stat'), text);
  }
  mkdirSync(join(root, 'self'));
  mkdirSync(join(root, 'sys'));
  return root;
}

describe('parseStat', () => {
  test('reads state, group, session and start time after a comm with spaces and parentheses', () => {
    assert.deepEqual(parseStat(stat(42, 'a (b) c', 'S', 40, 39, 12345)), { state: 'S', pgrp: 40, session: 39, startTime: '12345' });
  });
  test('a truncated line is null', () => {
    assert.equal(parseStat('42 (x) S 1 40'), null);
  });
});

describe('groupMembers', () => {
  test('members of the group or the session, zombies left out, other processes ignored', () => {
    const root = fakeProc([
      [100, stat(100, 'sh', 'S', 100, 100)], // the wrapper: group and session leader
      [101, stat(101, 'node', 'S', 100, 100)], // the worker
      [102, stat(102, 'node child', 'S', 102, 100)], // moved to its own group, still in the session
      [103, stat(103, 'dead', 'Z', 100, 100)], // a zombie: already dead
      [200, stat(200, 'other', 'S', 200, 200)],
      [201, stat(201, 'other', 'R', 1, 1)],
    ]);
    assert.deepEqual(
      groupMembers(100, root).sort((a, b) => a.pid - b.pid),
      [
        { pid: 100, pgrp: 100 },
        { pid: 101, pgrp: 100 },
        { pid: 102, pgrp: 102 },
      ],
    );
    assert.deepEqual(groupMembers(300, root), []);
  });

  test('a process that vanished between the listing and the read is skipped; no /proc reads as empty', () => {
    const root = fakeProc([[100, stat(100, 'sh', 'S', 100, 100)]]);
    mkdirSync(join(root, '555')); // no stat file: gone meanwhile
    assert.deepEqual(groupMembers(100, root), [{ pid: 100, pgrp: 100 }]);
    assert.deepEqual(groupMembers(100, join(root, 'missing')), []);
  });
});
