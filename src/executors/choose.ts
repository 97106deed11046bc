// Picks the executor: `auto` means systemd scopes when systemd is PID 1, else direct.
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { DirectExecutor } from './direct.js';
import type { Executor } from './types.js';

export function systemdIsPid1(): boolean {
  try {
    return readFileSync('/proc/1/comm', 'latin1').trim() === 'systemd';
  } catch {
    return false;
  }
}

export function chooseExecutor(config: Config): Executor {
  const kind = config.executor.kind === 'auto' ? (systemdIsPid1() ? 'systemd' : 'direct') : config.executor.kind;
  switch (kind) {
    case 'direct':
      return new DirectExecutor();
    case 'systemd':
      throw new Error('the systemd executor is not available in this build');
  }
}
