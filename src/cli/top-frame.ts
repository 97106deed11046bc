// One frame of `warden top` (pure): the status and history answers, the time and the terminal's
// size in, the lines to draw out. It fits the terminal: every line is cut to the width, and when
// rows run short the history goes first, then events, then workers beyond the first ones.
import { formatDuration, formatSize } from '../config/units.js';
import type { HistoryReport } from '../history/records.js';
import type { StatusReport } from '../supervisor/report.js';
import { eventLines, historyLines, pauseLines } from './view-parts.js';
import { localTime } from './when.js';

export interface TopInput {
  status: StatusReport | null;
  /** Why the last request failed (the daemon stopped, say); the last status is still drawn. */
  error: string | null;
  history: HistoryReport | null;
  now: number;
  width: number;
  height: number;
  color: boolean;
}

/** The hours the sparklines cover. */
export const TOP_HISTORY_HOURS = 6;

const ESC = '\x1b[';
const paint = (on: boolean, code: string, text: string) => (on ? `${ESC}${code}m${text}${ESC}0m` : text);

/** A bar `[████░░░░]` of `width` cells, filled to `fraction`; coloured by how full it is. */
export function bar(fraction: number | null, width: number, color: boolean): string {
  if (fraction === null || !Number.isFinite(fraction)) return `[${' '.repeat(width)}]`;
  const f = Math.max(0, Math.min(1, fraction));
  const filled = Math.round(f * width);
  const code = f >= 0.9 ? '31' : f >= 0.7 ? '33' : '32';
  return `[${paint(color, code, '█'.repeat(filled))}${'░'.repeat(width - filled)}]`;
}

