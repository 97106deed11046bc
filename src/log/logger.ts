// Plain one-line logs on stderr: journald adds the timestamp and unit under systemd, so lines
// carry only the level, the message and key=value fields that grep well. When stderr is the
// journal, each line starts with its syslog priority (`<4>`: the sd-daemon convention), so
// `journalctl -p warning` finds warden's warnings and errors.
import { fstatSync } from 'node:fs';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** syslog priorities (sd-daemon.h: SD_ERR 3, SD_WARNING 4, SD_INFO 6, SD_DEBUG 7). */
const PRIORITY: Record<Level, number> = { debug: 7, info: 6, warn: 4, error: 3 };

/**
 * Whether stderr is the journal's stream: systemd sets JOURNAL_STREAM to its `device:inode`. A
 * process that inherited the variable but writes elsewhere (a shell redirect) does not match.
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env, fd = 2): boolean {
  const want = env.JOURNAL_STREAM;
  if (!want) return false;
  try {
    const st = fstatSync(fd);
    return `${st.dev}:${st.ino}` === want;
  } catch {
    return false;
  }
}

function formatValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s !== undefined && /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

export function formatLine(level: Level, msg: string, fields: Record<string, unknown> = {}): string {
  const kv = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
  return `${level.toUpperCase().padEnd(5)} ${msg}${kv ? ' ' + kv : ''}`;
}

export function createLogger(
  opts: { level?: Level; write?: (line: string) => void; timestamps?: boolean; journal?: boolean } = {},
): Logger {
  const min = ORDER[opts.level ?? 'info'];
  // journald timestamps lines itself and takes the priority prefix; on a terminal we add our own time
  const journal = opts.journal ?? stderrIsJournal();
  const stamp = opts.timestamps ?? !journal;
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const at = (level: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const line = formatLine(level, msg, fields);
    write(journal ? `<${PRIORITY[level]}>${line}` : stamp ? `${new Date().toISOString()} ${line}` : line);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
