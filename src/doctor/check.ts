// One line of `warden doctor`: a named check, its status, what was found and, when it is not a
// pass, what to do about it. `info` is a neutral line (nothing to judge, e.g. "daemon not running").

import { assertNever } from '../policy/failure-kind.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'info';

export interface Check {
  id: string;
  status: CheckStatus;
  summary: string;
  /** What to change, for warn and fail. */
  fix?: string;
  /** Measured values for --json (bytes, milliseconds, paths). */
  data?: Record<string, string | number | boolean | null>;
}

export interface DoctorReport {
  version: string;
  ok: boolean;
  counts: Record<CheckStatus, number>;
  checks: Check[];
}

export function report(version: string, checks: Check[]): DoctorReport {
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, info: 0 };
  for (const c of checks) counts[c.status]++;
  return { version, ok: counts.fail === 0, counts, checks };
}

function label(status: CheckStatus): string {
  switch (status) {
    case 'pass':
      return 'PASS';
    case 'warn':
      return 'WARN';
    case 'fail':
      return 'FAIL';
    case 'info':
      return ' -- ';
    default:
      return assertNever(status, 'check status');
  }
}

export function formatReport(r: DoctorReport): string {
  const width = Math.max(...r.checks.map((c) => c.id.length), 6);
  const lines = [`warden doctor ${r.version}`];
  for (const c of r.checks) {
    lines.push(`${label(c.status)}  ${c.id.padEnd(width)}  ${c.summary}`);
    if (c.fix && c.status !== 'pass') lines.push(`${' '.repeat(width + 8)}fix: ${c.fix}`);
  }
  lines.push(`${r.counts.pass} pass, ${r.counts.warn} warn, ${r.counts.fail} fail${r.ok ? '' : ': not ready'}`);
  return lines.join('\n') + '\n';
}
