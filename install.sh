#!/usr/bin/env bash
# warden installer. From a checkout (npm ci && npm run build first) or an unpacked release bundle:
#   sudo ./install.sh [options]
# Piped, with a release bundle made by `npm run bundle`:
#   curl -fsSL https://…/install.sh | sudo bash -s -- --bundle https://…/warden-X.Y.Z.tar.gz
#
# Options:
#   --prefix DIR     install the program here (default /opt/warden)
#   --bindir DIR     put the `warden` command here (default /usr/local/bin)
#   --user NAME      the worker user to create and write into a new config (default warden)
#   --bundle F|URL   install from this release tarball instead of the script's own directory
#   --yes            answer yes to every question (installing nodejs or git, purging)
#   --dry-run        print what would be done; change nothing
#   --uninstall      remove the program, command and units; keep config and state
#   --purge          --uninstall, and remove config, state and the worker user install.sh created
#   --fix-cmdline    turn on the memory cgroup and PSI in the Raspberry Pi's cmdline.txt (backup
#                    kept); takes effect after a reboot
#   --sysroot DIR    read /proc, /sys and /boot under DIR (tests, with fixture trees)
#
# Every step prints one line. A failure stops with the step and how to fix it. Running it again
# upgrades in place and keeps /etc/warden/config.toml and the state in /var/lib/warden.
#
# Everything runs from main() at the very end, so a truncated download executes nothing.
set -euo pipefail

PREFIX=/opt/warden
BINDIR=/usr/local/bin
CONFIG_DIR=/etc/warden
CONFIG=$CONFIG_DIR/config.toml
UNIT_DIR=/etc/systemd/system
STATE_DIR=/var/lib/warden
RUNTIME_DIR=/run/warden
CREATED_USER_MARK=$CONFIG_DIR/.install-created-user
WRAPPER_MARK="# installed by warden's install.sh"
REQUIRED_CMDLINE=(cgroup_enable=memory cgroup_memory=1 psi=1)

ACTION=install
WORKER_USER=
BUNDLE=${WARDEN_BUNDLE:-}
YES=0
DRY=0
SYSROOT=
NODE=
SRC=
SRC_KIND=
TMP=
SIZED=
STEP=options
DIED=0

say() { printf 'warden-install: %s: %s\n' "$1" "$2"; }
die() {
  DIED=1
  printf 'warden-install: FAILED at %s: %s\n' "$1" "$2" >&2
  printf 'warden-install:   fix: %s\n' "$3" >&2
  exit 1
}
usage() { sed -n '2,21p' "${BASH_SOURCE[0]:-install.sh}" 2>/dev/null | sed 's/^# \{0,1\}//'; }

# Asks on the terminal (also when the script itself arrives on stdin); --yes answers yes, and
# with no terminal the answer is no.
ask() {
  local answer=
  [ "$YES" = 1 ] && return 0
  if { exec 3</dev/tty; } 2>/dev/null; then
    printf 'warden-install: %s [y/N] ' "$1" >/dev/tty
    read -r answer <&3 || answer=
    exec 3<&-
  fi
  case "$answer" in y | Y | yes | YES) return 0 ;; *) return 1 ;; esac
}

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --prefix) [ $# -ge 2 ] || die options "--prefix needs a directory" "--prefix /opt/warden"; PREFIX=${2%/}; shift ;;
      --prefix=*) PREFIX=${1#*=}; PREFIX=${PREFIX%/} ;;
      --bindir) [ $# -ge 2 ] || die options "--bindir needs a directory" "--bindir /usr/local/bin"; BINDIR=${2%/}; shift ;;
      --bindir=*) BINDIR=${1#*=}; BINDIR=${BINDIR%/} ;;
      --user) [ $# -ge 2 ] || die options "--user needs a name" "--user warden"; WORKER_USER=$2; shift ;;
      --user=*) WORKER_USER=${1#*=} ;;
      --bundle) [ $# -ge 2 ] || die options "--bundle needs a file or URL" "--bundle warden-X.Y.Z.tar.gz"; BUNDLE=$2; shift ;;
      --bundle=*) BUNDLE=${1#*=} ;;
      --sysroot) [ $# -ge 2 ] || die options "--sysroot needs a directory" "--sysroot /path/to/fixture"; SYSROOT=${2%/}; shift ;;
      --sysroot=*) SYSROOT=${1#*=}; SYSROOT=${SYSROOT%/} ;;
      --yes | -y) YES=1 ;;
      --dry-run | -n) DRY=1 ;;
      --uninstall) ACTION=uninstall ;;
      --purge) ACTION=purge ;;
      --fix-cmdline) ACTION=fix-cmdline ;;
      -h | --help) usage; exit 0 ;;
      *) die options "unknown option $1" "see ./install.sh --help" ;;
    esac
    shift
  done
  case "$PREFIX" in /?*) ;; *) die options "--prefix must be an absolute path other than /, got '$PREFIX'" "--prefix /opt/warden" ;; esac
  case "$BINDIR" in /?*) ;; *) die options "--bindir must be an absolute path, got '$BINDIR'" "--bindir /usr/local/bin" ;; esac
  if [ -n "$WORKER_USER" ] && ! [[ "$WORKER_USER" =~ ^[a-z_][a-z0-9_-]*$ ]]; then
    die options "--user '$WORKER_USER' is not a valid user name" "--user warden"
  fi
}

