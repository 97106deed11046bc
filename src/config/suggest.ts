// The host's side of sizing: `warden config suggest` (values sized to this machine's MemTotal, or
// a whole config from a template, as install.sh writes it) and the check that `warden config
// check` adds to validation: a config that can never admit a worker here is a config error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { meminfoField } from '../admission/sample.js';
import { readOrNull } from '../host/read-file.js';
import { ConfigError } from './load.js';
import type { Config } from './schema.js';
import { fitProblem, sizedConfigText, sizedFragment, sizeForHost } from './sizing.js';

/** MemTotal in bytes from `<sysroot>/proc/meminfo`; null when it cannot be read. */
export function readMemTotal(sysroot = '/'): number | null {
  return meminfoField(readOrNull(join(sysroot, 'proc/meminfo')) ?? '', 'MemTotal');
}

/** Throws the config error `warden config check` reports when no worker can ever be admitted here. */
export function assertFitsHost(path: string, config: Config, memTotal: number | null): void {
  if (memTotal === null) return; // nothing to judge without MemTotal
  const p = fitProblem(memTotal, config.worker.memory_max, config.admission.min_available_memory);
  if (p === null) return;
  throw new ConfigError([
    { file: path, key: 'worker.memory_max', message: `no worker can ever be admitted on this host: ${p.why}; ${p.fix}` },
  ]);
}

/** `warden config suggest [--template FILE] [--sysroot DIR]`: stdout gets the sized config. */
export function suggestCommand(opts: { template?: string | undefined; sysroot?: string | undefined }): number {
  const memTotal = readMemTotal(opts.sysroot);
  if (memTotal === null) {
    process.stderr.write(`warden: cannot read MemTotal from ${join(opts.sysroot ?? '/', 'proc/meminfo')}\n`);
    return 1;
  }
  const sizing = sizeForHost(memTotal);
  process.stdout.write(opts.template === undefined ? sizedFragment(sizing) : sizedConfigText(readFileSync(opts.template, 'utf8'), sizing));
  return 0;
}
