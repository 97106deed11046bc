// warden's lines in the journal: a priority per line (`journalctl -p warning` finds the breaker
// opening) and the identifier `warden` (`journalctl -t warden`), not `node`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  addTask,
  ensureWorkerUser,
  freshDir,
  inHarness,
  installService,
  nowForJournal,
  sh,
  status,
  stopService,
  waitFor,
  writeConfig,
} from './harness.ts';

const skip = inHarness() ? false : 'needs the real-systemd harness (scripts/with-systemd.sh)';

describe('the journal', { skip }, () => {
  before(() => ensureWorkerUser());
  after(() => stopService());

  test('journalctl -p warning lists the breaker opening, and journalctl -t warden is not empty', async () => {
    const dir = freshDir('journal');
    const config = writeConfig(dir, { breaker: { failures: 2, window: '1m', cooldown: '1h' } });
    installService(config);
    const since = nowForJournal();
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    addTask(config, 'bad1', 'exit=1 sleep=0');
    addTask(config, 'bad2', 'exit=1 sleep=0');
    await waitFor('breaker open', () => status(config)?.breaker.phase === 'open');
    sh('journalctl', ['--sync']);
    const warnings = sh('journalctl', ['-u', 'warden.service', '-p', 'warning', '--since', since, '--no-pager', '-o', 'cat']).stdout;
    console.log(`journalctl -p warning:\n${warnings}`);
    assert.match(warnings, /breaker OPEN/, 'the breaker line is at warning or above');
    assert.doesNotMatch(warnings, /warden ready/, 'info lines are not at warning');
    assert.doesNotMatch(warnings, /^<\d>/m, 'journald took the priority prefix off');
    const tagged = sh('journalctl', ['-t', 'warden', '--since', since, '--no-pager', '-o', 'cat']).stdout;
    assert.match(tagged, /warden ready/);
  });
});