need_root() {
  [ "$DRY" = 1 ] && return 0
  [ "$(id -u)" = 0 ] || die "$1" "this needs root" "run it with sudo (or --dry-run to only look)"
}

# ---------------------------------------------------------------------------------------------
# The machine

check_system() {
  local os arch machine sd
  os=$(uname -s)
  [ "$os" = Linux ] || die system "this is $os; warden runs on Linux" "install on a Linux machine (Raspberry Pi OS, Debian, Ubuntu)"
  machine=$(uname -m)
  case "$machine" in
    aarch64 | arm64) arch=arm64 ;;
    armv7l | armv6l | armhf) arch=armhf ;;
    x86_64 | amd64) arch=x86_64 ;;
    *) die system "unsupported architecture $machine" "warden supports arm64, armhf and x86_64" ;;
  esac
  if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] || [ ! -d /run/systemd/system ]; then
    die system "systemd is not PID 1 here" "install on a machine booted with systemd (Raspberry Pi OS is); warden runs as a systemd service"
  fi
  sd=$(systemctl --version 2>/dev/null | head -n1 | cut -d' ' -f2)
  say system "Linux $arch ($machine), systemd ${sd:-?} is PID 1"
}

# The candidate version of a Debian package, or empty.
apt_candidate() {
  command -v apt-cache >/dev/null || return 0
  apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9]*:\)\{0,1\}\([^ ]*\).*/\2/p' | sed 's/^(none)$//'
}

apt_install() {
  local pkg=$1 step=$2
  if [ "$DRY" = 1 ]; then say "$step" "would run: apt-get install -y --no-install-recommends $pkg"; return 0; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null ||
    die "$step" "apt-get install $pkg failed" "run: sudo apt-get update && sudo apt-get install --no-install-recommends $pkg"
}

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

check_node() {
  local found major cand
  found=$(command -v node || command -v nodejs || true)
  major=0
  [ -n "$found" ] && major=$(node_major "$found")
  if [ "$major" -lt 20 ]; then
    local have="not installed"
    [ -n "$found" ] && have="$("$found" --version 2>/dev/null) at $found"
    cand=$(apt_candidate nodejs)
    if [ -n "$cand" ] && [ "${cand%%.*}" -ge 20 ] 2>/dev/null; then
      if ask "Node.js >= 20 is needed ($have). Install the distribution's nodejs $cand now?"; then
        apt_install nodejs node
        if [ "$DRY" = 1 ]; then say node "dry run stops here: the remaining steps need Node.js >= 20"; exit 0; fi
        found=$(command -v node || command -v nodejs || true)
        [ -n "$found" ] && major=$(node_major "$found")
      else
        die node "Node.js >= 20 is needed ($have)" "sudo apt-get install nodejs (the distribution has $cand), or re-run with --yes"
      fi
    else
      die node "Node.js >= 20 is needed ($have), and the distribution offers ${cand:-no nodejs package}" \
        "install Node.js 20 or newer from NodeSource (https://github.com/nodesource/distributions: curl -fsSL https://deb.nodesource.com/setup_22.x | sudo bash - && sudo apt-get install nodejs), then run this again"
    fi
  fi
  [ "$major" -ge 20 ] || die node "Node.js >= 20 is still not available" "install Node.js 20 or newer, then run this again"
  NODE=$(readlink -f "$found")
  say node "$NODE $("$NODE" --version)"
}

