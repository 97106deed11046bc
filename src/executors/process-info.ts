// Small /proc helpers shared by the executors: a PID's start time (to tell a recycled PID from
// our worker), liveness, signal names, and the exit-status file the worker wrapper writes.
import { readdirSync } from 'node:fs';
import { readOrNull } from '../host/read-file.js';
import { readRegularOrNull } from '../host/safe-open.js';
import { constants } from 'node:os';

/** The fields of /proc/PID/stat after `comm` (state first); null if the PID is gone. */
function statFields(pid: number): string[] | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  // comm (field 2) may contain spaces and parentheses: split after the last ')'
  return stat === null ? null : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Field 22 of /proc/PID/stat: start time in clock ticks since boot; null if the PID is gone. */
export function processStartTime(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** True when `pid` runs (not a zombie) and is the process that was recorded (same start time). */
export function isSameProcessAlive(pid: number, startTime: string | null): boolean {
  const f = statFields(pid);
  if (f === null || f[0] === 'Z') return false;
  const now = f[19] ?? null;
  return now !== null && (startTime === null || now === startTime);
}

/** What a group scan needs of /proc/PID/stat: state, process group, session, start time. */
export interface StatInfo {
  state: string;
  pgrp: number;
  session: number;
  startTime: string;
}

export function parseStat(text: string): StatInfo | null {
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, , pgrp, session] = f;
  const startTime = f[19];
  if (!state || !pgrp || !session || !startTime) return null;
  return { state, pgrp: Number(pgrp), session: Number(session), startTime };
}

/**
 * Live processes (zombies excluded: they are dead and cannot be signalled) of the process group
 * `pgid`, or of the session it leads: a worker started with setsid is both, and a descendant that
 * moved to a group of its own (setpgid) stays in the session. One read of /proc/PID/stat per
 * process; used only when an attempt ends and during a stop's grace period.
 */
export function groupMembers(pgid: number, procRoot = '/proc'): { pid: number; pgrp: number }[] {
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch {
    return [];
  }
  const out: { pid: number; pgrp: number }[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const text = readOrNull(`${procRoot}/${name}/stat`);
    const st = text === null ? null : parseStat(text);
    if (st === null || st.state === 'Z' || st.state === 'X') continue;
    if (st.pgrp === pgid || st.session === pgid) out.push({ pid: Number(name), pgrp: st.pgrp });
  }
  return out;
}

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, num]) => [num, name]));

export function signalName(num: number): string {
  return SIGNAL_NAMES.get(num) ?? `SIG${num}`;
}

/** A shell reports a child killed by signal N as 128+N. */
export function decodeShellStatus(rc: number): { exitCode: number | null; signal: string | null } {
  if (rc > 128 && rc < 128 + 65) return { exitCode: null, signal: signalName(rc - 128) };
  return { exitCode: rc, signal: null };
}

export interface ExitRecord {
  /** The worker's status as the shell saw it (128+N for signal N). */
  rc: number;
  /** The memory cgroup's OOM-kill counter after the worker exited; null if unreadable. */
  oomKill: number | null;
  /** Peak memory use and limit of the cgroup, bytes; null if unreadable or unlimited. */
  peak: number | null;
  limit: number | null;
}

/** Parses `<rc> oom_kill=N peak=N limit=N` (fields may be `-`), as written by WRAPPER_SCRIPT. */
export function readExitFile(runBase: string): ExitRecord | null {
  // run files live in a directory the worker user owns: never follow a link or open a FIFO there
  const text = readRegularOrNull(`${runBase}.exit`)?.trim();
  if (text === undefined) return null;
  const [rcText, ...fields] = text.split(/\s+/);
  if (!rcText || !/^\d+$/.test(rcText)) return null;
  const kv = Object.fromEntries(fields.map((f) => f.split('=') as [string, string]));
  const num = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : null);
  return { rc: Number(rcText), oomKill: num(kv.oom_kill), peak: num(kv.peak), limit: num(kv.limit) };
}

export function readPidFile(runBase: string): number | null {
  const text = readRegularOrNull(`${runBase}.pid`)?.trim();
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
}

/**
 * The worker wrapper: a POSIX sh that records its PID, runs the worker as its child, then records
 * the exit status with its memory cgroup's OOM record (cgroup v1 memory.oom_control `oom_kill`,
 * max usage and limit; cgroup v2 memory.events `oom_kill`, memory.peak and memory.max). It must
 * read them itself: a scope's cgroup is removed as soon as its last process exits. The file is
 * also how a restarted warden learns how an adopted worker ended, since it is no longer the
 * worker's parent. Builtins only after the worker exits; sh costs ~1 MB, not a second Node.
 * Both files are reserved by warden before the spawn and overwritten in place, so a full disk
 * cannot stop the wrapper from recording them; a reserved file not yet written holds only spaces.
 */
