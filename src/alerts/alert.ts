// An alert is what reaches the owner's phone or desktop. Which events become alerts, and of what
// kind, is in the event table (src/events/catalog.ts); how each reads is decided here as a pure
// function of the event. Everything else (dedupe, retries, the channels) works on the Alert alone.
import { createHash } from 'node:crypto';
import { formatDuration } from '../config/units.js';
import { assertNever, describeFailureKind } from '../policy/failure-kind.js';
import { raisesAlert, type AlertKind, type DigestSummary, type WardenEvent } from '../events/catalog.js';
import { PAUSES, type HardwarePauseReason, type PauseReason, type WorkerPauseReason } from '../state/pause-reasons.js';

/** ntfy's scale: 1 min, 2 low, 3 default, 4 high, 5 max (urgent). */
export type AlertPriority = 1 | 2 | 3 | 4 | 5;

export interface Alert {
  kind: AlertKind;
  /** The dedupe key: an alert with the same key is not sent again within repeat_after. */
  key: string;
  /** Keys of the opposite condition: sending this alert lifts their suppression, so an
   * open/closed/open sequence is never shown as just "open, closed". */
  clears: string[];
  title: string;
  message: string;
  priority: AlertPriority;
  /** ntfy tags: the first is an emoji short code, shown before the title on the phone. */
  tags: string[];
  /** When the event happened (ms since the epoch). */
  at: number;
  host: string;
  /** Machine-readable details for the command hook: task ID, reason, ... */
  fields: Record<string, string | number | boolean | null>;
}

export interface AlertContext {
  now: number;
  host: string;
}

type Draft = Omit<Alert, 'at' | 'host' | 'title' | 'clears'> & { title: string; clears?: string[] };

function finish(d: Draft, ctx: AlertContext): Alert {
  return { ...d, clears: d.clears ?? [], title: `${ctx.host}: ${d.title}`, at: ctx.now, host: ctx.host };
}

/**
 * The alert an event raises, or null for events that are routine (a spawn, a retry, a success).
 * Pause and resume carry their reason in the key, so a manual pause does not hide a pressure pause.
 */