check_git() {
  if command -v git >/dev/null; then say git "$(git --version)"; return 0; fi
  if ask "git is needed (workers get git worktrees). Install the distribution's git now?"; then
    apt_install git git
    [ "$DRY" = 1 ] && return 0
    command -v git >/dev/null || die git "git is still missing" "sudo apt-get install git"
    say git "installed: $(git --version)"
  else
    die git "git is not installed" "sudo apt-get install git, or re-run with --yes"
  fi
}

check_optional() {
  local gh claude
  if gh=$(command -v gh); then say gh "$gh ($("$gh" --version 2>/dev/null | head -n1))"
  else say gh "not found (warning: needed only for GitHub tasks; later: sudo apt-get install gh && sudo gh auth login)"; fi
  if claude=$(command -v claude); then say claude "$claude"
  else say claude "not found (warning: the default worker; later: sudo npm install -g @anthropic-ai/claude-code)"; fi
}

# ---------------------------------------------------------------------------------------------
# What to install: this checkout, an unpacked bundle, or a bundle file/URL

fetch_bundle() {
  local from=$1 file sum want
  TMP=$(mktemp -d /tmp/warden-install.XXXXXX)
  file=$TMP/bundle.tar.gz
  case "$from" in
    http://* | https://*)
      if command -v curl >/dev/null; then curl -fsSL "$from" -o "$file" || die source "cannot download $from" "check the URL and the network, or download it yourself and pass --bundle FILE"
      elif command -v wget >/dev/null; then wget -qO "$file" "$from" || die source "cannot download $from" "check the URL and the network, or pass --bundle FILE"
      else die source "neither curl nor wget is installed" "sudo apt-get install curl, or download the bundle and pass --bundle FILE"; fi
      want=$({ curl -fsSL "$from.sha256" 2>/dev/null || wget -qO- "$from.sha256" 2>/dev/null || true; } | cut -d' ' -f1) ;;
    *)
      from=${from#file://}
      [ -f "$from" ] || die source "no bundle file at $from" "make one with: npm run bundle (it writes release/warden-X.Y.Z.tar.gz)"
      cp "$from" "$file"
      want=$(cut -d' ' -f1 "$from.sha256" 2>/dev/null || true) ;;
  esac
  BUNDLE_NOTE="no .sha256 next to it: not verified"
  if [ -n "$want" ]; then
    sum=$(sha256sum "$file" | cut -d' ' -f1)
    [ "$sum" = "$want" ] || die source "the bundle's sha256 is $sum, but $from.sha256 says $want" "download it again"
    BUNDLE_NOTE="sha256 verified"
  fi
  mkdir "$TMP/x"
  tar -xzf "$file" -C "$TMP/x" --no-same-owner || die source "cannot unpack $from" "is it a bundle made by npm run bundle?"
  SRC=$(find "$TMP/x" -mindepth 1 -maxdepth 1 -type d | head -n1)
  if [ -z "$SRC" ] || [ ! -f "$SRC/dist/cli/main.js" ] || [ ! -d "$SRC/node_modules" ]; then
    die source "$from is not a warden bundle (no dist/ and node_modules/)" "make one with: npm run bundle"
  fi
  SRC_KIND=bundle
}

find_source() {
  local here version note=""
  BUNDLE_NOTE=""
  if [ -n "$BUNDLE" ]; then
    fetch_bundle "$BUNDLE"
    note=" ($BUNDLE_NOTE)"
  else
    here=
    if [ -n "${BASH_SOURCE[0]:-}" ] && [ -f "${BASH_SOURCE[0]}" ]; then here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd); fi
    if [ -z "$here" ] || [ ! -f "$here/package.json" ] || ! grep -q '"name": "warden"' "$here/package.json"; then
      die source "no warden program next to this script (it was piped, or copied alone)" \
        "pass a release bundle: --bundle URL|FILE (made by npm run bundle), or run ./install.sh from a checkout"
    fi
    SRC=$here
    if [ -d "$SRC/src" ] && [ -f "$SRC/tsconfig.json" ]; then
      SRC_KIND=checkout
      [ -f "$SRC/dist/cli/main.js" ] || die source "$SRC is a checkout without a build" "run: npm ci && npm run build (as yourself), then this again"
      [ -d "$SRC/node_modules" ] || die source "$SRC has no node_modules" "run: npm ci (needs the registry once), or use a release bundle (--bundle)"
      if [ -n "$(find "$SRC/src" -name '*.ts' -newer "$SRC/dist/cli/main.js" -print -quit 2>/dev/null)" ]; then
        note=" (warning: src/ is newer than dist/: run npm run build to install your latest changes)"
      fi
    else
      SRC_KIND=bundle
      if [ ! -f "$SRC/dist/cli/main.js" ] || [ ! -d "$SRC/node_modules" ]; then
        die source "$SRC is neither a checkout nor a complete bundle" "unpack the bundle again, or use --bundle FILE"
      fi
    fi
  fi
  version=$(sed -n 's/^ *"version": "\([^"]*\)".*/\1/p' "$SRC/package.json" | head -n1)
  VERSION=${version:-unknown}
  say source "$SRC_KIND $SRC, warden $VERSION$note"
}

