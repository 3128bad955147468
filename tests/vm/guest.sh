#!/usr/bin/env bash
# The checks run inside the test VM (tests/vm/run.sh boots it): Debian's 6.1
# kernel, which has `tls` and PPP, under this machine's own userland (the
# host's / over 9p with a tmpfs overlay, so /etc, /tmp, /run are throw-away).
#
#   guest.sh BUILD_DIR          (started by the VM's /init, as root)
#
# Prints INFO lines about the kernel, one "PASS: name", "FAIL: name" (with the
# last 30 lines of that check's log) or "SKIP: name" per check, "TIMING"
# lines, and last "RESULT: N passed, M failed, K skipped", which run.sh reads.
#
# Adding a check: one line in the table at the bottom.
#   check NAME COMMAND...       runs COMMAND (cwd: the repository) with a
#                               timeout; exit 0 passes, 77 skips, else fails.
#   check_ktls NAME COMMAND...  the same, for a check that needs the kernel's
#                               tls module: skipped when it is not loaded.
#                               (The command must see for itself that kTLS was
#                               used: /proc/net/tls_stat counts per network
#                               namespace, so the test's own namespaces hold
#                               the numbers, not this one.)
# COMMAND may be a function defined (and `export -f`ed) in this file.
# The table has two phases: first with tls NOT loaded (the kernel may not
# autoload it either: run.sh boots with autoload refused); then with autoload
# allowed, where the first kTLS tunnel must make the kernel load tls itself,
# `modprobe tls` follows in any case, and everything that wants kernel TLS.
# Put a check in the phase it needs.
#
# Env (run.sh passes SSTP_VM_CHECKS from VM_CHECKS): SSTP_VM_CHECKS=REGEX runs
# only the checks whose names match (the others are not counted);
# CHECK_TIMEOUT=300 seconds per check; BULK_MIB=4 MiB each way for the
# tunnel tests' bulk transfer (TCG is slow: ~2 MB/s through a tunnel).
# Kernel command line: sstp_notls=1 (run.sh's VM_NOTLS=1) boots with tls
# blacklisted: phase 2 then checks that tls cannot be loaded, and its
# check_ktls checks skip.
set -uo pipefail
build=$(cd "${1:?usage: guest.sh BUILD_DIR}" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 1
only=${SSTP_VM_CHECKS:-}
check_timeout=${CHECK_TIMEOUT:-300}
export BULK_MIB=${BULK_MIB:-4}
logs=/tmp/vm-checks
mkdir -p "$logs" /run/lock
passed=0 failed=0 skipped=0
notls=0
grep -qw 'sstp_notls=1' /proc/cmdline && notls=1

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
tls_loaded() { [[ -e /proc/net/tls_stat ]]; }

# Kernel module autoloading. The kernel runs the helper named in
# /proc/sys/kernel/modprobe from the initramfs root (not this chroot): run.sh
# put two there: one refuses (and says so on the console), one runs this
# chroot's modprobe (and says what it loads).
vm_autoload() {  # vm_autoload on|off
  case $1 in
    on) echo /sbin/vm-modprobe >/proc/sys/kernel/modprobe ;;
    off) echo /sbin/vm-autoload-refused >/proc/sys/kernel/modprobe ;;
  esac
}

# ---------------------------------------------------------------- helpers for checks
# Each runs in a child bash (under `timeout`), so it is exported.

tls_absent() {  # tls is neither loaded nor loadable behind our back
  if grep -q '^tls ' /proc/modules || tls_loaded; then
    echo "tls is loaded: $(grep '^tls ' /proc/modules)"
    return 1
  fi
  if [[ $(cat /proc/sys/kernel/modprobe) != /sbin/vm-autoload-refused ]]; then
    echo "the kernel may autoload modules: helper $(cat /proc/sys/kernel/modprobe)"
    return 1
  fi
  echo "tls not loaded; the kernel's autoload requests are refused"
}

load_tls() {  # modprobe tls (from the Debian modules mounted by run.sh's /init)
  modprobe -v tls || return 1
  tls_loaded || { echo "tls loaded but /proc/net/tls_stat is missing"; return 1; }
  echo "tls loaded: $(grep '^tls ' /proc/modules)"
}

