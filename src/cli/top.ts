// `warden top`: a live full-screen view, like `pm2 monit`, over the control socket only. It asks
// for /status every REFRESH_MS and for /history once a minute (the history gains a point a
// minute), draws a frame (src/cli/top-frame.ts, pure) on the terminal's alternate screen, and
// quits on q or Ctrl-C. The terminal is restored on every way out: q, Ctrl-C, SIGTERM, SIGHUP,
// an error. Not a terminal (a pipe, a file, cron): one frame without colour, then exit.
// NO_COLOR (https://no-color.org: set and not empty) turns colour off.
import { callDaemon } from '../control/client.js';
import type { HistoryReport } from '../history/records.js';
import type { StatusReport } from '../supervisor/report.js';
import { renderTop, TOP_HISTORY_HOURS, type TopInput } from './top-frame.js';

export const REFRESH_MS = 1500;
const HISTORY_REFRESH_MS = 60_000;

const ENTER = '\x1b[?1049h\x1b[?25l'; // alternate screen, cursor hidden
const LEAVE = '\x1b[?25h\x1b[?1049l';

export function colorWanted(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  return isTTY && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '');
}

export async function top(socket: string): Promise<number> {
  const out = process.stdout;
  const fetchStatus = () => callDaemon<StatusReport>(socket, 'GET', '/status');
  const fetchHistory = () => callDaemon<HistoryReport>(socket, 'GET', `/history?hours=${TOP_HISTORY_HOURS}`).catch(() => null);
  // the first request fails loudly (exit 3 when the daemon is not running), before the screen is taken
  let status: StatusReport | null = await fetchStatus();
  let history = await fetchHistory();
  const frame = (error: string | null, live: boolean): string[] => {
    const input: TopInput = {
      status,
      error,
      history,
      now: Date.now(),
      width: out.columns || 80,
      height: live ? out.rows || 24 : Number.MAX_SAFE_INTEGER,
      color: colorWanted(process.env, live),
    };
    return renderTop(input);
  };
  if (!out.isTTY || !process.stdin.isTTY) {
    out.write(frame(null, false).join('\n') + '\n');
    return 0;
  }

  return new Promise<number>((resolve) => {
    let error: string | null = null;
    let historyAt = Date.now();
    let busy = false;
    const draw = () => out.write(`\x1b[H${frame(error, true).join('\x1b[K\n')}\x1b[K\x1b[J`);
    const refresh = async () => {
      if (busy) return;
      busy = true;
      try {
        status = await fetchStatus();
        error = null;
        if (Date.now() - historyAt >= HISTORY_REFRESH_MS) {
          historyAt = Date.now();
          history = (await fetchHistory()) ?? history;
        }
      } catch (err) {
        error = (err as Error).message; // keep the last frame's data; the daemon may come back
      } finally {
        busy = false;
      }
      if (!done) draw();
    };
    let done = false;
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    const onKey = (key: Buffer) => {
      const k = key.toString('utf8');
      if (k === 'q' || k === 'Q' || k === '\x03') finish(0);
      else if (k === ' ' || k === 'r') void refresh();
    };
    const onSignal = (sig: NodeJS.Signals) => finish(sig === 'SIGINT' ? 130 : 143);
    const onResize = () => draw();
    const restore = () => {
      try {
        process.stdin.setRawMode(false);
      } catch {
        /* stdin already gone */
      }
      out.write(LEAVE);
    };
    const finish = (code: number) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      process.stdin.off('data', onKey);
      process.stdin.pause();
      out.off('resize', onResize);
      for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.off(sig, onSignal);
      process.off('exit', restore);
      restore();
      resolve(code);
    };
    process.on('exit', restore); // a crash still gives the terminal back
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, onSignal);
    out.on('resize', onResize);
    process.stdin.setRawMode(true);
    process.stdin.resume();
    process.stdin.on('data', onKey);
    out.write(ENTER);
    draw();
  });
}