# ---------------------------------------------------------------------------------------------
# Install

installed_version() {
  [ -f "$PREFIX/package.json" ] || return 0
  sed -n 's/^ *"version": "\([^"]*\)".*/\1/p' "$PREFIX/package.json" 2>/dev/null | head -n1
}

install_program() {
  local new=$PREFIX.new old=$PREFIX.old was out
  was=$(installed_version)
  if [ "$DRY" = 1 ]; then
    say program "would install warden $VERSION into $PREFIX (dist + production node_modules)${was:+, replacing $was}"
    return 0
  fi
  mkdir -p "$(dirname "$PREFIX")" || die program "cannot create $(dirname "$PREFIX")" "choose another --prefix"
  rm -rf "$new" "$old"
  if [ "$SRC_KIND" = checkout ]; then
    out=$("$NODE" "$SRC/scripts/bundle.mjs" --stage "$new" 2>&1) || die program "cannot assemble the program from $SRC: $out" "run npm ci && npm run build in $SRC"
  else
    cp -R "$SRC" "$new" || die program "cannot copy $SRC to $new" "check free space: df -h $(dirname "$PREFIX")"
  fi
  chown -R root:root "$new"
  chmod -R u+rwX,go+rX,go-w "$new"
  # prove the staged program loads (every import resolves) before it replaces the running one
  out=$("$NODE" "$new/dist/cli/main.js" version 2>&1) || { rm -rf "$new"; die program "the assembled program does not run: $out" "rebuild (npm run build) or use a fresh bundle"; }
  if [ -e "$PREFIX" ]; then
    is_warden_dir "$PREFIX" || die program "$PREFIX exists and is not a warden installation" "move it away, or choose another --prefix"
    mv "$PREFIX" "$old"
  fi
  mv "$new" "$PREFIX"
  rm -rf "$old"
  if [ -n "$was" ]; then say program "$out in $PREFIX (upgraded in place from $was)"
  else say program "$out in $PREFIX (dist + production node_modules, $(du -sh "$PREFIX" | cut -f1))"; fi
}

install_command() {
  local target=$BINDIR/warden
  if [ "$DRY" = 1 ]; then say command "would write $target (runs $NODE $PREFIX/dist/cli/main.js)"; return 0; fi
  if [ -e "$target" ] && ! grep -qF "$WRAPPER_MARK" "$target" 2>/dev/null; then
    die command "$target exists and was not installed by install.sh" "remove it, or choose another --bindir"
  fi
  if ! { mkdir -p "$BINDIR" && printf '#!/bin/sh\n%s\nexec '"'%s' '%s/dist/cli/main.js'"' "$@"\n' "$WRAPPER_MARK" "$NODE" "$PREFIX" > "$target.tmp"; } 2>/dev/null; then
    die command "cannot write $target" "choose a writable directory on PATH with --bindir"
  fi
  chmod 0755 "$target.tmp"
  mv "$target.tmp" "$target"
  case ":$PATH:" in *":$BINDIR:"*) say command "$target" ;; *) say command "$target (warning: $BINDIR is not on PATH)" ;; esac
}

# A plain string value from the config: toml_string TABLE KEY (the simple `key = "value"` form
# the example uses). Pure bash: the test container, for one, has no working awk.
toml_string() {
  local table=$1 key=$2 line t inside=0 re
  [ -f "$CONFIG" ] || return 0
  re="^[[:space:]]*${key}[[:space:]]*=[[:space:]]*\"([^\"]*)\""
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ "$line" =~ ^[[:space:]]*\[([^]]*)\] ]]; then
      t=${BASH_REMATCH[1]}; t=${t//[[:space:]]/}
      if [ "$t" = "$table" ]; then inside=1; else inside=0; fi
    elif [ "$inside" = 1 ] && [[ "$line" =~ $re ]]; then
      echo "${BASH_REMATCH[1]}"
      return 0
    fi
  done < "$CONFIG"
}

