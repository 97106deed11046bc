// Which config file warden reads: --config, then $WARDEN_CONFIG, then /etc/warden/config.toml.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_CONFIG_PATH, resolveConfigPath } from '../../../src/config/load.ts';

describe('resolveConfigPath', () => {
  test('--config beats $WARDEN_CONFIG', () => {
    assert.equal(resolveConfigPath('/from/flag.toml', { WARDEN_CONFIG: '/from/env.toml' }), '/from/flag.toml');
  });
  test('$WARDEN_CONFIG beats /etc/warden/config.toml', () => {
    assert.equal(resolveConfigPath(undefined, { WARDEN_CONFIG: '/from/env.toml' }), '/from/env.toml');
  });
  test('with neither, /etc/warden/config.toml is used', () => {
    assert.equal(DEFAULT_CONFIG_PATH, '/etc/warden/config.toml');
    assert.equal(resolveConfigPath(undefined, {}), '/etc/warden/config.toml');
  });
  test('an empty $WARDEN_CONFIG falls back to /etc/warden/config.toml', () => {
    assert.equal(resolveConfigPath(undefined, { WARDEN_CONFIG: '' }), '/etc/warden/config.toml');
  });
});
