import assert from 'node:assert/strict';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createLogger, formatLine, stderrIsJournal } from '../../../src/log/logger.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('logger-test');

function capture(opts: Parameters<typeof createLogger>[0] = {}) {
  const lines: string[] = [];
  const log = createLogger({ ...opts, write: (l) => lines.push(l) });
  return { log, lines };
}

describe('createLogger', () => {
  test('to the journal, each line starts with its syslog priority and carries no timestamp of its own', () => {
    const { log, lines } = capture({ journal: true, level: 'debug' });
    log.error('e', { task: 't1' });
    log.warn('w');
    log.info('i');
    log.debug('d');
    assert.deepEqual(lines, ['<3>ERROR e task=t1', '<4>WARN  w', '<6>INFO  i', '<7>DEBUG d']);
  });

  test('on a terminal, lines carry an ISO timestamp and no priority prefix', () => {
    const { log, lines } = capture({ journal: false });
    log.warn('careful', { n: 2 });
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN {2}careful n=2$/);
  });

  test('lines below the level are dropped', () => {
    const { log, lines } = capture({ journal: true, level: 'warn' });
    log.info('quiet');
    log.warn('loud');
    assert.deepEqual(lines, ['<4>WARN  loud']);
  });
});

describe('stderrIsJournal', () => {
  test('true only when JOURNAL_STREAM names the device and inode of the stream itself', () => {
    const file = join(tmp.fresh('journal'), 'stream');
    const fd = openSync(file, 'w');
    try {
      const st = fstatSync(fd);
      assert.equal(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, fd), true);
      // inherited by a process whose stderr was redirected elsewhere: not the journal
      assert.equal(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` }, fd), false);
      assert.equal(stderrIsJournal({}, fd), false);
    } finally {
      closeSync(fd);
    }
  });
});

describe('formatLine', () => {
  test('quotes values with spaces, quotes or equals signs, and leaves out undefined fields', () => {
    assert.equal(formatLine('info', 'm', { a: 'x y', b: 'plain', c: undefined, d: 3 }), 'INFO  m a="x y" b=plain d=3');
  });
});
