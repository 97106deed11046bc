import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readExitFile, readPidFile, WRAPPER_SCRIPT } from '../../../src/executors/process-info.ts';
import { EXIT_RESERVE, PID_RESERVE, reserveFile, reserveRunFiles } from '../../../src/executors/run-files.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('runfiles');

describe('reserved run files', () => {
  test('reserved files hold only spaces: no pid, no exit record yet', () => {
    const base = join(tmp.fresh(), 't.1');
    reserveRunFiles(base);
    assert.equal(statSync(`${base}.pid`).size, PID_RESERVE);
    assert.equal(statSync(`${base}.exit`).size, EXIT_RESERVE);
    assert.equal(readPidFile(base), null);
    assert.equal(readExitFile(base), null);
  });

  test('the wrapper overwrites them in place (same inode, same size) and both parse', () => {
    const base = join(tmp.fresh(), 't.1');
    reserveRunFiles(base);
    const ino = statSync(`${base}.exit`).ino;
    const r = spawnSync('/bin/sh', ['-c', WRAPPER_SCRIPT, base, '/bin/sh', '-c', 'exit 3']);
    assert.equal(r.status, 3);
    assert.equal(statSync(`${base}.exit`).ino, ino);
    assert.equal(statSync(`${base}.exit`).size, EXIT_RESERVE);
    assert.equal(readExitFile(base)?.rc, 3);
    assert.equal(readPidFile(base), r.pid);
  });

  test('reserving again over an old record clears it in place', () => {
    const path = join(tmp.fresh(), 'x.exit');
    writeFileSync(path, '0 oom_kill=0 peak=1 limit=2\n' + ' '.repeat(EXIT_RESERVE));
    const ino = statSync(path).ino;
    reserveFile(path, EXIT_RESERVE);
    assert.equal(statSync(path).ino, ino);
    assert.equal(readFileSync(path, 'utf8').trim(), '');
  });
});