install_user() {
  local name from
  name=$(toml_string worker user)
  from="$CONFIG"
  if [ -z "$name" ]; then name=${WORKER_USER:-warden}; from="default"; [ -n "$WORKER_USER" ] && from="--user"; fi
  if [ -n "$WORKER_USER" ] && [ "$WORKER_USER" != "$name" ]; then
    say user "warning: --user $WORKER_USER ignored: $CONFIG already says worker.user = \"$name\""
  fi
  if [ "$name" = root ]; then say user "workers run as root (worker.user = \"root\" in $CONFIG)"; return 0; fi
  if id -u "$name" >/dev/null 2>&1; then say user "$name exists (uid $(id -u "$name"))"; return 0; fi
  if [ "$DRY" = 1 ]; then say user "would create system user $name ($from)"; return 0; fi
  # a group of that name left behind (userdel does not always remove it) is reused
  local group_opt=--user-group made_group=1
  if group_exists "$name"; then group_opt="--gid=$name"; made_group=0; fi
  useradd --system "$group_opt" --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$name" ||
    die user "useradd $name failed" "create it yourself: sudo useradd --system --user-group --no-create-home $name"
  mkdir -p "$CONFIG_DIR"
  echo "$name $made_group" > "$CREATED_USER_MARK"
  say user "created system user $name (uid $(id -u "$name")), who runs the workers"
}

install_units() {
  local tmp
  if [ "$DRY" = 1 ]; then say units "would install $UNIT_DIR/warden.service and warden-workers.slice, then systemctl daemon-reload"; return 0; fi
  mkdir -p "$UNIT_DIR"
  tmp=$(mktemp "$UNIT_DIR/.warden.XXXXXX")
  sed -e "s|/usr/bin/node|$NODE|g" -e "s|/opt/warden|$PREFIX|g" "$PREFIX/systemd/warden.service" > "$tmp"
  chmod 0644 "$tmp"; mv "$tmp" "$UNIT_DIR/warden.service"
  install -m 0644 "$PREFIX/systemd/warden-workers.slice" "$UNIT_DIR/warden-workers.slice"
  systemctl daemon-reload || die units "systemctl daemon-reload failed" "see: journalctl -n 20"
  say units "$UNIT_DIR/warden.service, warden-workers.slice (ExecStart: $NODE $PREFIX/dist/cli/main.js); daemon-reload"
}

# sized_config OUT: writes the config example to OUT with max_concurrent_workers, memory_max and
# min_available_memory sized to this machine's MemTotal (`warden config suggest`, the pure sizing
# in src/config/sizing.ts), and sets SIZED to what it chose. Without a sizing, the plain example.
sized_config() {
  local out=$1 dir=$PREFIX
  [ "$DRY" = 1 ] && dir=$SRC
  if "$NODE" "$dir/dist/cli/main.js" config suggest --template "$dir/examples/config.toml" ${SYSROOT:+--sysroot "$SYSROOT"} > "$out" 2>/dev/null; then
    SIZED="sized for $(sed -n 's/^# sized for this machine by warden config suggest: //p' "$out" | head -n1)"
  else
    cp "$dir/examples/config.toml" "$out"
    SIZED="not sized (warden config suggest failed; check memory_max with: warden config check)"
  fi
}

install_config() {
  local tmp
  if [ -e "$CONFIG" ]; then say config "kept $CONFIG (sha256 $(sha256sum "$CONFIG" | cut -c1-12))"; return 0; fi
  if [ "$DRY" = 1 ]; then
    tmp=$(mktemp); sized_config "$tmp"; rm -f "$tmp"
    say config "would write $CONFIG from the commented example, $SIZED"; return 0
  fi
  mkdir -p "$CONFIG_DIR"; chmod 0755 "$CONFIG_DIR"
  tmp=$(mktemp "$CONFIG_DIR/.config.XXXXXX")
  sized_config "$tmp"
  if [ -n "$WORKER_USER" ] && [ "$WORKER_USER" != warden ]; then
    sed "s|^# user = \"warden\" .*|user = \"$WORKER_USER\"                 # workers run as this user (created by install.sh)|" "$tmp" > "$tmp.user"
    mv "$tmp.user" "$tmp"
  fi
  chmod 0644 "$tmp"
  # never overwrite: if one appeared meanwhile, keep it
  if ln "$tmp" "$CONFIG" 2>/dev/null; then rm -f "$tmp"; say config "wrote $CONFIG from the commented example, $SIZED"
  else rm -f "$tmp"; say config "kept $CONFIG"; fi
}

