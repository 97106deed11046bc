// `warden doctor [--json] [--send-test]`, and `--readiness`: the installer's one readiness line.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatReport } from './check.js';
import { runDoctor } from './doctor.js';
import { readHostFiles } from './host-files.js';
import { assessPiReadiness, piReadinessLine } from './pi-readiness.js';

export interface DoctorFlags {
  json: boolean;
  sendTest: boolean;
  readiness: boolean;
  sysroot: string | undefined;
}

/** How to name install.sh in a fix: the installed copy next to dist/ when there is one. */
export function installerPath(): string {
  const p = fileURLToPath(new URL('../../install.sh', import.meta.url));
  return existsSync(p) ? p : 'install.sh';
}

export async function doctorCommand(configPath: string, version: string, flags: DoctorFlags): Promise<number> {
  if (flags.readiness) {
    const r = assessPiReadiness(readHostFiles(flags.sysroot ?? '/'));
    if (flags.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else process.stdout.write(piReadinessLine(r, installerPath()) + '\n');
    return 0;
  }
  const cliPath = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const r = await runDoctor({ configPath, version, cliPath, sendTest: flags.sendTest, sysroot: flags.sysroot, installer: installerPath() });
  process.stdout.write(flags.json ? JSON.stringify(r, null, 2) + '\n' : formatReport(r));
  return r.ok ? 0 : 1;
}
