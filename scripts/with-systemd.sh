#!/usr/bin/env bash
# with-systemd.sh: run a command inside a REAL systemd (PID 1 of a throw-away systemd-nspawn
# container that shares this host's /usr), for warden's integration tests on machines whose own
# PID 1 is not systemd (CI VMs, containers). Limits (MemoryMax, CPUQuota) and the watchdog are
# really enforced in there.
#
#   scripts/with-systemd.sh test CMD [ARGS...]   boot, run CMD in the current directory, tear down;
#                                                exits with CMD's status
#   scripts/with-systemd.sh up | down | exec CMD...
#
# Environment: NAME (machine name, default warden-test), BIND (colon-separated host directories
# bound read-write at the same path; default: the current directory), BOOT_TIMEOUT (s, default 60),
# MASK (more units to mask in the container, space-separated).
#
# What this machine needs, and why:
#  - root, and systemd-nspawn (Debian: systemd-container, installed --no-install-recommends,
#    since its recommends edit /etc/nsswitch.conf).
#  - --volatile=yes: the container's root is a fresh tmpfs over the host's /usr, so nothing it
#    does persists, and /etc starts empty (systemd.firstboot=off skips the first-boot questions).
#  - On a hybrid (cgroup v1) host, nspawn mounts the v1 controllers read-only and systemd 252 then
#    treats memory/cpu as unsupported, silently ignoring MemoryMax/CPUQuota. The container's init
#    therefore remounts them read-write before exec'ing systemd.
#  - --volatile=yes gives the container a fresh /etc, where systemd's presets enable every service
#    whose unit is under the host's /usr: a failing etcd.service (Debian's etcd-server) kept the
#    boot from ever settling. Such services are masked on systemd's command line.
#  - The container's boot runs systemd-tmpfiles, which empties /tmp: binding the host's /tmp (or
#    /var, /run, /etc...) would wipe the host's copy. Those binds are refused.
#  - The fresh /etc means systemd's presets enable every service whose unit file is under the host's
#    /usr (etcd, postgresql, supervisor, binfmt-support...), and one that fails leaves the boot
#    degraded or hanging. Every unit with an [Install] section that does not come from systemd, udev
#    or dbus is masked (systemd.mask= on the container's command line: masking on the host's /etc
#    would not reach the container). A degraded boot lists its failed units; a boot that times out
#    lists the jobs still waiting.
#  - A checkout under a private directory (/root is 0700): the container's own directories above
#    each bind (on its tmpfs, not the host's) are made traversable (o+x), so the worker user reaches
#    the checkout, as on a machine where it lives under /srv. The bound directory itself is the
#    host's and is left alone.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "with-systemd.sh: must run as root (systemd-nspawn)" >&2; exit 1; }
command -v systemd-nspawn >/dev/null || { echo "with-systemd.sh: systemd-nspawn missing: apt-get install --no-install-recommends systemd-container" >&2; exit 1; }
# these would put the container in pure cgroup2 mode, where (on a v1 host) no memory/cpu controller exists
unset SYSTEMD_NSPAWN_UNIFIED_HIERARCHY UNIFIED_CGROUP_HIERARCHY

NAME=${NAME:-warden-test}
RUNDIR=/run/warden-with-systemd/$NAME
BIND=${BIND:-$PWD}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-60}
MASK=${MASK:-}
CPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
log() { echo "[with-systemd:$NAME] $*" >&2; }

leader() { cat "$RUNDIR/leader" 2>/dev/null; }
alive() { local p; p=$(cat "$RUNDIR/nspawn.pid" 2>/dev/null) && kill -0 "$p" 2>/dev/null; }
enter() {
  local L; L=$(leader) || { log "not running"; return 125; }
  nsenter -t "$L" -a env -i PATH=$CPATH HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
}

