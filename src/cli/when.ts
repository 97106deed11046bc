// Times as people read them in `warden status` and `warden top`: local time (today: the clock
// only; another day: the date too) with a relative form, `14:03:12 (3m ago)` or `(in 2m)`.
import { formatDuration } from '../config/units.js';

const pad = (n: number) => String(n).padStart(2, '0');

/** `14:03:12` today, `2026-11-28 14:03` on another local day. */
export function localTime(at: number, now: number): string {
  const d = new Date(at);
  const n = new Date(now);
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const sameDay = d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
  return sameDay ? `${clock}:${pad(d.getSeconds())}` : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}`;
}

/** `3m ago`, `in 2m10s`, `now` (under a second either way). */
export function relative(at: number, now: number): string {
  const d = at - now;
  if (Math.abs(d) < 1000) return 'now';
  return d < 0 ? `${formatDuration(-d)} ago` : `in ${formatDuration(d)}`;
}

/** `14:03:12 (3m ago)`. */
export function when(at: number, now: number): string {
  return `${localTime(at, now)} (${relative(at, now)})`;
}

/** `2026-11-29 14:03:12 (3m ago)`: always with the date, for a state that may be days old. */
export function dated(at: number, now: number): string {
  const d = new Date(at);
  const stamp = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${stamp} (${relative(at, now)})`;
}
