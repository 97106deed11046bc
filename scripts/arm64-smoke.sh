#!/usr/bin/env bash
# arm64-smoke.sh: warden on arm64, as a Pi runs it (issue 17, item 5). Makes the release bundle,
# boots the emulated arm64 VM (ARCH=arm64 scripts/with-vm.sh: Debian 12, systemd 252, cgroup v2,
# a Cortex-A72 like a Pi 4's, Node 20's official arm64 binary), and inside it: installs from the
# bundle with install.sh --bundle, starts the service, runs a task to success and a hog to
# oom_killed, runs doctor, and prints `uname -m` and the times (boot to first spawn and each step).
#
#   scripts/arm64-smoke.sh            needs root, qemu-system-arm, qemu-user-static, mmdebstrap
#                                     (ARCH=arm64 scripts/with-vm.sh install); the image is cached
#   (scripts/arm64-smoke.sh --guest BUNDLE   is the half that runs inside the VM)
# Exits 0 when every step did what it should; the figures go to stdout as `arm64-smoke: ` lines.
set -euo pipefail

if [ "${1:-}" = --guest ]; then
  BUNDLE=$2
  fail() { echo "arm64-smoke: FAILED: $*"; exit 1; }
  up() { cut -d' ' -f1 /proc/uptime; }
  say() { echo "arm64-smoke: $*"; }
  t_cmd=$(up)
  say "uname -m: $(uname -m); node $(node -p 'process.version + " " + process.arch'); $(systemctl --version | head -n 1); cgroup $(stat -fc %T /sys/fs/cgroup)"
  say "boot to command: ${t_cmd} s (guest uptime)"
  [ "$(uname -m)" = aarch64 ] || fail "not aarch64"
  cd /
  t0=$(up)
  out=$(bash "$(dirname "$0")/../install.sh" --yes --bundle "$BUNDLE" 2>&1) || { echo "$out"; fail "install.sh --bundle"; }
  echo "$out" | sed 's/^/  /'
  say "install from the bundle: $(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }') s"
  cat > /etc/warden/config.toml <<'EOF'
# arm64 smoke run
[supervisor]
state_dir = "/var/lib/warden"
min_spawn_interval = "0s"
poll_interval = "1s"

[worker]
command = ["/opt/warden/scripts/fake-worker"]
startup_window = "0s"
memory_max = "64M"
max_attempts = 1

[admission]
min_available_memory = "0"
max_load_per_cpu = 1000
max_memory_pressure = 100

[executor]
kind = "systemd"
EOF
  warden config check || fail "config check"
  # emulation only: under TCG, arm64 runs 30-50x slower than a Pi 4 (warden took 84 s to its first
  # log line), past the unit's start timeout and watchdog; a runtime drop-in, gone at the next boot
  mkdir -p /run/systemd/system/warden.service.d
  printf '[Service]\nTimeoutStartSec=20min\nWatchdogSec=10min\n' > /run/systemd/system/warden.service.d/emulated.conf
  systemctl daemon-reload
  say "emulation drop-in: TimeoutStartSec=20min WatchdogSec=10min (the installed unit's are for real hardware)"
  t0=$(up)
  systemctl start warden.service || { journalctl -u warden --no-pager | tail -n 20; fail "systemctl start warden"; }
  say "systemctl start warden: $(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }') s (Type=notify: until READY=1)"
  warden task add ok --prompt 'sleep=0' > /dev/null
  warden task add hog --prompt 'alloc=256M sleep=5' > /dev/null
  t0=$(up)
  for _ in $(seq 1 600); do
    tasks=$(warden tasks 2>/dev/null || true)
    if grep -qE '^ok +succeeded' <<< "$tasks" && grep -qE '^hog +(dead|succeeded|retry_wait)' <<< "$tasks"; then break; fi
    sleep 1
  done
  echo "$tasks" | sed 's/^/  /'
  say "both tasks done: $(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }') s after task add"
  json=$(warden tasks --json)
  ok=$(node -e 'const t=JSON.parse(process.argv[1]).find(x=>x.id==="ok"); console.log(t?.history[0]?.outcome)' "$json")
  hog=$(node -e 'const t=JSON.parse(process.argv[1]).find(x=>x.id==="hog"); const h=t?.history[0]; console.log(`${h?.outcome} peak=${h?.memoryPeak}`)' "$json")
  say "task ok: $ok; task hog: $hog"
  [ "$ok" = succeeded ] || fail "task ok ended $ok"
  [[ "$hog" == oom_killed* ]] || fail "task hog ended $hog"
  first=$(journalctl -u warden.service -o short-monotonic --no-pager | grep -m1 'worker started' | sed -E 's/^\[ *([0-9.]+)\].*/\1/')
  say "boot to first spawn: ${first:-?} s (journal, monotonic since boot)"
  t0=$(up)
  doc=$(warden doctor 2>&1) && drc=0 || drc=$?
  echo "$doc" | sed 's/^/  /'
  say "doctor: exit $drc in $(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }') s: $(tail -n 1 <<< "$doc")"
  [ "$drc" = 0 ] || fail "doctor reported a failure"
  systemctl stop warden.service
  say "PASSED"
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "arm64-smoke.sh: must run as root" >&2; exit 1; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
t0=$SECONDS
[ -f dist/cli/main.js ] || npm run build > /dev/null
OUT=$(mktemp -d /var/tmp/warden-arm64-smoke.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
node scripts/bundle.mjs --out "$OUT" > /dev/null
BUNDLE=$(ls "$OUT"/warden-*.tar.gz)
echo "arm64-smoke: bundle $(basename "$BUNDLE") ($(du -h "$BUNDLE" | cut -f1)) made in $((SECONDS - t0)) s"
rc=0
ARCH=arm64 BIND="$ROOT:$OUT" "$ROOT/scripts/with-vm.sh" test bash "$ROOT/scripts/arm64-smoke.sh" --guest "$BUNDLE" || rc=$?
echo "arm64-smoke: exit $rc, $((SECONDS - t0)) s in all"
exit "$rc"
