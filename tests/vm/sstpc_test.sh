#!/usr/bin/env bash
# Interoperability: Debian's standard Linux SSTP client (sstpc, package
# sstp-client, which runs pppd from package ppp) against the project's test
# server, each in its own network namespace joined by a veth pair.
#
#   tests/vm/sstpc_test.sh BUILD_DIR [PERSONALITY]     (as root)
#     PERSONALITY  the server's --personality (default windows); the server
#                  offers MS-CHAPv2 only (--auth mschapv2), which is what
#                  sstpc's crypto binding is built on.
#
# Passes when pppd's interface comes up with the address the server hands out
# (192.168.90.2), a ping to the server's tunnel address (192.168.90.1) is
# answered, and SSTPC_MIB MiB cross the tunnel each way with matching SHA-256.
#
# Needs a kernel with PPP (ppp_generic, ppp_async): this project's build and CI
# machines have none, so it runs under QEMU (tests/vm/run.sh, guest.sh);
# elsewhere it skips. Outside that VM pppd's ip-up scripts run for real, so
# `usepeerdns` is only passed inside the VM (SSTP_VM_KVER set by run.sh), where
# /etc is a throw-away overlay.
#
# Env: SSTPC_MIB=4 (each way; 0: ping only), SERVER_KTLS=off|on|auto (the
#      server's --ktls), TLS_MAX=1.2|1.3 (the server's --tls-max),
#      SERVER_LOG_LEVEL=debug, PPPD_OPTS="..." (more pppd options, e.g.
#      "nopcomp noaccomp": the strict personality ends the link when pppd
#      asks for PFC/ACFC, which it does by default), KEEP=1 (keep the work
#      directory).
# Exit 0 on success, 1 on failure, 77 (skip) when not root or without PPP.
set -uo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_DIR [PERSONALITY]" >&2; exit 2; }
build=$(cd "$1" && pwd)
personality=${2:-windows}
mib=${SSTPC_MIB:-4}
src=$(cd "$(dirname "$0")/../.." && pwd)

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root to create network namespaces"
  exit 77
fi
for tool in sstpc pppd; do
  command -v $tool >/dev/null || { echo "SKIP: $tool not installed (scripts/install-deps.sh)"; exit 77; }
done
[[ -e /dev/ppp ]] || mknod /dev/ppp c 108 0 2>/dev/null
if ! (: <>/dev/ppp) 2>/dev/null; then
  echo "SKIP: this kernel has no PPP (/dev/ppp cannot be opened); run it under tests/vm/run.sh"
  exit 77
fi

tag="sc$$"
srv="$tag-srv"
cli="$tag-cli"
work=$(mktemp -d)
user=alice
password=correct-horse-42
server_pid=""
sstpc_pid=""