up() {
  if alive; then log "already running"; return 0; fi
  rm -rf "$RUNDIR"; mkdir -p "$RUNDIR"
  local t0=$SECONDS id ctrls path mnt d
  # a private cgroup per mounted hierarchy (cpuset skipped: v1 cpuset children need cpus/mems)
  : > "$RUNDIR/cgroups"
  while IFS=: read -r id ctrls path; do
    if [ -z "$ctrls" ]; then mnt=$(findmnt -n -t cgroup2 -o TARGET | head -1)
    else [ "${ctrls%%,*}" = cpuset ] && continue; mnt=$(findmnt -n -t cgroup -O "${ctrls%%,*}" -o TARGET | head -1); fi
    [ -n "$mnt" ] || continue
    d="$mnt${path%/}/with-systemd-$NAME"; mkdir -p "$d"; echo "$d" >> "$RUNDIR/cgroups"
  done < /proc/self/cgroup

  # units the tests do not need, which presets would start in the fresh /etc (see the header)
  local masks=() u keep
  keep=$(dpkg -L systemd systemd-sysv systemd-container udev dbus 2>/dev/null | sed -n 's|^\(/usr\)\{0,1\}/lib/systemd/system/||p' || true)
  for u in $(cd /usr/lib/systemd/system && grep -l '^\[Install\]' -- *.service *.socket *.timer *.path 2>/dev/null || true) ${MASK:-}; do
    case "$u" in *@.*) continue;; esac
    if ! grep -qxF -- "$u" <<< "$keep"; then masks+=("systemd.mask=$u"); fi
  done
  echo "${masks[*]#systemd.mask=}" > "$RUNDIR/masked"

  local INIT='while read -r _ m t _; do [ "$t" = cgroup ] && mount -o remount,bind,rw "$m"; done < /proc/self/mounts; exec /usr/lib/systemd/systemd "$@"'
  local binds=() b
  IFS=: read -ra _b <<< "$BIND"
  for b in "${_b[@]}"; do
    b=$(realpath -m "$b")
    case "$b" in
      /|/usr|/usr/*) log "not binding $b (already visible)";;
      /tmp|/var|/var/tmp|/run|/etc|/home|/root|/srv|/opt|/var/lib|/boot|/dev|/proc|/sys)
        log "refusing to bind system directory $b (the container's boot would empty or shadow it): use a project or mktemp -d directory"; exit 2;;
      *) binds+=("--bind=$b");;
    esac
  done
  setsid bash -c 'for d in $(cat "$1/cgroups"); do echo $$ > "$d/cgroup.procs"; done; echo $$ > "$1/nspawn.pid"; shift; exec "$@"' _ "$RUNDIR" \
    systemd-nspawn -D / --volatile=yes --register=no --keep-unit --private-network \
      --machine="$NAME" --console=read-only --kill-signal=SIGRTMIN+3 "${binds[@]}" \
      /bin/sh -c "$INIT" sh systemd.firstboot=off systemd.unit=multi-user.target "${masks[@]}" \
    > "$RUNDIR/console.log" 2>&1 < /dev/null &

  local P="" L="" s="" c
  while (( SECONDS - t0 < BOOT_TIMEOUT )); do
    P=$(cat "$RUNDIR/nspawn.pid" 2>/dev/null || true)
    if [ -n "$P" ]; then
      kill -0 "$P" 2>/dev/null || { log "nspawn died:"; tail -20 "$RUNDIR/console.log" >&2; down; return 1; }
      for c in $(pgrep -P "$P" || true); do [ "$(cat /proc/$c/comm 2>/dev/null)" = systemd ] && L=$c; done
    fi
    if [ -n "$L" ]; then
      echo "$L" > "$RUNDIR/leader"
      s=$(timeout 10 nsenter -t "$L" -a systemctl is-system-running --wait 2>/dev/null || true)
      case "$s" in running|degraded) break;; esac
    fi
    sleep 0.2
  done
  case "$s" in
    running) log "systemd up (running) in $((SECONDS - t0))s; masked: $(wc -w < "$RUNDIR/masked") units";;
    degraded) log "systemd up but DEGRADED in $((SECONDS - t0))s; failed units (MASK=\"unit ...\" masks more):"
              enter systemctl --failed --plain --no-legend --no-pager | sed "s/^/[with-systemd:$NAME]   /" >&2 || true;;
    *) log "boot timed out after ${BOOT_TIMEOUT}s (state '$s'); jobs still waiting, then failed units:"
       [ -n "$L" ] && { enter systemctl list-jobs --no-pager --no-legend; enter systemctl --failed --plain --no-legend --no-pager; } 2>&1 |
         sed "s/^/[with-systemd:$NAME]   /" >&2 || true
       tail -30 "$RUNDIR/console.log" >&2; down; return 1;;
  esac
  # the container's own directories above each bind (its tmpfs): traversable, as under /srv
  for b in "${binds[@]}"; do
    b=${b#--bind=}; d=${b%/*}
    while [ -n "$d" ]; do
      enter sh -c '[ "$(stat -fc %T "$1")" != tmpfs ] || chmod o+x "$1"' sh "$d" || true
      d=${d%/*}
    done
  done
  enter sh -c 'test -w /sys/fs/cgroup/memory/cgroup.procs && test -w /sys/fs/cgroup/cpu/cgroup.procs' ||
    enter sh -c 'test -f /sys/fs/cgroup/cgroup.controllers && grep -q memory /sys/fs/cgroup/cgroup.controllers' ||
    log "WARNING: memory/cpu cgroup controllers are not writable in the container: limits will NOT be enforced"
}

down() {
  local P L d pid i
  P=$(cat "$RUNDIR/nspawn.pid" 2>/dev/null || true); L=$(leader || true)
  if [ -n "$P" ] && kill -0 "$P" 2>/dev/null; then
    kill -TERM "$P"
    for i in $(seq 1 100); do kill -0 "$P" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$P" 2>/dev/null; then
      log "container did not stop in 10s: SIGKILL"
      [ -n "$L" ] && kill -KILL "$L" 2>/dev/null || true
      kill -KILL "$P" 2>/dev/null || true; sleep 0.5
    fi
  fi
  if [ -f "$RUNDIR/cgroups" ]; then
    for d in $(tac "$RUNDIR/cgroups"); do
      [ -d "$d" ] || continue
      for pid in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
      for i in 1 2 3 4 5; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null && break; sleep 0.2; done
    done
  fi
  rmdir "/run/systemd/nspawn/propagate/$NAME" /run/systemd/nspawn/propagate /run/systemd/nspawn /run/systemd/nspawn-root 2>/dev/null || true
  rm -rf "$RUNDIR"
}

cmd=${1:-}; shift || true
case "$cmd" in
  up) up ;;
  down) down ;;
  exec) enter sh -c 'cd "$1" 2>/dev/null || cd /; shift; exec "$@"' sh "$PWD" "$@" ;;
  test) trap down EXIT; up; rc=0
        enter sh -c 'cd "$1" 2>/dev/null || cd /; shift; exec "$@"' sh "$PWD" "$@" || rc=$?
        exit $rc ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
