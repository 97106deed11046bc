// What the worker's own stream says about its failure, as pure functions of (verdict, clock).
// Anything no rule matches returns null, and the exit code decides as before.
//
// The message forms come from Claude Code's issue tracker (anthropics/claude-code):
//   "Claude AI usage limit reached|1755615600"           (#4375, #6119, #9046: epoch seconds)
//   "Claude usage limit reached. Your limit will reset at 5pm (Europe/Warsaw)."   (#6119)
//   "You've hit your limit · resets 4:50am (Europe/Rome)"                          (#52575, #24511)
//   "You've hit your limit - resets Feb 7, 11am (Asia/Seoul)"                      (#22976: no reset parsed)
//   API Error: 429 {"type":"error","error":{"type":"rate_limit_error",...}}        (#6119)
// and the real CLI run here without credentials: an assistant event with
// "error":"authentication_failed" and the result "Not logged in · Please run /login".

/** What the worker said about its own run; every field stays null until an event carries it. */
export interface WorkerVerdict {
  sessionId: string | null;
  /** The final `result` event was seen. */
  sawResult: boolean;
  subtype: string | null;
  isError: boolean | null;
  numTurns: number | null;
  totalCostUsd: number | null;
  durationMs: number | null;
  /** The last `error` field of an assistant event (e.g. `authentication_failed`, `rate_limit`). */
  error: string | null;
  /** The final result text (truncated to TEXT_LIMIT). */
  resultText: string | null;
  /** The last non-JSON line, for limit messages printed as plain text (truncated). */
  lastNoise: string | null;
  events: number;
  noiseLines: number;
  unknownEvents: number;
  droppedLongLines: number;
}

export type VerdictClass =
  | { kind: 'auth_failed'; message: string }
  | { kind: 'usage_limit'; message: string; resetAt: number | null }
  | { kind: 'max_turns'; message: string }
  | { kind: 'api_error'; message: string };

const AUTH_ERRORS = new Set(['authentication_failed', 'billing_error']);
const AUTH_TEXT =
  /not logged in|please run \/login|invalid api key|authentication_error|oauth token (?:has )?expired|credit balance is too low/i;
const LIMIT_TEXT = /usage limit reached|hit your (?:usage )?limit|rate_limit_error|\b429\b|rate limit(?:ed| reached| exceeded)/i;
const API_ERRORS = new Set(['server_error', 'invalid_request', 'unknown']);
const API_TEXT = /api error|overloaded|internal server error|api_error|\b5\d\d\b|econnreset|etimedout|request timed out|connection error/i;

export function classifyVerdict(v: WorkerVerdict | null, now: number): VerdictClass | null {
  if (v === null) return null;
  const text = [v.resultText, v.lastNoise].filter((t): t is string => t !== null).join('\n');
  const failed = v.isError === true || v.error !== null || (v.subtype?.startsWith('error') ?? false) || !v.sawResult;
  if (!failed) return null;
  const message = (v.resultText ?? v.error ?? v.lastNoise ?? v.subtype ?? '').slice(0, 300);
  if ((v.error !== null && AUTH_ERRORS.has(v.error)) || AUTH_TEXT.test(text)) return { kind: 'auth_failed', message };
  if (v.error === 'rate_limit' || LIMIT_TEXT.test(text)) return { kind: 'usage_limit', message, resetAt: parseLimitReset(text, now) };
  if (v.subtype === 'error_max_turns') return { kind: 'max_turns', message: message || 'error_max_turns' };
  if (
    (v.error !== null && API_ERRORS.has(v.error)) ||
    (v.isError === true && API_TEXT.test(text)) ||
    v.subtype === 'error_during_execution'
  )
    return { kind: 'api_error', message };
  return null;
}

/** The reset time a limit message carries, in ms since the epoch; null when there is none. */
export function parseLimitReset(text: string, now: number): number | null {
  const epoch = /limit reached\|(\d{9,11})\b/i.exec(text);
  if (epoch) return Number(epoch[1]) * 1000;
  // "resets 4:50am (Europe/Rome)", "reset at 5pm (Europe/Warsaw)": the next such wall-clock time there
  const clock = /resets?\s+(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)\s*\(([A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*)\)/i.exec(text);
  if (!clock) return null;
  let hour = Number(clock[1]) % 12;
  if ((clock[3] as string).toLowerCase() === 'pm') hour += 12;
  const minute = clock[2] === undefined ? 0 : Number(clock[2]);
  if (minute > 59) return null;
  return nextWallClock(now, hour, minute, clock[4] as string);
}

/** The first time after `now` when the clock in `timeZone` reads hour:minute; null for an unknown zone. */
export function nextWallClock(now: number, hour: number, minute: number, timeZone: string): number | null {
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    return null;
  }
  const wall = (t: number) => {
    const p = Object.fromEntries(fmt.formatToParts(new Date(t)).map((x) => [x.type, Number(x.value)]));
    return {
      y: p.year as number,
      mo: p.month as number,
      d: p.day as number,
      ms: Date.UTC(p.year as number, (p.month as number) - 1, p.day, p.hour, p.minute, p.second),
    };
  };
  const today = wall(now);
  const offset = today.ms - Math.floor(now / 1000) * 1000; // the zone's offset from UTC now
  for (let day = 0; day <= 2; day++) {
    const t = Date.UTC(today.y, today.mo - 1, today.d + day, hour, minute) - offset;
    if (t > now) return t;
  }
  return null;
}

/** How long spawning waits after a usage limit: until its reset (capped), else the configured pause. */
export function usageLimitUntil(resetAt: number | null, now: number, fallbackMs: number): number {
  const MAX_WAIT = 8 * 24 * 3600_000; // weekly limits reset within a week; a wild value must not pause forever
  if (resetAt !== null && resetAt > now) return Math.min(resetAt, now + MAX_WAIT);
  return now + fallbackMs;
}

/** The start of the next local day: a daily budget pause lifts then. */
export function nextLocalMidnight(now: number): number {
  const d = new Date(now);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
}

/** The local calendar day of `now` as YYYY-MM-DD, the key daily spending is kept under. */
export function localDay(now: number): string {
  const d = new Date(now);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