export function alertFor(e: WardenEvent, ctx: AlertContext): Alert | null {
  if (!raisesAlert(e)) return null;
  switch (e.type) {
    case 'breaker_opened':
      return finish(
        {
          kind: 'breaker_opened',
          key: 'breaker',
          clears: ['breaker_closed'],
          title: 'breaker OPEN, spawning paused',
          message: `${e.reason}. No worker is started for ${formatDuration(e.cooldownMs)}; then one probe spawn decides. \`warden resume\` closes it now.`,
          priority: PAUSES.breaker.alertPriority,
          tags: ['rotating_light', 'breaker_opened'],
          fields: { reason: e.reason, cooldown_ms: e.cooldownMs, pause_reason: 'breaker' },
        },
        ctx,
      );
    case 'breaker_closed':
      return finish(
        {
          kind: 'breaker_closed',
          key: 'breaker_closed',
          clears: ['breaker'],
          title: 'breaker closed, spawning resumed',
          message: e.by === 'probe' ? 'The probe spawn succeeded; workers start again.' : 'Closed by `warden resume`; workers start again.',
          priority: 3,
          tags: ['white_check_mark', 'breaker_closed'],
          fields: { by: e.by, pause_reason: 'breaker' },
        },
        ctx,
      );
    case 'pressure_entered':
      return pausedAlert(
        'pressure',
        `Host under pressure: ${e.reasons.join('; ')}. Running workers keep running; no new worker starts until it clears.`,
        ctx,
      );
    case 'pressure_stuck':
      return finish(
        {
          kind: 'paused',
          // its own key: it says more than a pressure pause, even one sent just before
          key: STUCK_KEY,
          clears: ['resumed:pressure'],
          title: 'paused: pressure that cannot lift',
          message: `No worker can ever start on this host with this config: ${e.why}. Change the config: ${e.fix}, then \`systemctl reload warden\`.`,
          priority: PAUSES.pressure.alertPriority,
          tags: ['pause_button', 'paused'],
          fields: { pause_reason: 'pressure', why: e.why, fix: e.fix },
        },
        ctx,
      );
    case 'pressure_left': {
      const a = resumedAlert('pressure', 'The host stayed below every pressure threshold for recover_after; workers start again.', ctx);
      return { ...a, clears: [...a.clears, STUCK_KEY] };
    }
    case 'paused':
      return pausedAlert(e.by, 'Paused by `warden pause`. Running workers keep running; `warden resume` lets spawning continue.', ctx);
    case 'resumed':
      return resumedAlert(e.by, 'The manual pause was cleared by `warden resume`.', ctx);
    case 'task_dead':
      return finish(
        {
          kind: 'task_dead',
          key: `task_dead:${e.taskId}`,
          title: `task ${e.taskId} is dead`,
          message: `Gave up after ${e.attempts} attempts. Last: ${e.kind}, ${describeFailureKind(e.kind)} (${e.detail}).`,
          priority: 4,
          tags: ['skull', 'task_dead'],
          fields: { task: e.taskId, failure_kind: e.kind, attempts: e.attempts, detail: e.detail },
        },
        ctx,
      );
    case 'unclean_restart':
      return finish(
        {
          kind: 'unclean_restart',
          key: 'unclean_restart',
          title: 'restarted after an unclean stop',
          message: `The previous warden run did not shut down cleanly (crash, kill -9 or watchdog). ${e.runningTasks} running task(s) are being adopted, not respawned. Check \`journalctl -u warden\`.`,
          priority: 4,
          tags: ['boom', 'unclean_restart'],
          fields: { running_tasks: e.runningTasks },
        },
        ctx,
      );
    case 'config_reload_failed':
      return finish(
        {
          kind: 'config_reload_failed',
          // per distinct error: fixing one problem and hitting the next is news, the same one is not
          key: `config_reload_failed:${createHash('sha256').update(e.error).digest('hex').slice(0, 12)}`,
          title: 'config reload failed, old config kept',
          message: e.error,
          priority: 4,
          tags: ['gear', 'config_reload_failed'],
          fields: { error: e.error },
        },
        ctx,
      );
    case 'digest':
      return finish(
        {
          kind: 'digest',
          // unique per run: a digest is never a repeat of yesterday's
          key: `digest:${ctx.now}`,
          title: 'daily digest',
          message: digestText(e.summary),
          priority: 2,
          tags: ['bar_chart', 'digest'],
          fields: { spawns: e.summary.spawns, succeeded: e.summary.succeeded, dead: e.summary.dead, period_ms: e.summary.periodMs },
        },
        ctx,
      );
    case 'alert_test':
      return finish(
        {
          kind: 'test',
          key: `test:${ctx.now}`,
          title: 'test alert',
          message: 'This is a test alert from `warden alert test`. If you can read it, this channel works.',
          priority: 3,
          tags: ['test_tube', 'test'],
          fields: {},
        },
        ctx,
      );
    case 'disk_paused':
      return pausedAlert(
        'disk',
        `Low disk space: ${e.reason}. Running workers keep running; no new worker starts until space is freed.`,
        ctx,
      );
    case 'hardware_paused':
      return pausedAlert(e.reason, hardwarePauseMessage(e.reason, e.reasons), ctx);
    case 'hardware_resumed':
      return resumedAlert(e.reason, hardwareResumeMessage(e.reason), ctx);
    case 'fleet_paused':
      return pausedAlert(
        'fleet',
        `Fleet: ${e.reason}. This node claims no task; its workers are stopped before its etcd lease can expire.`,
        ctx,
      );
    case 'fleet_resumed':
      return resumedAlert('fleet', 'Fleet: this node holds its etcd lease again and claims tasks.', ctx);
    case 'disk_resumed':
      return resumedAlert('disk', 'Free disk space is back above worktree.min_free_disk; workers start again.', ctx);
    case 'task_blocked':
      return taskBlockedAlert(e.taskId, e.reason, ctx);
    case 'worker_paused':
      return pausedAlert(e.reason, workerPauseMessage(e.reason, e.detail, e.until), ctx);
    case 'worker_resumed':
      return resumedAlert(
        e.reason,
        e.reason === 'budget'
          ? 'A new day: the daily budget starts again; workers start again.'
          : `The ${e.reason} pause ended; workers start again.`,
        ctx,
      );
    default:
      return assertNever(e, 'event');
  }
}