/** Visible characters of a line (ANSI colour sequences take none). */
export function visibleLength(line: string): number {
  // eslint-disable-next-line no-control-regex -- ANSI colour sequences start with ESC
  return [...line.replace(/\x1b\[[0-9;]*m/g, '')].length;
}

/** Cuts a line to `width` visible characters, keeping colour sequences balanced. */
export function fit(line: string, width: number): string {
  if (visibleLength(line) <= width) return line;
  let out = '';
  let seen = 0;
  // eslint-disable-next-line no-control-regex -- ANSI colour sequences start with ESC
  const parts = line.split(/(\x1b\[[0-9;]*m)/);
  for (const p of parts) {
    if (p.startsWith('\x1b[')) {
      out += p;
      continue;
    }
    for (const ch of p) {
      if (seen >= width - 1) return `${out}…${line.includes('\x1b[') ? `${ESC}0m` : ''}`;
      out += ch;
      seen++;
    }
  }
  return out;
}

function hostLines(s: StatusReport, c: boolean): string[] {
  const x = s.lastSample;
  if (!x) return ['host     no sample yet'];
  const mem =
    x.memAvailable === null
      ? 'MemAvailable ?'
      : `MemAvailable ${formatSize(x.memAvailable)}${x.memTotal ? `/${formatSize(x.memTotal)} ${bar(x.memTotal ? 1 - x.memAvailable / x.memTotal : null, 10, c)} used` : ''}`;
  const load = x.load1 === null ? 'load ?' : `load ${x.load1.toFixed(2)}/${x.cpus} CPUs`;
  const psi = x.psiAvailable ? `PSI ${(x.memoryPressure ?? 0).toFixed(1)}%` : 'PSI off';
  const h = s.hardware;
  const temp = h?.temperatureC == null ? 'temp n/a' : `temp ${h.temperatureC.toFixed(1)}°C/${h.maxTemperature}`;
  const thr = h?.throttled == null ? 'throttled n/a' : `throttled 0x${h.throttled.raw.toString(16)}`;
  const hot = h?.throttled?.now.underVoltage ? paint(c, '31;1', ' UNDER-VOLTAGE') : '';
  return [`${paint(c, '1', 'host')}     ${mem}  ${load}`, `         ${psi}  ${temp}  ${thr}${hot}`];
}

function workerBlock(w: StatusReport['workers'][number], s: StatusReport, c: boolean, width: number): string[] {
  const u = w.usage;
  const barWidth = Math.max(6, Math.min(20, Math.floor((width - 44) / 2)));
  const cap = u?.limitBytes ?? null;
  const memCap = cap ?? s.settings.memoryMax;
  const mem = u?.memoryBytes ?? null;
  const memText =
    mem === null ? 'mem ?' : `mem ${bar(mem / memCap, barWidth, c)} ${formatSize(mem)}/${formatSize(memCap)}${cap === null ? '*' : ''}`;
  const cpuCap = s.settings.cpuQuota;
  const cpu = u?.cpuPercent ?? null;
  const cpuText = `cpu ${bar(cpu === null ? null : cpu / cpuCap, barWidth, c)} ${cpu === null ? '?' : `${Math.round(cpu)}%`}/${cpuCap}%`;
  const head = `up ${formatDuration(w.uptimeMs)}  attempt ${w.attempt}  pid ${w.pid}`;
  const idWidth = Math.max(8, width - head.length - 3);
  const id = w.taskId.length > idWidth ? `${w.taskId.slice(0, idWidth - 1)}…` : w.taskId;
  return [` ${paint(c, '1', id)}${' '.repeat(Math.max(2, width - 1 - id.length - head.length))}${head}`, `   ${memText}  ${cpuText}`];
}

export function renderTop(t: TopInput): string[] {
  const { now, width, height, color: c } = t;
  const s = t.status;
  const head = `warden top  ${localTime(now, now)}`;
  const quit = 'q: quit';
  const lines: string[] = [`${paint(c, '1', head)}${' '.repeat(Math.max(1, width - head.length - quit.length))}${quit}`];
  if (t.error) lines.push(paint(c, '31;1', `daemon: ${t.error}`));
  if (!s) return lines.map((l) => fit(l, width));
  lines.push(`${s.summary} (up ${formatDuration(s.daemon.uptimeMs)}, pid ${s.daemon.pid}, ${s.executor.kind})`);
  lines.push(...hostLines(s, c));
  const pauses = pauseLines(s, now);
  lines.push(
    `${paint(c, '1', 'paused')}   ${pauses.length ? paint(c, '33', pauses[0]!) : 'no'}`,
    ...pauses.slice(1).map((p) => `         ${paint(c, '33', p)}`),
  );
  const b = s.breaker;
  const reopen = b.phase === 'open' && b.openedAt !== null ? `, probe ${localTime(b.openedAt + b.cooldownMs, now)}` : '';
  lines.push(
    `${paint(c, '1', 'breaker')}  ${b.phase === 'closed' ? 'closed' : paint(c, '31', `${b.phase}${reopen}`)}${b.reason ? ` (${b.reason})` : ''}`,
  );
  const q = s.tasks;
  // the live states always, the terminal ones when not zero (they fit 80 columns that way)
  const ended = (['succeeded', 'dead', 'blocked', 'cancelled'] as const).filter((k) => q[k] > 0).map((k) => `${k} ${q[k]}`);
  lines.push(
    `${paint(c, '1', 'queue')}    pending ${q.pending}  retry_wait ${q.retry_wait}  running ${q.running}  ${ended.join('  ')}`.trimEnd(),
  );

  // what is left of the rows goes to workers, then events, then the history
  const events = eventLines(s.recentEvents ?? [], now, 5).map((l) => ` ${l}`);
  const history = t.history
    ? historyLines(t.history, now, TOP_HISTORY_HOURS, Math.max(10, Math.min(72, width - 30)), s.lastSample?.memTotal ?? null).map(
        (l) => ` ${l}`,
      )
    : [];
  let room = height - lines.length - 1; // the workers' heading
  const blocks = s.workers.map((w) => workerBlock(w, s, c, width));
  const workerRows: string[] = [];
  for (const [i, block] of blocks.entries()) {
    const rest = blocks.length - i - 1;
    if (room - block.length - (rest > 0 ? 1 : 0) < 0) {
      workerRows.push(` +${blocks.length - i} more`);
      room -= 1;
      break;
    }
    workerRows.push(...block);
    room -= block.length;
  }
  const capNote = s.workers.some((w) => w.usage?.limitBytes == null) ? '  (* memory_max, not enforced)' : '';
  lines.push(`${paint(c, '1', `workers ${s.workers.length}/${s.settings.maxConcurrentWorkers}`)}${s.workers.length ? capNote : '  none'}`);
  lines.push(...workerRows);
  if (events.length && room >= 2) {
    const shown = events.slice(-(room - 1));
    lines.push(paint(c, '1', 'events'), ...shown);
    room -= shown.length + 1;
  }
  if (history.length && room >= 2) {
    lines.push(paint(c, '1', `last ${TOP_HISTORY_HOURS}h`), ...history.slice(0, room - 1));
  }
  return lines.slice(0, height).map((l) => fit(l, width));
}
