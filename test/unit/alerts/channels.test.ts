// Which alert channels [alerts] turns on, and the warnings and config errors that come with them.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildChannels, dispatcherSettings, type AlertsConfig } from '../../../src/alerts/channels.ts';
import { ConfigError } from '../../../src/config/load.ts';
import { defaultConfig } from '../../helpers/settings.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('channels-test');
const alerts = (over: Partial<AlertsConfig> = {}): AlertsConfig => ({ ...defaultConfig().alerts, ...over });
const names = (a: AlertsConfig, env: NodeJS.ProcessEnv = {}) => buildChannels(a, 'w.toml', env, 1000).channels.map((c) => c.name);

function tokenFile(text: string): string {
  const file = join(tmp.fresh('t'), 'token');
  writeFileSync(file, text);
  return file;
}

describe('buildChannels', () => {
  test('the defaults turn no channel on and warn about nothing', () => {
    assert.deepEqual(buildChannels(alerts(), 'w.toml', {}, 1000), { channels: [], warnings: [] });
  });

  test('each configured channel is built, in the order ntfy, notify-send, command', () => {
    const bus = join(tmp.fresh('bus'), 'bus');
    writeFileSync(bus, '');
    const a = alerts({ ntfy_url: 'https://ntfy.sh/t', notify_send: true, session_bus: `unix:path=${bus}`, command: ['/bin/true'] });
    assert.deepEqual(names(a), ['ntfy', 'notify-send', 'command']);
  });

  test('a token sent over plain http to another host is warned about; to loopback or over https it is not', () => {
    const token = tokenFile('tk_123\n');
    const warn = (url: string) => buildChannels(alerts({ ntfy_url: url, ntfy_token_file: token }), 'w.toml', {}, 1000).warnings;
    assert.match(
      warn('http://ntfy.example.org/t')[0] ?? '',
      /plain http to ntfy\.example\.org: the access token crosses the network unencrypted/,
    );
    assert.deepEqual(warn('http://127.0.0.1:8080/t'), []);
    assert.deepEqual(warn('http://localhost/t'), []);
    assert.deepEqual(warn('https://ntfy.example.org/t'), []);
  });

  test('an unreadable token file is a config error naming the key, never the token', () => {
    assert.throws(
      () => buildChannels(alerts({ ntfy_url: 'https://ntfy.sh/t', ntfy_token_file: join(tmp.path, 'missing') }), 'w.toml', {}, 1000),
      (err: unknown) => err instanceof ConfigError && /alerts\.ntfy_token_file/.test(err.message) && /ENOENT/.test(err.message),
    );
  });

  test('an empty token file, or one with two words, is a config error', () => {
    for (const text of ['\n', 'one two\n']) {
      assert.throws(
        () => buildChannels(alerts({ ntfy_url: 'https://ntfy.sh/t', ntfy_token_file: tokenFile(text) }), 'w.toml', {}, 1000),
        /must hold one access token on one line/,
      );
    }
  });

  test('notify-send without a reachable session bus is still built, with a warning that says why', () => {
    const setup = buildChannels(alerts({ notify_send: true }), 'w.toml', {}, 999_999);
    assert.deepEqual(
      setup.channels.map((c) => c.name),
      ['notify-send'],
    );
    assert.match(setup.warnings[0] ?? '', /notify-send is on, but no D-Bus session bus is reachable: \/run\/user\/999999\/bus/);
  });
});

test('dispatcherSettings carries the five delivery settings over unchanged', () => {
  const a = alerts({ repeat_after: 1, retry_attempts: 2, retry_base: 3, retry_max: 4, timeout: 5 });
  assert.deepEqual(dispatcherSettings(a), { repeatAfter: 1, retryAttempts: 2, retryBase: 3, retryMax: 4, timeout: 5 });
});