readiness() {
  local cli=$PREFIX/dist/cli/main.js line
  [ "$DRY" = 1 ] && cli=$SRC/dist/cli/main.js
  line=$("$NODE" "$cli" doctor --readiness ${SYSROOT:+--sysroot "$SYSROOT"} 2>&1) || line="cannot check ($line)"
  say readiness "$line"
}

start_service() {
  local check active workers
  if [ "$DRY" = 1 ]; then
    say service "would enable warden.service, and start it if $CONFIG passes warden config check"
    return 0
  fi
  systemctl enable --quiet warden.service || die service "systemctl enable warden failed" "see: systemctl status warden"
  if ! check=$("$NODE" "$PREFIX/dist/cli/main.js" config check --config "$CONFIG" 2>&1); then
    say service "enabled, NOT started: $CONFIG needs editing:"
    printf '%s\n' "$check" | sed 's/^/    /'
    say next "edit $CONFIG, then: sudo warden config check && sudo systemctl start warden && sudo warden doctor"
    return 0
  fi
  active=$(systemctl is-active warden.service 2>/dev/null || true)
  if [ "$active" = active ] || [ "$active" = reloading ]; then
    workers=$("$NODE" "$PREFIX/dist/cli/main.js" status --json --config "$CONFIG" 2>/dev/null |
      "$NODE" -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).workers.length)}catch{console.log("?")}})')
    if [ "$workers" = 0 ]; then
      systemctl restart warden.service || die service "systemctl restart warden failed" "see: journalctl -u warden -n 30 --no-pager; sudo warden doctor"
      say service "enabled, restarted on warden $VERSION (no workers were running)"
    else
      say service "enabled, still running the previous version: ${workers} worker(s) busy; when they are done: sudo systemctl restart warden"
    fi
    return 0
  fi
  systemctl reset-failed warden.service 2>/dev/null || true
  if ! systemctl start warden.service; then
    die service "warden.service did not start: $(journalctl -u warden.service -n 3 --no-pager -o cat 2>/dev/null | tr '\n' ' ')" \
      "see: journalctl -u warden -n 30 --no-pager; sudo warden doctor"
  fi
  say service "enabled and started (config check passed); check it with: sudo warden doctor"
}

# step NAME FUNCTION: what an unexpected failure inside FUNCTION is reported as
step() {
  STEP=$1
  shift
  "$@"
}

do_install() {
  step system need_root system
  step system check_system
  step node check_node
  step git check_git
  step tools check_optional
  step source find_source
  step program install_program
  step command install_command
  step user install_user
  step units install_units
  step config install_config
  step readiness readiness
  step service start_service
  if [ "$DRY" = 1 ]; then say 'done' "dry run: nothing was changed"; else say 'done' "warden $VERSION installed in $PREFIX"; fi
}

# ---------------------------------------------------------------------------------------------
# Uninstall and purge

# The prefix the installed unit runs from, when --prefix was not given.
installed_prefix() {
  local exec
  exec=$(sed -n 's/^ExecStart=[^ ]* \([^ ]*\)\/dist\/cli\/main\.js .*/\1/p' "$UNIT_DIR/warden.service" 2>/dev/null | head -n1)
  echo "${exec:-$PREFIX}"
}

group_exists() { getent group "$1" >/dev/null 2>&1 || grep -q "^$1:" /etc/group 2>/dev/null; }

remove_user() {
  userdel "$1"
  if [ "$2" = 1 ] && group_exists "$1"; then groupdel "$1"; fi
}

is_warden_dir() { [ -f "$1/package.json" ] && grep -q '"name": "warden"' "$1/package.json"; }

stop_service() {
  systemctl disable --now --quiet warden.service 2>/dev/null || true
  systemctl stop warden-workers.slice 2>/dev/null || true
}

remove_units() {
  rm -f "$UNIT_DIR/warden.service" "$UNIT_DIR/warden-workers.slice"
  systemctl daemon-reload
  systemctl reset-failed warden.service 2>/dev/null || true
}

remove_dropins() {
  rm -rf "$UNIT_DIR/warden.service.d"
  systemctl daemon-reload
}

act() {
  # act STEP MESSAGE CMD...: run CMD (unless --dry-run), then print MESSAGE
  local step=$1 msg=$2
  shift 2
  STEP=$step
  if [ "$DRY" = 1 ]; then say "$step" "would: $msg"; return 0; fi
  "$@" || die "$step" "$msg failed" "run it by hand: $*"
  say "$step" "$msg"
}

