#!/usr/bin/env bash
# Real kernel TLS (and PPP) under QEMU: boots Debian's own kernel in a VM and
# runs a guest script there against this machine's build.
#
#   tests/vm/run.sh BUILD_DIR [GUEST_SCRIPT]          (as root)
#
# The machines this project builds on run a kernel without `tls` and without
# PPP; Debian 12's own kernel (linux-image-amd64, 6.1) has both as modules.
# This script
#   1. installs what it needs from Debian (qemu-system-x86, busybox-static,
#      cpio, kmod; the guest also uses sstp-client, ppp, iperf3: all listed in
#      scripts/install-deps.sh too);
#   2. fetches the kernel package with `apt-get download` into a cache and
#      unpacks it with dpkg-deb -x (it is never installed on this machine);
#   3. builds a busybox initramfs holding the modules the tests need, their
#      dependencies resolved from each .ko's modinfo;
#   4. boots it under TCG (no KVM needed; always `-nic none`: the guest has no
#      network to the outside at all). Its /init loads the modules (never
#      `tls`), mounts this machine's `/` read-only over virtio-9p with a tmpfs
#      overlay on top, chroots into that copy-on-write root and runs
#      GUEST_SCRIPT (default tests/vm/guest.sh) with BUILD_DIR as its argument,
#      so the guest runs the project's own dynamically linked binaries, Debian's
#      sstpc and pppd, python3, iproute2... on the 6.1 kernel.
#
# Inside the VM (see guest.sh): the Debian modules are bind-mounted at
# /lib/modules/<kver>, so `modprobe` works in the chroot. A guest script starts
# with tls NOT loaded and kernel module autoloading refused (so tls cannot
# load behind a test's back): it decides when to `modprobe tls`, and may allow
# autoloading with `echo /sbin/vm-modprobe >/proc/sys/kernel/modprobe`
# (guest.sh's vm_autoload on|off; the path is the initramfs's, where the
# kernel looks). With VM_NOTLS=1 the kernel itself refuses to load tls
# (module_blacklist=tls) for the whole run, and the guest sees sstp_notls=1 on
# the kernel command line. The guest's /run is a fresh tmpfs (a guest script
# must live elsewhere); everything else, /tmp included, is this machine's
# tree with the guest's writes kept in memory.
#
# The console is saved to BUILD_DIR/vm-console.log. QEMU's exit status says
# nothing about the guest, so the verdict comes from the log: exit 0 only if
# the guest printed "RESULT: N passed, 0 failed..." with N >= 1 and the VM
# reached its end marker ("=== VM-END"). Exit 1 otherwise, 77 when not root.
#
# Env:
#   VM_TIMEOUT=900     seconds for the VM, boot to poweroff
#   VM_CACHE=DIR       where the kernel package and its unpacked tree are kept
#                      (default BUILD_DIR/vm-cache; reused when present)
#   VM_NOTLS=1         boot with tls blacklisted (see above)
#   VM_CHECKS=REGEX    passed to the guest as SSTP_VM_CHECKS: guest.sh runs
#                      only the checks whose names match
#   VM_MEM=1024        guest memory in MiB
#   VM_APPEND=...      extra kernel command line words
#   NO_APT=1           never call apt-get (offline: everything must be there)
set -euo pipefail