cleanup() {
  trap - EXIT INT TERM
  # Everything still running in the two namespaces was started here:
  # sstpc, its pppd, the server, a stray transfer.
  local ns pid
  for ns in "$cli" "$srv"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  done
  [[ -n $sstpc_pid ]] && wait "$sstpc_pid" 2>/dev/null
  [[ -n $server_pid ]] && wait "$server_pid" 2>/dev/null
  ip netns del "$cli" 2>/dev/null
  ip netns del "$srv" 2>/dev/null
  if [[ ${KEEP:-0} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
  echo "FAIL (sstpc vs $personality): $*"
  echo "--- sstpc log (sstpc --log-level 4)"; tail -40 "$work/sstpc.log" 2>/dev/null
  echo "--- pppd log (debug)"; tail -60 "$work/pppd.log" 2>/dev/null
  echo "--- server log (--log-level ${SERVER_LOG_LEVEL:-debug})"; tail -60 "$work/server.log" 2>/dev/null
  exit 1
}

# Two namespaces, one veth pair: 10.78.0.1 (server) -- 10.78.0.2 (client).
{ ip netns add "$srv" && ip netns add "$cli"; } || fail "cannot create namespaces"
ip link add "$tag-a" netns "$srv" type veth peer name "$tag-b" netns "$cli" || fail "veth"
ip -n "$srv" addr add 10.78.0.1/24 dev "$tag-a"
ip -n "$cli" addr add 10.78.0.2/24 dev "$tag-b"
for ns in "$srv" "$cli"; do ip -n "$ns" link set lo up; done
ip -n "$srv" link set "$tag-a" up
ip -n "$cli" link set "$tag-b" up

# The certificate names the server's IP too: sstpc is given an address, and
# checks the name against it when a CA is given (--ca-cert).
bash "$src/tools/make-test-pki.sh" "$work/pki" vpn.example.test 10.78.0.1 >/dev/null || fail "make-test-pki.sh"
printf '%s %s\n' "$user" "$password" >"$work/users"

ip netns exec "$srv" "$build/tools/sstp-test-server" --listen 10.78.0.1:443 \
  --cert "$work/pki/server.pem" --key "$work/pki/server.key" --users "$work/users" \
  --personality "$personality" --auth mschapv2 --tun sstps-v0 \
  --ktls "${SERVER_KTLS:-off}" ${TLS_MAX:+--tls-max "$TLS_MAX"} \
  --once --log-level "${SERVER_LOG_LEVEL:-debug}" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q READY "$work/server.log" && break; sleep 0.1; done
grep -q READY "$work/server.log" || fail "server did not start"

# sstpc starts pppd itself on a pty, adding `plugin sstp-pppd-plugin.so
# sstp-sock ...` (the plugin hands the MS-CHAPv2 keys back to sstpc for the
# crypto binding); everything after the server address goes to pppd.
pppd_opts=(
  require-mschap-v2 refuse-eap refuse-pap refuse-chap refuse-mschap noauth
  noipdefault nodefaultroute nodetach lcp-echo-interval 0
  debug logfile "$work/pppd.log"
)
[[ -n ${SSTP_VM_KVER:-} ]] && pppd_opts+=(usepeerdns)
# shellcheck disable=SC2206  # word splitting wanted: a list of pppd options
pppd_opts+=(${PPPD_OPTS:-})
mkdir -p /run/sstpc /run/lock
started=$(date +%s.%N)
ip netns exec "$cli" sstpc --log-stderr --log-level 4 --ca-cert "$work/pki/ca.pem" \
  --user "$user" --password "$password" --ipparam "$tag" 10.78.0.1 \
  "${pppd_opts[@]}" >"$work/sstpc.log" 2>&1 &
sstpc_pid=$!

# pppd's interface, with the address the server gave.
ifname=""
for _ in $(seq 300); do
  ifname=$(ip -n "$cli" -o -4 addr show 2>/dev/null | awk '/inet 192\.168\.90\.2 peer 192\.168\.90\.1/ { print $2; exit }')
  [[ -n $ifname ]] && break
  kill -0 "$sstpc_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n $ifname ]] || fail "no PPP interface with 192.168.90.2 peer 192.168.90.1 in the client namespace$(kill -0 "$sstpc_pid" 2>/dev/null || echo "; sstpc exited")"
echo "  $ifname up $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s after sstpc started"
echo "  $ifname: $(ip -n "$cli" -o -4 addr show dev "$ifname" | awk '{ print $4, $5, $6 }'), mtu $(ip -n "$cli" -o link show "$ifname" | sed -n 's/.* mtu \([0-9]*\).*/\1/p')"
grep -q "Connection Established" "$work/sstpc.log" || fail "sstpc never said Connection Established (crypto binding?)"

# With --ktls on the server's record layer is the kernel's: its namespace's
# kTLS counters show one TX and one RX session in use.
if [[ ${SERVER_KTLS:-off} != off ]]; then
  stat=$(ip netns exec "$srv" cat /proc/net/tls_stat 2>/dev/null)
  echo "  server namespace kTLS: $(awk '$2 != 0 { printf "%s=%s ", $1, $2 }' <<<"$stat")"
  if [[ ${SERVER_KTLS} == on ]]; then
    awk '$1 == "TlsCurrTxSw" && $2 >= 1 { t = 1 } $1 == "TlsCurrRxSw" && $2 >= 1 { r = 1 } END { exit !(t && r) }' <<<"$stat" ||
      fail "--ktls on, but the server namespace has no kTLS TX+RX session: ${stat:-no /proc/net/tls_stat}"
  fi
fi

ip netns exec "$cli" ping -c 3 -i 0.2 -W 2 192.168.90.1 >"$work/ping.out" || fail "ping 192.168.90.1 through the tunnel"
echo "  ping: $(grep 'packets transmitted' "$work/ping.out")"

# Bulk TCP through the tunnel, bytes checked with SHA-256 on both ends.
transfer() {  # transfer RECEIVER_NS RECEIVER_ADDR SENDER_NS MIB
  ip netns exec "$1" python3 -c '
import hashlib, socket, sys
s = socket.create_server((sys.argv[1], 5002)); s.settimeout(60)
c, _ = s.accept(); c.settimeout(60); h = hashlib.sha256(); n = 0
while b := c.recv(1 << 16):
    h.update(b); n += len(b)
print(n, h.hexdigest())' "$2" >"$work/recv.out" 2>&1 &
  local receiver=$!
  ip netns exec "$3" python3 -c '
import hashlib, os, socket, sys, time
data = os.urandom(int(sys.argv[2]) << 20)
for _ in range(100):  # the receiver may not listen yet
    try:
        s = socket.create_connection((sys.argv[1], 5002), timeout=60); break
    except ConnectionRefusedError:
        time.sleep(0.1)
else:
    sys.exit("nobody listens on %s:5002" % sys.argv[1])
t = time.time(); s.sendall(data); s.close()
print(len(data), hashlib.sha256(data).hexdigest(), "%.1f" % (len(data) / (time.time() - t) / 1e6))' \
    "$2" "$4" >"$work/send.out" 2>&1
  wait "$receiver"
  local sent sent_hash rate got got_hash
  read -r sent sent_hash rate <"$work/send.out"
  read -r got got_hash <"$work/recv.out"
  [[ -n $sent && $sent == "$got" && $sent_hash == "$got_hash" ]] ||
    fail "transfer $3 -> $1: sent '$(cat "$work/send.out")', received '$(cat "$work/recv.out")'"
  echo "  $4 MiB $3 -> $1: sha256 match, ${rate} MB/s"
}
if ((mib > 0)); then
  transfer "$srv" 192.168.90.1 "$cli" "$mib"
  transfer "$cli" 192.168.90.2 "$srv" "$mib"
fi

# An orderly end: SIGTERM makes sstpc disconnect the call and stop pppd.
kill -TERM "$sstpc_pid"
for _ in $(seq 100); do kill -0 "$sstpc_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$sstpc_pid" 2>/dev/null && fail "sstpc still running 10 s after SIGTERM"
wait "$sstpc_pid"
sstpc_pid=""
echo "PASS (sstpc vs $personality, server ktls ${SERVER_KTLS:-off}): $ifname up with 192.168.90.2, ping, ${mib} MiB each way"