do_uninstall() {
  local purge=$1 prefix user='' made_group='' state_dir
  STEP=uninstall
  need_root uninstall
  prefix=$PREFIX
  [ "$prefix" = /opt/warden ] && prefix=$(installed_prefix)
  if [ "$purge" = 1 ] && ! ask "Purge removes $CONFIG_DIR (your config) and $STATE_DIR (all task state). Continue?"; then
    die purge "not confirmed" "re-run with --yes to purge without asking, or use --uninstall to keep config and state"
  fi
  if [ -f "$UNIT_DIR/warden.service" ] || systemctl cat warden.service >/dev/null 2>&1; then
    act service "stopped and disabled warden.service and its worker scopes" stop_service
  else
    say service "warden.service is not installed"
  fi
  if [ -e "$UNIT_DIR/warden.service" ] || [ -e "$UNIT_DIR/warden-workers.slice" ]; then
    act units "removed $UNIT_DIR/warden.service and warden-workers.slice; daemon-reload" remove_units
  else
    say units "none installed"
  fi
  if [ -f "$BINDIR/warden" ] && grep -qF "$WRAPPER_MARK" "$BINDIR/warden"; then act command "removed $BINDIR/warden" rm -f "$BINDIR/warden"
  elif [ -e "$BINDIR/warden" ]; then say command "kept $BINDIR/warden: not installed by install.sh"
  else say command "none at $BINDIR/warden"; fi
  if [ -d "$prefix" ]; then
    is_warden_dir "$prefix" || die program "$prefix is not a warden installation; not removing it" "remove it yourself, or pass the right --prefix"
    act program "removed $prefix" rm -rf "$prefix" "$prefix.new" "$prefix.old"
  else
    say program "none at $prefix"
  fi
  if [ "$purge" != 1 ]; then
    say kept "$CONFIG_DIR (config) and $STATE_DIR (state); remove them with --purge"
    if [ "$DRY" = 1 ]; then say 'done' "dry run: nothing was changed"; else say 'done' "warden uninstalled"; fi
    return 0
  fi
  # the state directory the config names, when it is not the unit's: not ours to delete blindly
  state_dir=$(toml_string supervisor state_dir)
  read -r user made_group 2>/dev/null < "$CREATED_USER_MARK" || true
  if [ -e "$STATE_DIR" ]; then act state "removed $STATE_DIR" rm -rf "$STATE_DIR"; fi
  if [ -e "$RUNTIME_DIR" ]; then act state "removed $RUNTIME_DIR" rm -rf "$RUNTIME_DIR"; fi
  if [ -n "$state_dir" ] && [ "${state_dir%/}" != "$STATE_DIR" ] && [ -e "$state_dir" ]; then
    say state "kept $state_dir (state_dir in your config, not the default): remove it yourself if you mean to"
  fi
  if [ -d "$UNIT_DIR/warden.service.d" ]; then act units "removed your drop-ins $UNIT_DIR/warden.service.d" remove_dropins; fi
  if [ -n "$user" ] && id -u "$user" >/dev/null 2>&1; then act user "removed user $user (created by install.sh)" remove_user "$user" "${made_group:-0}"
  elif [ -n "$user" ]; then say user "$user is already gone"
  else say user "kept the worker user (install.sh did not create it)"; fi
  if [ -e "$CONFIG_DIR" ]; then act config "removed $CONFIG_DIR" rm -rf "$CONFIG_DIR"; fi
  if [ "$DRY" = 1 ]; then say 'done' "dry run: nothing was changed"; else say 'done' "warden purged"; fi
}

# ---------------------------------------------------------------------------------------------
# --fix-cmdline: the Raspberry Pi's kernel command line. Mirrors planCmdlineFix in
# src/doctor/readiness.ts (a unit test holds the two to the same result).

list_has() { case ",$1," in *",$2,"*) return 0 ;; esac; return 1; }

list_without() {
  local IFS=, item out=()
  for item in $1; do
    if [ -n "$item" ] && [ "$item" != "$2" ]; then out+=("$item"); fi
  done
  echo "${out[*]}"
}