tls_blacklisted() {  # with sstp_notls=1: even an explicit modprobe fails
  if modprobe tls; then
    echo "modprobe tls succeeded although the kernel was booted with module_blacklist=tls"
    return 1
  fi
  tls_loaded && { echo "tls is loaded although blacklisted"; return 1; }
  echo "tls stays out: modprobe tls refused (module_blacklist=tls)"
}

tls_autoloaded_by() {  # tls_autoloaded_by COMMAND...: tls is not loaded
  # before, COMMAND passes, and it is loaded after (the kernel autoloaded it)
  if [[ $SSTP_NOTLS == 1 ]]; then
    echo "tls is blacklisted for this boot (sstp_notls=1)"
    return 77
  fi
  if tls_loaded; then
    echo "tls was loaded before this check: an earlier check loaded it, or the kernel did behind its back"
    return 1
  fi
  "$@" || return
  tls_loaded || { echo "the command passed, but the tls module is still not loaded"; return 1; }
  echo "the kernel autoloaded tls: $(grep '^tls ' /proc/modules)"
}

export SSTP_NOTLS=$notls
# ktls/ unit tests on a kernel that has tls: none may skip here.
ktls_unit() {
  local out
  # In a network namespace of its own, with loopback up, for its TCP pairs.
  out=$(unshare -n sh -c 'ip link set lo up && exec "$0" --gtest_brief=1' "$build/ktls/ktls_test" 2>&1)
  local rc=$?
  echo "$out" | tail -5
  [[ $rc -eq 0 ]] || return 1
  if grep -q "SKIPPED" <<<"$out"; then
    echo "kernel TLS tests skipped on a kernel with tls"
    return 1
  fi
}

export -f tls_loaded tls_absent load_tls tls_blacklisted tls_autoloaded_by ktls_unit
export build

# ---------------------------------------------------------------- the runner
# check NAME COMMAND...: see the top of this file.
check() {
  local name=$1 log t rc
  shift
  [[ -z $only || $name =~ $only ]] || return 0
  log=$logs/$name.log
  t=$(now)
  timeout -k 5 "$check_timeout" bash -c '"$@"' "$name" "$@" >"$log" 2>&1 </dev/null
  rc=$?
  case $rc in
    0)
      echo "PASS: $name"
      passed=$((passed + 1))
      # Details worth seeing in the console: rates, the scripts' own verdicts.
      grep -aE 'MB/s|^PASS|kTLS|tls (loaded|was|stays)|autoloaded| up [0-9.]+ s after' "$log" | sed 's/^ */  | /'
      ;;
    77)
      echo "SKIP: $name ($(tail -1 "$log"))"
      skipped=$((skipped + 1))
      ;;
    *)
      ((rc == 124 || rc == 137)) && echo "  (timed out after ${check_timeout} s)" >>"$log"
      echo "FAIL: $name (exit $rc)"
      failed=$((failed + 1))
      # The script's own verdict first (logs it dumps after it can be long).
      grep -a -m3 '^FAIL' "$log" | sed 's/^/  | /'
      tail -30 "$log" | sed 's/^/  | /'
      ;;
  esac
  echo "TIMING check $name $(since "$t") s"
}

check_ktls() {  # check_ktls NAME COMMAND...
  local name=$1
  shift
  [[ -z $only || $name =~ $only ]] || return 0
  if ! tls_loaded; then
    echo "SKIP: $name (the tls module is not loaded)"
    skipped=$((skipped + 1))
    return 0
  fi
  check "$name" "$@"
}

# What the kernel asked to autoload (run.sh's helpers log it), since the
# last call.
autoload_report() {  # autoload_report PHASE
  local f=/run/vm-autoload.log
  [[ -s $f ]] || { echo "INFO: autoload requests ($1): none"; return; }
  echo "INFO: autoload requests ($1): $(sort "$f" | uniq -c | awk '{ $1 = $1 "x"; print }' | paste -sd';' - | sed 's/;/; /g')"
  : >"$f"
}

# ---------------------------------------------------------------- about this VM
echo "TIMING guest-start $(cut -d' ' -f1 /proc/uptime) s after boot"
echo "INFO: kernel $(uname -r) ($(uname -v)), userland Debian $(cat /etc/debian_version)"
echo "INFO: cpus $(nproc), memory $(awk '/MemTotal/ { print int($2 / 1024) " MiB" }' /proc/meminfo)," \
  "cpu flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'aes|pclmulqdq|avx2|vaes|vpclmulqdq|sha_ni' | tr '\n' ' ')"