export const WRAPPER_SCRIPT = [
  // workers are the first the OOM killer should take, warden (OOMScoreAdjust=-500) the last;
  // raising one's own score needs no privilege
  'echo 500 > /proc/self/oom_score_adj 2>/dev/null',
  // `1<>`: overwrite the reserved file in place (src/executors/run-files.ts), never truncate it
  'echo $$ 1<> "$0.pid"',
  // Without this the group's SIGTERM kills sh at once: warden then sees the worker as ended
  // while one that ignores SIGTERM runs on, orphaned and never SIGKILLed. A trapped signal waits
  // until the foreground worker exits (POSIX), and the worker itself starts with the default.
  'trap : TERM',
  // [fleet] the dead man's switch (src/fleet/heartbeat.ts): a watcher kills the whole attempt
  // once the heartbeat's deadline (centiseconds of /proc/uptime) has passed, or the file is gone,
  // whether or not warden still runs. Builtins plus sleep; it exits with the worker.
  // `wdk`: in the attempt's own unit (a scope or sandboxed service named warden-<task>), every
  // process of its cgroup first, also those that left the process group (setsid, a daemonizing
  // tool); three passes catch a fork in between, TasksMax bounds the rest. Never under the direct
  // executor, whose cgroup is warden's own: there the process group is the attempt.
  'dms=',
  'if [ -n "${WARDEN_FLEET_HEARTBEAT:-}" ]; then',
  '  ( s=; trap \'[ -n "$s" ] && kill $s 2>/dev/null; exit 0\' TERM',
  '    wdk() {',
  '      read -r me _ < /proc/self/stat',
  '      while IFS=: read -r _ c p; do',
  '        case "$c" in name=systemd) f=/sys/fs/cgroup/systemd$p ;; "") f=/sys/fs/cgroup$p; [ -r "$f/cgroup.procs" ] || f=/sys/fs/cgroup/unified$p ;; *) continue ;; esac',
  '        case "$p" in */warden-"${WARDEN_TASK_ID:-}".scope|*/warden-"${WARDEN_TASK_ID:-}".service) ;; *) continue ;; esac',
  '        for n in 1 2 3; do while read -r q; do [ "$q" = "$me" ] || kill -KILL "$q" 2>/dev/null; done < "$f/cgroup.procs"; done',
  '      done < /proc/self/cgroup',
  '    }',
  '    while :; do',
  '      d=0; read -r d < "$WARDEN_FLEET_HEARTBEAT" || d=0',
  '      read -r up _ < /proc/uptime; now=${up%.*}${up#*.}',
  '      case "$d" in ""|*[!0-9]*) d=0 ;; esac',
  '      if [ "$now" -ge "$d" ]; then echo "warden: fleet heartbeat expired; killing this attempt (dead man\'s switch)" >&2; wdk; kill -KILL 0; fi',
  '      sleep "${WARDEN_FLEET_CHECK:-1}" & s=$!; wait $s; s=',
  '    done ) &',
  '  dms=$!',
  'fi',
  '"$@"; rc=$?',
  'if [ -n "$dms" ]; then kill $dms 2>/dev/null; wait $dms 2>/dev/null; fi',
  'oom=-; peak=-; limit=-',
  'while IFS=: read -r _ c p; do',
  '  case "$c" in',
  '    memory) d=/sys/fs/cgroup/memory$p',
  '      if [ -r "$d/memory.oom_control" ]; then while read -r k v; do [ "$k" = oom_kill ] && oom=$v; done < "$d/memory.oom_control"; fi',
  '      if [ -r "$d/memory.max_usage_in_bytes" ]; then read -r peak < "$d/memory.max_usage_in_bytes"; fi',
  '      if [ -r "$d/memory.limit_in_bytes" ]; then read -r limit < "$d/memory.limit_in_bytes"; fi ;;',
  '    "") d=/sys/fs/cgroup$p',
  '      if [ -r "$d/memory.events" ]; then while read -r k v; do [ "$k" = oom_kill ] && oom=$v; done < "$d/memory.events"; fi',
  '      if [ -r "$d/memory.peak" ]; then read -r peak < "$d/memory.peak"; fi',
  '      if [ -r "$d/memory.max" ]; then read -r limit < "$d/memory.max"; fi ;;',
  '  esac',
  'done < /proc/self/cgroup',
  'echo "$rc oom_kill=$oom peak=$peak limit=$limit" 1<> "$0.exit"',
  'exit $rc',
].join('\n');