usage() {
  echo "usage: $0 BUILD_DIR [GUEST_SCRIPT]" >&2
  exit 2
}
[[ $# -ge 1 && $# -le 2 ]] || usage
[[ -d $1 ]] || { echo "run.sh: no build directory $1" >&2; exit 2; }
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
guest=$(realpath "${2:-$src/tests/vm/guest.sh}")
[[ -f $guest ]] || { echo "run.sh: no guest script $guest" >&2; exit 2; }
timeout_s=${VM_TIMEOUT:-900}
cache=${VM_CACHE:-$build/vm-cache}
console=$build/vm-console.log

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: tests/vm needs root (apt-get, and the guest's namespaces)"
  exit 77
fi

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
die() { echo "run.sh: $*" >&2; exit 1; }

# ------------------------------------------------------------ 1. host packages
t=$(now)
host_packages=(qemu-system-x86 busybox-static cpio kmod sstp-client ppp iperf3)
missing=()
for p in "${host_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ ${NO_APT:-0} == 1 ]] && die "missing packages (${missing[*]}) and NO_APT=1"
  echo "INFO installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "TIMING host-packages $(since "$t") s"

# ------------------------------------------------------------ 2. the kernel
# linux-image-amd64 is a metapackage; its dependency names the real image,
# e.g. linux-image-6.1.0-56-amd64, whose suffix is the kernel's `uname -r`.
t=$(now)
mkdir -p "$cache/debs"
chmod 777 "$cache/debs"  # apt-get download runs as _apt and writes here.
resolve_kernel() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ { print $2; exit }' || true
}
kpkg=$(resolve_kernel)
if [[ -z $kpkg && ${NO_APT:-0} != 1 ]] && ! ls "$cache"/debs/linux-image-[0-9]*.deb >/dev/null 2>&1; then
  apt-get update -qq  # no package lists yet
  kpkg=$(resolve_kernel)
fi
if [[ -z $kpkg ]]; then
  # No package lists (offline, or before any apt-get update): use the newest
  # cached kernel, if any.
  deb=$(ls -t "$cache"/debs/linux-image-[0-9]*.deb 2>/dev/null | head -1 || true)
  [[ -n $deb ]] || die "cannot resolve linux-image-amd64 and nothing is cached in $cache/debs"
  kpkg=$(basename "$deb" | cut -d_ -f1)
fi
deb=$(ls "$cache/debs/${kpkg}"_*.deb 2>/dev/null | head -1 || true)
if [[ -z $deb ]]; then
  [[ ${NO_APT:-0} == 1 ]] && die "$kpkg is not cached in $cache/debs and NO_APT=1"
  # The package lists may be older than the mirror: update once and retry.
  (cd "$cache/debs" && apt-get download -q "$kpkg" >/dev/null 2>&1) ||
    (apt-get update -qq && cd "$cache/debs" && apt-get download -q "$kpkg" >/dev/null) ||
    die "apt-get download $kpkg failed"
  deb=$(ls "$cache/debs/${kpkg}"_*.deb | head -1)
fi
kver=${kpkg#linux-image-}
kroot=$cache/kernel-$kver
# Unpack once per package file; the stamp names the .deb it came from.
if [[ $(cat "$kroot/.from" 2>/dev/null) != "$(basename "$deb")" ]]; then
  rm -rf "$kroot"
  mkdir -p "$kroot"
  dpkg-deb -x "$deb" "$kroot"
  basename "$deb" >"$kroot/.from"
fi
vmlinuz=$kroot/boot/vmlinuz-$kver
mods=$kroot/lib/modules/$kver
[[ -f $vmlinuz && -d $mods/kernel ]] || die "unexpected layout in $deb"
echo "INFO kernel $(basename "$deb") (uname -r $kver)"
echo "TIMING kernel-fetch+unpack $(since "$t") s"

# ------------------------------------------------------------ 3. initramfs
t=$(now)
ir=$cache/initramfs
rm -rf "$ir"
mkdir -p "$ir"/{bin,sbin,dev,proc,sys,run,tmp,etc,mnt/lower,mnt/rw,mnt/host} "$ir/lib/modules/$kver"
cp /bin/busybox "$ir/bin/busybox"  # busybox-static: no libraries needed
ln -s busybox "$ir/bin/sh"

# Modules wanted, by name; dependencies are added before each from the .ko's
# modinfo "depends" (and "softdep pre:") fields. A name that is built into
# this kernel (modules.builtin) needs nothing.
required=(
  tls                                      # loaded later, by the guest script
  tun veth                                 # the client's TUN, namespace links
  aesni_intel ghash_clmulni_intel gcm ghash_generic ctr  # AES-GCM for kTLS
  chacha20poly1305 chacha_x86_64 poly1305_x86_64         # ChaCha20-Poly1305
  ppp_generic ppp_async ppp_synctty        # pppd (sstpc runs it over a pty)
  virtio_pci 9pnet_virtio 9p overlay       # the shared, writable root
)
optional=(ppp_mppe ppp_deflate bsd_comp chacha_generic poly1305_generic)

declare -A ko_path=()  # module name (with '_') -> path under $mods
while IFS= read -r f; do
  n=$(basename "$f")
  n=${n%%.ko*}
  ko_path[${n//-/_}]=$f
done < <(cd "$mods" && find kernel -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst')

declare -A added=()
load_order=()  # paths, dependencies first
add_module() {  # add_module NAME [optional]
  local name=${1//-/_} f dep
  [[ -n ${added[$name]:-} ]] && return 0
  added[$name]=1
  f=${ko_path[$name]:-}
  if [[ -z $f ]]; then
    if grep -Eq "/${name//_/[-_]}\.ko(\.xz|\.zst)?$" "$mods/modules.builtin" 2>/dev/null; then
      return 0
    fi
    [[ ${2:-} == optional ]] && { echo "INFO module $name: not in this kernel, skipped"; return 0; }
    die "module $name is neither a module nor built into $kver"
  fi
  for dep in $(modinfo -F depends "$mods/$f" | tr ',' ' '); do add_module "$dep"; done
  for dep in $(modinfo -F softdep "$mods/$f" | sed -n 's/.*pre: *\([^:]*\)\( post:.*\)\{0,1\}$/\1/p'); do
    add_module "$dep" optional
  done
  mkdir -p "$ir/lib/modules/$kver/$(dirname "$f")"
  case $f in
    *.ko) cp "$mods/$f" "$ir/lib/modules/$kver/$f" ;;
    *.xz) xz -dc "$mods/$f" >"$ir/lib/modules/$kver/${f%.xz}"; f=${f%.xz} ;;
    *.zst) zstd -qdc "$mods/$f" >"$ir/lib/modules/$kver/${f%.zst}"; f=${f%.zst} ;;
  esac
  load_order+=("$f")
}
for m in "${required[@]}"; do add_module "$m"; done
for m in "${optional[@]}"; do add_module "$m" optional; done
cp "$mods"/modules.{builtin,builtin.modinfo,order} "$ir/lib/modules/$kver/" 2>/dev/null || true
# kmod's index files, for the guest's `modprobe` (the host's kmod, in the chroot).
depmod -b "$ir" "$kver"
# /init loads everything but tls, in this order.
printf '%s\n' "${load_order[@]}" | grep -v '/tls\.ko$' >"$ir/etc/modules.load"

# The guest's settings, read by /init.
{
  printf 'SSTP_VM_REPO=%q\n' "$src"
  printf 'SSTP_VM_BUILD=%q\n' "$build"
  printf 'SSTP_VM_GUEST=%q\n' "$guest"
  printf 'SSTP_VM_KVER=%q\n' "$kver"
  printf 'SSTP_VM_CHECKS=%q\n' "${VM_CHECKS:-}"
} >"$ir/etc/sstp-vm.env"

# Kernel module autoload helpers. The kernel runs /proc/sys/kernel/modprobe in
# its own root, which stays the initramfs even after /init's chroot, so these
# two live there. The first refuses, the second runs the host's kmod inside
# the chroot, where the Debian modules are mounted. Both note each request in
# the chroot's /run/vm-autoload.log (guest.sh reports them); a request for a
# TCP ULP (tcp-ulp-tls: a setsockopt(TCP_ULP, "tls")) also goes to the console.
cat >"$ir/sbin/vm-autoload-refused" <<'EOF'
#!/bin/sh
eval name=\${$#}
echo "refused $name" >>/mnt/host/run/vm-autoload.log 2>/dev/null
case $name in tcp-ulp-*) echo "INFO: kernel module autoload refused: $name" >/dev/console ;; esac
exit 1
EOF
cat >"$ir/sbin/vm-modprobe" <<'EOF'
#!/bin/sh
eval name=\${$#}
/bin/chroot /mnt/host /sbin/modprobe "$@"
rc=$?
echo "modprobe $name: exit $rc" >>/mnt/host/run/vm-autoload.log 2>/dev/null
case $name in tcp-ulp-*) echo "INFO: kernel module autoload: $name (modprobe exit $rc)" >/dev/console ;; esac
exit $rc
EOF
chmod +x "$ir/sbin/vm-autoload-refused" "$ir/sbin/vm-modprobe"

cat >"$ir/init" <<'EOF'
#!/bin/sh
# PID 1 of the test VM (written by tests/vm/run.sh).
/bin/busybox --install -s /bin     # applets in /bin only: /sbin/modprobe stays absent
export PATH=/bin:/sbin
mount -t proc proc /proc
echo /sbin/vm-autoload-refused >/proc/sys/kernel/modprobe
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
. /etc/sstp-vm.env
echo "=== VM-BOOT $(uname -r), /init at uptime $(cut -d' ' -f1 /proc/uptime) s"
for m in $(cat /etc/modules.load); do
  insmod "/lib/modules/$SSTP_VM_KVER/$m" || echo "WARN: insmod $m failed"
done

# This machine's / (read-only 9p) under a tmpfs: a writable copy-on-write root.
H=/mnt/host
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose hostroot /mnt/lower; then
  echo "FAIL: cannot mount the host's / over 9p"
  echo "RESULT: 0 passed, 1 failed, 0 skipped"
  echo "=== VM-END"; poweroff -f
fi
mount -t tmpfs -o mode=755 tmpfs /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work $H
mount -t proc proc $H/proc
mount -t sysfs sysfs $H/sys
mount -t devtmpfs devtmpfs $H/dev
mkdir -p $H/dev/pts $H/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $H/dev/pts
mount -t tmpfs tmpfs $H/dev/shm
mount -t tmpfs -o mode=755 tmpfs $H/run         # ip netns, sstpc, pppd write here
# /tmp stays the overlay's: a checkout or build directory under the host's
# /tmp (CI clones may live there) must be visible; writes land in the tmpfs
# upper layer like everywhere else.
# The Debian 6.1 modules where the chroot's kmod looks for them.
mkdir -p "$H/lib/modules/$SSTP_VM_KVER"
mount --bind "/lib/modules/$SSTP_VM_KVER" "$H/lib/modules/$SSTP_VM_KVER"

cd $H
chroot $H /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root TERM=dumb LANG=C.UTF-8 \
  SSTP_VM_REPO="$SSTP_VM_REPO" SSTP_VM_KVER="$SSTP_VM_KVER" SSTP_VM_CHECKS="$SSTP_VM_CHECKS" \
  /bin/bash -c 'cd "$SSTP_VM_REPO" && exec bash "$0" "$1"' "$SSTP_VM_GUEST" "$SSTP_VM_BUILD" \
  </dev/null >/dev/console 2>&1
echo "=== VM-END guest exit $?, uptime $(cut -d' ' -f1 /proc/uptime) s"
sync
poweroff -f
EOF
chmod +x "$ir/init"
(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$cache/initrd.gz"
echo "INFO modules: $(printf '%s\n' "${load_order[@]}" | sed 's|.*/||; s|\.ko$||' | tr '\n' ' ')"
echo "INFO initrd $(du -k "$cache/initrd.gz" | cut -f1) KiB"
echo "TIMING initramfs $(since "$t") s"

# ------------------------------------------------------------ 4. boot
t=$(now)
append="console=ttyS0 panic=-1 quiet"
# Speculation mitigations cost much under TCG and change nothing tested here.
append+=" mitigations=off"
[[ ${VM_NOTLS:-0} == 1 ]] && append+=" sstp_notls=1 module_blacklist=tls"
append+=" ${VM_APPEND:-}"
echo "INFO qemu: timeout ${timeout_s} s, console -> $console"
set +e
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
  -machine q35,accel=tcg -cpu max -smp 2 -m "${VM_MEM:-1024}" \
  -nic none -display none -vga none -monitor none -serial stdio -no-reboot \
  -kernel "$vmlinuz" -initrd "$cache/initrd.gz" -append "$append" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  </dev/null 2>&1 | tr -d '\r\000' | tee "$console"
qemu_rc=${PIPESTATUS[0]}
set -e
echo "TIMING vm $(since "$t") s (qemu exit $qemu_rc$([[ $qemu_rc == 124 ]] && echo ", timed out"))"

# ------------------------------------------------------------ 5. verdict
echo
echo "=== tests/vm summary ($console)"
grep -aE '^TIMING' "$console" | sed 's/^/  guest /' || true
grep -aE '^(PASS|FAIL|SKIP):' "$console" | sed 's/^/  /' || true
result=$(grep -aE '^RESULT: [0-9]+ passed, [0-9]+ failed' "$console" | tail -1 || true)
echo "  ${result:-no RESULT line}"
reasons=()
[[ -n $result ]] || reasons+=("the guest printed no RESULT line")
grep -aq '^=== VM-END' "$console" || reasons+=("the VM never reached its end marker")
[[ $qemu_rc == 124 || $qemu_rc == 137 ]] && reasons+=("timed out after ${timeout_s} s")
if [[ -n $result ]]; then
  read -r n_pass n_fail < <(sed -E 's/^RESULT: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/' <<<"$result")
  ((n_fail == 0)) || reasons+=("$n_fail check(s) failed")
  ((n_pass >= 1)) || reasons+=("no check passed")
fi
if ((${#reasons[@]})); then
  joined=$(printf '%s; ' "${reasons[@]}")
  echo "tests/vm: FAILED (${joined%; })"
  exit 1
fi
echo "tests/vm: OK"