echo "INFO: modules loaded: $(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"
echo "INFO: $(pppd --version 2>&1 | head -1), $(sstpc --version 2>&1 | grep -m1 'sstp-client' || echo 'no sstpc')"
[[ $notls -eq 1 ]] && echo "INFO: sstp_notls=1: tls is blacklisted for this boot"
[[ -n $only ]] && echo "INFO: only the checks matching /$only/"

# ---------------------------------------------------------------- the checks
# Phase 1: no tls module, and the kernel may not autoload it.
vm_autoload off
check tls-absent tls_absent
check ktls-on-without-tls bash tests/netns/tunnel_test.sh "$build" windows mschapv2 ktlson
autoload_report "phase 1, all refused"

# Phase 2: autoloading allowed, as on any Debian system. The first tunnel
# finds tls not loaded: the kernel must load it for the client's
# setsockopt(TCP_ULP, "tls"). load-tls makes sure it is loaded either way.
# With sstp_notls=1 tls stays blacklisted: the check_ktls checks skip.
vm_autoload on
check tunnel-ktls-autoload tls_autoloaded_by env CLIENT_KTLS=on \
  bash tests/netns/tunnel_test.sh "$build" windows mschapv2
if [[ $notls -eq 1 ]]; then
  check tls-blacklisted tls_blacklisted
else
  check load-tls load_tls
fi
# The kernel's record layer, then whole tunnels: every TLS version and AEAD,
# with the kernel on one side and OpenSSL's independent record layer on the
# other, both ways round, so each side's records are checked by the other.
check_ktls ktls-unit ktls_unit
for tls in 1.3 1.2; do
  for cipher in aes128 aes256 chacha20; do
    check_ktls "tunnel-client-ktls-tls$tls-$cipher" env CLIENT_KTLS=on SERVER_KTLS=off \
      TLS_MAX=$tls CIPHERS=$cipher bash tests/netns/tunnel_test.sh "$build" windows mschapv2
    check_ktls "tunnel-server-ktls-tls$tls-$cipher" env CLIENT_KTLS=off SERVER_KTLS=on \
      TLS_MAX=$tls CIPHERS=$cipher bash tests/netns/tunnel_test.sh "$build" windows mschapv2
  done
done
check_ktls tunnel-ktls-both-sides env CLIENT_KTLS=on SERVER_KTLS=on \
  bash tests/netns/tunnel_test.sh "$build" softether "mschapv2,eap-mschapv2"
# Post-handshake messages on the client's kernel socket: a late ticket is
# absorbed; a KeyUpdate cannot be followed on 6.1 (EBUSY), so the call ends
# with the reason and reconnect brings the tunnel back.
check_ktls tunnel-ktls-late-ticket env CLIENT_KTLS=on \
  bash tests/netns/tunnel_test.sh "$build" windows mschapv2 lateticket
check_ktls tunnel-ktls-key-update env CLIENT_KTLS=on \
  bash tests/netns/tunnel_test.sh "$build" windows mschapv2 keyupdate
# Our own AES-GCM key reaching key-update-records: 6.1 cannot rekey, so the
# call ends naming the limit and reconnects.
check_ktls tunnel-ktls-key-limit env CLIENT_KTLS=on \
  bash tests/netns/tunnel_test.sh "$build" windows mschapv2 keylimit
check sstpc-pppd bash tests/vm/sstpc_test.sh "$build" windows
check_ktls sstpc-pppd-server-ktls env SERVER_KTLS=on bash tests/vm/sstpc_test.sh "$build" windows
autoload_report "phase 2"

# ---------------------------------------------------------------- summary
echo "INFO: AEAD drivers in use: $(awk '/^name/ { n = $3 } /^driver/ { d = $3 } /^type/ { if ($3 == "aead" && n ~ /^(gcm\(aes\)|rfc7539\(chacha20,poly1305\))$/) print n "=" d }' /proc/crypto | sort -u | tr '\n' ' ')"
echo "RESULT: $passed passed, $failed failed, $skipped skipped"
