// Plain one-line logs on stderr: journald adds the timestamp and unit under systemd, so lines
// carry only the level, the message and key=value fields that grep well.
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

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

export function createLogger(opts: { level?: Level; write?: (line: string) => void; timestamps?: boolean } = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  // journald timestamps lines itself; on a terminal we add our own
  const stamp = opts.timestamps ?? !process.env.JOURNAL_STREAM;
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const at = (level: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const line = formatLine(level, msg, fields);
    write(stamp ? `${new Date().toISOString()} ${line}` : line);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