/** The dedupe key of the alert for a pressure pause that cannot lift (pressure_stuck). */
const STUCK_KEY = 'paused:pressure:stuck';

/** Every pause but the breaker's, whose alerts say more (breaker_opened, breaker_closed). */
type AlertedPause = Exclude<PauseReason, 'breaker'>;

function pausedAlert(reason: AlertedPause, message: string, ctx: AlertContext): Alert {
  return finish(
    {
      kind: 'paused',
      key: `paused:${reason}`,
      clears: [`resumed:${reason}`],
      title: `paused: ${reason}`,
      message,
      priority: PAUSES[reason].alertPriority,
      tags: ['pause_button', 'paused'],
      fields: { pause_reason: reason },
    },
    ctx,
  );
}

/** What the owner reads when a worker's own report paused spawning. */
function workerPauseMessage(reason: WorkerPauseReason, detail: string, until: number | null): string {
  const till = until === null ? '' : ` until ${new Date(until).toISOString()}`;
  switch (reason) {
    case 'worker_auth':
      return `claude is not logged in / API key invalid (the worker said: ${detail}). No worker starts until you log in as the worker user and run \`warden resume\`.`;
    case 'usage_limit':
      return `The worker hit a usage limit (${detail}). Spawning waits${till}; tasks keep their attempts.`;
    case 'budget':
      return `Daily budget reached: ${detail}. Spawning waits${till}.`;
    default:
      return assertNever(reason, 'worker pause reason');
  }
}

function hardwarePauseMessage(reason: HardwarePauseReason, reasons: string[]): string {
  switch (reason) {
    case 'power':
      return `Under-voltage now: ${reasons.join('; ')}. Under-voltage throttles the Pi and corrupts SD cards: use a proper power supply. No new worker starts until it clears.`;
    case 'thermal':
      return `SoC too hot: ${reasons.join('; ')}. Running workers keep running; no new worker starts until it stays cooler for recover_after.`;
    default:
      return assertNever(reason, 'hardware pause reason');
  }
}

function hardwareResumeMessage(reason: HardwarePauseReason): string {
  switch (reason) {
    case 'power':
      return 'No under-voltage for recover_after; workers start again.';
    case 'thermal':
      return 'The SoC stayed below max_temperature for recover_after; workers start again.';
    default:
      return assertNever(reason, 'hardware pause reason');
  }
}

function resumedAlert(reason: AlertedPause, message: string, ctx: AlertContext): Alert {
  return finish(
    {
      kind: 'resumed',
      key: `resumed:${reason}`,
      clears: [`paused:${reason}`],
      title: `resumed: ${reason} pause ended`,
      message,
      priority: 3,
      tags: ['arrow_forward', 'resumed'],
      fields: { pause_reason: reason },
    },
    ctx,
  );
}

/** A task the worker reported as blocked (it wrote BLOCKED.md with the reason). */
function taskBlockedAlert(taskId: string, reason: string, ctx: AlertContext): Alert {
  return finish(
    {
      kind: 'task_blocked',
      key: `task_blocked:${taskId}`,
      title: `task ${taskId} is blocked`,
      message: `The worker stopped and asked for help: ${reason}`,
      priority: 3,
      tags: ['construction', 'task_blocked'],
      fields: { task: taskId, reason },
    },
    ctx,
  );
}

export function digestText(s: DigestSummary): string {
  const failures = Object.entries(s.failures)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const tasks = Object.entries(s.tasks)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return [
    `Last ${formatDuration(s.periodMs)}: ${s.spawns} spawn(s), ${s.succeeded} succeeded, ${s.dead} dead${failures ? `; failures: ${failures}` : ''}.`,
    `Now: ${s.statusLine}. Breaker ${s.breaker}${s.paused.length ? `, paused (${s.paused.join(', ')})` : ''}.`,
    `Tasks: ${tasks || 'none'}.`,
  ].join('\n');
}