# Sets NEW_LINE, ADDED and REMOVED for the given first line of cmdline.txt.
plan_cmdline() {
  local words w rest t x present out=()
  ADDED=() REMOVED=()
  IFS=$' \t\r' read -r -a words <<< "$1" || true
  for w in "${words[@]}"; do
    case "$w" in
      cgroup_disable=*)
        if list_has "${w#cgroup_disable=}" memory; then
          REMOVED+=("$w")
          rest=$(list_without "${w#cgroup_disable=}" memory)
          if [ -n "$rest" ]; then out+=("cgroup_disable=$rest"); fi
        else
          out+=("$w")
        fi ;;
      psi=1 | cgroup_memory=1) out+=("$w") ;;
      psi=* | cgroup_memory=*) REMOVED+=("$w") ;;
      *) out+=("$w") ;;
    esac
  done
  for t in "${REQUIRED_CMDLINE[@]}"; do
    present=0
    for x in "${out[@]}"; do
      if [ "$t" = cgroup_enable=memory ]; then
        case "$x" in cgroup_enable=*) if list_has "${x#cgroup_enable=}" memory; then present=1; fi ;; esac
      elif [ "$x" = "$t" ]; then
        present=1
      fi
    done
    if [ "$present" = 0 ]; then out+=("$t"); ADDED+=("$t"); fi
  done
  NEW_LINE="${out[*]}"
}

do_fix_cmdline() {
  local f first bytes backup booted t pending=0
  STEP=cmdline
  [ -n "$SYSROOT" ] || need_root cmdline
  f=$SYSROOT/boot/firmware/cmdline.txt
  [ -f "$f" ] || f=$SYSROOT/boot/cmdline.txt
  [ -f "$f" ] || die cmdline "no $SYSROOT/boot/firmware/cmdline.txt or $SYSROOT/boot/cmdline.txt: this is not a Raspberry Pi boot partition" \
    "on other machines add \"${REQUIRED_CMDLINE[*]}\" to the bootloader's kernel command line (e.g. GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub) and reboot"
  first=$(head -n1 "$f")
  plan_cmdline "$first"
  if [ ${#ADDED[@]} -eq 0 ] && [ ${#REMOVED[@]} -eq 0 ]; then
    booted=$(cat "$SYSROOT/proc/cmdline" 2>/dev/null || true)
    for t in "${REQUIRED_CMDLINE[@]}"; do case " $booted " in *" $t "*) ;; *) pending=1 ;; esac; done
    if [ "$pending" = 1 ]; then say cmdline "$f already has ${REQUIRED_CMDLINE[*]}: nothing to change; reboot to apply it (sudo reboot)"
    else say cmdline "$f already has ${REQUIRED_CMDLINE[*]}, and the running kernel too: nothing to change"; fi
    return 0
  fi
  local what=""
  [ ${#ADDED[@]} -gt 0 ] && what="added ${ADDED[*]}"
  [ ${#REMOVED[@]} -gt 0 ] && what="${what:+$what, }removed ${REMOVED[*]}"
  if [ "$DRY" = 1 ]; then say cmdline "would edit $f: ${what/#added/add}; the line would become: $NEW_LINE"; return 0; fi
  backup=$f.warden-$(date +%Y%m%d-%H%M%S).bak
  [ -e "$backup" ] && backup=$f.warden-$(date +%Y%m%d-%H%M%S)-$$.bak
  cp -p "$f" "$backup" || die cmdline "cannot write the backup $backup" "is the boot partition mounted read-write? (sudo mount -o remount,rw ${f%/*})"
  # only the first line changes; every byte after it is kept
  bytes=$(printf '%s' "$first" | LC_ALL=C wc -c)
  { printf '%s' "$NEW_LINE"; tail -c +"$((bytes + 1))" "$f"; } > "$f.warden-tmp" || die cmdline "cannot write $f" "is the boot partition mounted read-write?"
  mv "$f.warden-tmp" "$f"
  sync
  say cmdline "$f: $what (backup: $backup); reboot to apply it: sudo reboot"
}

# Any other failure (set -e) still ends with the step it happened in.
on_exit() {
  local rc=$?
  if [ -n "$TMP" ]; then rm -rf "$TMP"; fi
  if [ "$rc" != 0 ] && [ "$DIED" = 0 ]; then
    printf 'warden-install: FAILED at %s: a command failed (exit %s; its message is above)\n' "$STEP" "$rc" >&2
    printf 'warden-install:   fix: correct what it says, then run install.sh again (every step is safe to repeat)\n' >&2
  fi
}

main() {
  trap on_exit EXIT
  parse_args "$@"
  case "$ACTION" in
    install) do_install ;;
    uninstall) do_uninstall 0 ;;
    purge) do_uninstall 1 ;;
    fix-cmdline) do_fix_cmdline ;;
  esac
}

main "$@"
