// warden's real defaults, resolved from the smallest valid config file, for tests of pure decisions.
import { parseConfigText } from '../../src/config/load.ts';
import { coreSettingsFrom, type CoreSettings } from '../../src/policy/settings.ts';
import { MINUTE } from './units.ts';

/** The one key a config must have. */
export const MINIMAL_CONFIG = '[supervisor]\nstate_dir = "/var/lib/warden"\n';

/** The whole config with every default, parsed from MINIMAL_CONFIG. */
export function defaultConfig(): ReturnType<typeof parseConfigText> {
  return parseConfigText(MINIMAL_CONFIG, 'minimal.toml');
}

/** The decision core's settings with every default. */
export const DEFAULT_SETTINGS: CoreSettings = coreSettingsFrom(defaultConfig());

/** A breaker that never opens, for tests about something else. */
export const NO_BREAKER = { failures: 1000, window: 10 * MINUTE, cooldown: 15 * MINUTE };

/** The defaults with some settings changed. */
export const settingsWith = (over: Partial<CoreSettings> = {}): CoreSettings => ({ ...DEFAULT_SETTINGS, ...over });
