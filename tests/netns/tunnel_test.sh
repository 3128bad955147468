#!/usr/bin/env bash
# End-to-end tunnel test: the real client against the real test server, each
# in its own network namespace joined by a veth pair, made and removed here.
#
#   tunnel_test.sh BUILD_DIR PERSONALITY METHODS [EXPECT [SERVER_AUTH]]
#     PERSONALITY  windows | softether | accel | strict
#     METHODS      the client profile's [auth] methods, e.g. "mschapv2"
#     EXPECT       up (default): the tunnel comes up, ping and a bulk TCP
#                  transfer pass both ways with the bytes checked, then
#                  SIGTERM takes it down and nothing is left behind;
#                  badpass / baduser: the client exits 3 naming the failure
#                  (badpass with reconnect = yes: no retry);
#                  badsni: the server (accel-ppp's host-name) wants another
#                  SNI: exit 1 naming it;
#                  keylog: as up, with SSLKEYLOGFILE set: the key log is written;
#                  badca / badname / badpin: the client exits 4;
#                  mismatch: no common method, the client exits 1 saying so;
#                  ktlson: `ktls = on` cannot be honoured: exit 5 with the reason;
#                  nocap: the client runs without CAP_NET_ADMIN (setpriv),
#                  reconnect = yes: exit 1 naming it, never retried;
#                  noserver: nothing listens, the client exits 1 naming it;
#                  serverstop: the server is stopped mid-session (SIGTERM:
#                  its CALL_DISCONNECT); the client exits 1, cleans up;
#                  abort / garbage / silent: the server misbehaves mid-session
#                  (CALL_ABORT; a packet with a bad SSTP version; silence, so
#                  the client's hello timer must fire); exit 1, clean up.
#                  oversized: as up, but the server sends a 4095-byte packet
#                  mid-session: the tunnel must stay up and keep working;
#                  proxy / badproxy: as up, through an HTTP CONNECT proxy with
#                  Basic credentials (badproxy: wrong ones: exit 1, HTTP 407);
#                  defroute: as up, with default-route = yes: the /1 pair
#                  through the tunnel and a host route to the server outside it.
#                  coverroute: as up, with a profile route (10.77.0.0/25)
#                  that covers the server: a host route to the server outside
#                  the tunnel comes first, so the tunnel never carries itself.
#                  lateticket: as up, and the server sends a TLS 1.3
#                  NewSessionTicket mid-session: the tunnel stays up;
#                  keyupdate: the server sends a TLS 1.3 KeyUpdate mid-session:
#                  the client follows it (user-space TLS, or a kernel that can
#                  rekey), or, on kernel TLS that cannot (Linux < 6.14), ends
#                  the call naming the reason and reconnects.
#                  keylimit: key-update-records = 256: the client updates its
#                  own TLS 1.3 AES-GCM key every 256 records; as up, with the
#                  updates in the log (user-space TLS, or a kernel that can
#                  rekey), or, on kernel TLS that cannot, the call ends naming
#                  the limit and reconnects.
#     SERVER_AUTH  the server's --auth list (default: the personality's)
#
# Env: CLIENT_KTLS=auto|on|off (the profile's ktls, default auto);
#      SERVER_KTLS=off|on|auto (the server's --ktls, default off);
#      TLS_MAX=1.2|1.3 (the server's --tls-max); CIPHERS=aes128,... (the
#      server's --ciphers); SERVER_MRU=N (the server's --mru: the client's
#      interface MTU must come down to it); BULK_MIB=16 (each way); TUN_OFFLOAD=yes|no (the
#      profile's tun-offload and the server's --tun-offload, default yes:
#      status must then show super-packets cut and joined). With
#      CLIENT_KTLS=on or SERVER_KTLS=on the logs and status must show the
#      kernel record layer.
#
# Exit 0 on success, 1 on failure, 77 (skip) when not root.
# DEMO=1 narrates: the client's log, the interface, its counters, routes.
set -uo pipefail
build=$(cd "$1" && pwd)
personality=$2
methods=$3
expect=${4:-up}
server_auth=${5:-}
client_ktls=${CLIENT_KTLS:-auto}
server_ktls=${SERVER_KTLS:-off}
bulk_mib=${BULK_MIB:-16}
tun_offload=${TUN_OFFLOAD:-yes}
src=$(cd "$(dirname "$0")/../.." && pwd)

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root to create network namespaces"
  exit 77
fi

tag="sk$$"
srv="$tag-srv"
cli="$tag-cli"
work=$(mktemp -d)
export SSTP_KTLS_RUN_DIR="$work/run"  # The control socket lives here.
# DNS goes to a stand-in resolvconf that records what it was told, so the
# machine's real resolver configuration is never touched.
mkdir -p "$work/bin"
printf '#!/bin/sh\necho "resolvconf $*" >> "%s/dns.log"\n[ "$1" = -a ] && cat >> "%s/dns.log"\nexit 0\n' \
  "$work" "$work" >"$work/bin/resolvconf"
chmod +x "$work/bin/resolvconf"
export PATH="$work/bin:$PATH" SSTP_KTLS_DNS_BACKEND=resolvconf
server_pid=""
client_pid=""

cleanup() {
  trap - EXIT INT TERM
  [[ -n $client_pid ]] && kill "$client_pid" 2>/dev/null && wait "$client_pid" 2>/dev/null
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [[ -n ${proxy_pid:-} ]] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
  ip netns del "$srv" 2>/dev/null
  ip netns del "$cli" 2>/dev/null
  [[ -n ${KEEP:-} ]] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM  # Through the EXIT trap: namespaces are removed even when killed.

fail() {
  echo "FAIL ($personality, $methods, $expect): $*"
  echo "--- client log"; tail -40 "$work/client.log" 2>/dev/null
  echo "--- server log"; tail -40 "$work/server.log" 2>/dev/null
  exit 1
}

ip netns add "$srv" && ip netns add "$cli" || fail "cannot create namespaces"
ip link add "$tag-a" netns "$srv" type veth peer name "$tag-b" netns "$cli" || fail "veth"
ip -n "$srv" addr add 10.77.0.1/24 dev "$tag-a"
ip -n "$cli" addr add 10.77.0.2/24 dev "$tag-b"
for ns in "$srv" "$cli"; do ip -n "$ns" link set lo up; done
ip -n "$srv" link set "$tag-a" up
ip -n "$cli" link set "$tag-b" up

bash "$src/tools/make-test-pki.sh" "$work/pki" vpn.example.test >/dev/null || fail "make-test-pki.sh"
printf 'alice correct-horse-42\n' >"$work/users"
password=correct-horse-42
user=alice
ca="$work/pki/ca.pem"
server_name=vpn.example.test
pin=""
case $expect in
  badpass) password=wrong-password ;;
  baduser) user=mallory ;;
  ktlson) client_ktls=on ;;
esac
default_route=no
cover_route=0
oversized=0
server_required_sni=""
keylog=0
key_limit=0
proxy=0
proxy_secret=proxy-pass-7
misbehave=""
case $expect in abort | garbage | silent | oversized | keyupdate) misbehave=$expect ;; esac
[[ $expect == lateticket ]] && misbehave=late-ticket
case $expect in
  defroute) default_route=yes; expect=up ;;
  coverroute) cover_route=1; expect=up ;;
  oversized | lateticket) expect=up; oversized=1 ;;
  proxy) expect=up; proxy=1 ;;
  keylog) expect=up; keylog=1; export SSLKEYLOGFILE="$work/keys.log" ;;
  keylimit) expect=up; key_limit=1 ;;
  badsni) server_required_sni=vpn-other.example.test ;;
  badproxy) proxy=1; proxy_secret=wrong ;;
  badca) ca="$work/pki/other-ca.pem" ;;
  badname) server_name=other.example.test ;;
  badpin) pin="pin = sha256:$(printf '%064d' 0)" ;;
esac
proxy_lines=""
if [[ $proxy -eq 1 ]]; then
  printf '%s\n' "$proxy_secret" >"$work/proxy.pass"
  chmod 600 "$work/proxy.pass"
  proxy_lines=$(printf 'proxy = 10.77.0.1:3128\nproxy-user = bob\nproxy-password-file = %s' "$work/proxy.pass")
fi
cat >"$work/client.conf" <<CONF
[server]
host = 10.77.0.1
server-name = $server_name
$proxy_lines
[tls]
ca-file = $ca
ktls = $client_ktls
$pin
$([[ $key_limit -eq 1 ]] && echo "key-update-records = 256")
[auth]
user = $user
password = $password
methods = ${methods//,/, }
[network]
interface = sstp-t0
routes = 10.99.0.0/16$([[ $cover_route -eq 1 ]] && echo ", 10.77.0.0/25")
default-route = $default_route
tun-offload = $tun_offload
[connection]
$([[ $expect == badpass || $expect == keyupdate || $expect == nocap || $key_limit -eq 1 ]] && echo "reconnect = yes" || echo "reconnect = no")
$([[ $expect == keyupdate || $key_limit -eq 1 ]] && echo "reconnect-delay = 1s")
$([[ $expect == silent ]] && echo "hello-interval = 2s")
CONF

if [[ $expect != noserver ]]; then
ip netns exec "$srv" "$build/tools/sstp-test-server" --listen 10.77.0.1:443 \
  --cert "$work/pki/server.pem" --key "$work/pki/server.key" --users "$work/users" \
  --personality "$personality" ${server_auth:+--auth "$server_auth"} \
  ${misbehave:+--misbehave $misbehave} ${server_required_sni:+--required-sni $server_required_sni} \
  --ktls "$server_ktls" ${TLS_MAX:+--tls-max $TLS_MAX} ${CIPHERS:+--ciphers $CIPHERS} ${SERVER_MRU:+--mru $SERVER_MRU} \
  --tun-offload "$([[ $tun_offload == yes ]] && echo on || echo off)" --tun sstps-t0 $([[ $expect == keyupdate || $key_limit -eq 1 ]] || echo --once) --log-level info >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 50); do grep -q READY "$work/server.log" && break; sleep 0.1; done
  grep -q READY "$work/server.log" || fail "server did not start"
fi

if [[ $proxy -eq 1 ]]; then
  ip netns exec "$srv" python3 "$src/tests/netns/connect_proxy.py" 10.77.0.1 3128 bob proxy-pass-7 \
    >"$work/proxy.log" 2>&1 &
  proxy_pid=$!
  for _ in $(seq 50); do grep -q READY "$work/proxy.log" && break; sleep 0.1; done
fi

without_net_admin=()
[[ $expect == nocap ]] && without_net_admin=(setpriv --bounding-set=-net_admin --inh-caps=-net_admin)
ip netns exec "$cli" "${without_net_admin[@]}" "$build/daemon/sstp-ktls" up "$work/client.conf" --log-level info \
  >"$work/client.log" 2>&1 &
client_pid=$!

midsession=0
case $expect in serverstop | abort | garbage | silent) midsession=1 ;; esac
if [[ $expect != up && $expect != keyupdate && $midsession -eq 0 ]]; then
  wait "$client_pid"
  rc=$?
  client_pid=""
  case $expect in
    badpass | baduser) want=3 ;;
    mismatch | noserver | badproxy | badsni | nocap) want=1 ;;
    ktlson) want=5 ;;
    *) want=4 ;;
  esac
  [[ $rc -eq $want ]] || fail "client exit code $rc, want $want"
  ip -n "$cli" link show sstp-t0 >/dev/null 2>&1 && fail "TUN left behind"
  grep -E "error" "$work/client.log" | head -3
  if [[ $expect == badpass ]]; then
    grep "reconnecting" "$work/client.log" >/dev/null && fail "an authentication failure was retried"
  fi
  if [[ $expect == nocap ]]; then
    grep "session ended" "$work/client.log" | grep -q "needs CAP_NET_ADMIN" || fail "the error does not name CAP_NET_ADMIN"
    grep "reconnecting" "$work/client.log" >/dev/null && fail "a missing privilege was retried"
  fi
  echo "PASS ($personality, $methods, $expect): exit $rc"
  exit 0
fi

for _ in $(seq 100); do grep -q "notice: connected" "$work/client.log" && break; sleep 0.1; done
grep -q "notice: connected" "$work/client.log" || fail "tunnel did not come up"
ip -n "$cli" route show | grep "10.99.0.0/16 dev sstp-t0" >/dev/null || fail "profile route missing"
if [[ $client_ktls == on ]]; then
  grep -q "record layer: kernel TLS" "$work/client.log" || fail "client not on kernel TLS"
elif [[ $client_ktls == off ]]; then
  grep -q "record layer: user space" "$work/client.log" || fail "client not on user-space TLS"
fi
if [[ $server_ktls == on ]]; then
  grep -q "record layer: kernel TLS" "$work/server.log" || fail "server not on kernel TLS"
fi
if [[ -n ${TLS_MAX:-} || -n ${CIPHERS:-} ]]; then
  grep "notice: connected\|record layer" "$work/client.log" | head -3
fi
if [[ $proxy -eq 1 ]]; then
  grep "CONNECT 10.77.0.1:443" "$work/proxy.log" >/dev/null || fail "the tunnel did not go through the proxy"
fi
if [[ $keylog -eq 1 ]]; then
  grep -E "^(CLIENT_TRAFFIC_SECRET_0|CLIENT_RANDOM) " "$work/keys.log" >/dev/null || fail "no key log written"
  [[ $(stat -c %a "$work/keys.log") == 600 ]] || fail "key log is not mode 600"
  grep -i "key log" "$work/client.log" >/dev/null || fail "the key log was not announced"
  if grep "$(awk '/CLIENT_TRAFFIC_SECRET_0/{print $3; exit}' "$work/keys.log")" "$work/client.log" >/dev/null; then
    fail "a TLS secret reached the log"
  fi
fi

if [[ -n ${SERVER_MRU:-} ]]; then
  # The server can receive no more than its MRU: the interface says so.
  ip -n "$cli" link show sstp-t0 | grep -q " mtu $SERVER_MRU " \
    || fail "interface MTU is not the server's MRU $SERVER_MRU: $(ip -n "$cli" link show sstp-t0 | head -1)"
  grep -q "interface MTU $SERVER_MRU instead of the profile's 1400" "$work/client.log" || fail "the MTU change was not logged"
fi
ip netns exec "$cli" ping -c 3 -i 0.2 -W 2 192.168.90.1 >"$work/ping.out" || fail "IPv4 ping"
[[ ${DEMO:-0} == 1 ]] && echo "  ping 192.168.90.1 through the tunnel: $(grep 'packets transmitted' "$work/ping.out")"
if [[ $cover_route -eq 1 ]]; then
  routes=$(ip -n "$cli" route show)
  grep "^10.77.0.0/25 dev sstp-t0" <<<"$routes" >/dev/null || fail "no 10.77.0.0/25 via the tunnel: $routes"
  grep "^10.77.0.1 dev $tag-b" <<<"$routes" >/dev/null || fail "no host route to the server outside the tunnel: $routes"
fi
if [[ $default_route == yes ]]; then
  routes=$(ip -n "$cli" route show)
  grep "^0.0.0.0/1 dev sstp-t0" <<<"$routes" >/dev/null || fail "no 0.0.0.0/1 via the tunnel: $routes"
  grep "^128.0.0.0/1 dev sstp-t0" <<<"$routes" >/dev/null || fail "no 128.0.0.0/1 via the tunnel: $routes"
  grep "^10.77.0.1 dev $tag-b" <<<"$routes" >/dev/null || fail "no host route to the server outside the tunnel: $routes"
  # An address only the default route reaches goes through the tunnel.
  [[ $(ip -n "$cli" route get 203.0.113.9 | head -1) == *"dev sstp-t0"* ]] || fail "203.0.113.9 not routed via the tunnel"
fi

# SIGTERM ends the running client in order: exit 0, no TUN or route left.
stop_client_and_check_clean() {
  kill -TERM "$client_pid"
  wait "$client_pid"
  rc=$?
  client_pid=""
  [[ $rc -eq 0 ]] || fail "client exit code $rc after SIGTERM"
  ip -n "$cli" link show sstp-t0 >/dev/null 2>&1 && fail "TUN left behind"
  ip -n "$cli" route show | grep sstp-t0 && fail "route left behind"
}

if [[ $expect == keyupdate ]]; then
  for _ in $(seq 100); do grep "misbehaving on purpose" "$work/server.log" >/dev/null && break; sleep 0.1; done
  grep "misbehaving on purpose" "$work/server.log" >/dev/null || fail "the server did not send its KeyUpdate"
  sleep 1
  if grep -q "cannot rekey kernel TLS" "$work/client.log"; then
    # Linux < 6.14 under kernel TLS: the call ends with the reason, the
    # reconnect brings the tunnel back on a fresh session.
    grep "session ended" "$work/client.log" | grep -q "KeyUpdate" || fail "the session end does not name the KeyUpdate"
    for _ in $(seq 100); do [[ $(grep -c "notice: connected" "$work/client.log") -ge 2 ]] && break; sleep 0.1; done
    [[ $(grep -c "notice: connected" "$work/client.log") -ge 2 ]] || fail "no reconnect after the KeyUpdate"
    ip netns exec "$cli" ping -c 2 -i 0.2 -W 2 192.168.90.1 >/dev/null || fail "IPv4 ping after the reconnect"
    outcome="call ended on the KeyUpdate (kernel cannot rekey), reconnected, ping passes"
  else
    kill -0 "$client_pid" 2>/dev/null || fail "the client died on a KeyUpdate"
    ip netns exec "$cli" ping -c 3 -i 0.2 -W 2 192.168.90.1 >/dev/null || fail "IPv4 ping after the KeyUpdate"
    grep -q "session ended" "$work/client.log" && fail "the call ended on a KeyUpdate it could follow"
    outcome="followed the server's KeyUpdate, ping passes"
  fi
  stop_client_and_check_clean
  echo "PASS ($personality, $methods, keyupdate, client ktls $client_ktls): $outcome"
  exit 0
fi

if [[ $key_limit -eq 1 ]] && grep -q "record layer: kernel TLS" "$work/client.log" &&
  ! ip netns exec "$cli" grep -q TlsTxRekeyOk /proc/net/tls_stat; then
  # Kernel TLS that cannot rekey (Linux < 6.14): past the limit the call
  # ends naming it, and the reconnect brings the tunnel back.
  ip netns exec "$cli" ping -c 400 -i 0.005 -W 1 192.168.90.1 >/dev/null 2>&1
  for _ in $(seq 50); do grep -q "AES-GCM key" "$work/client.log" && break; sleep 0.1; done
  grep "session ended" "$work/client.log" | grep -q "records under one AES-GCM key" \
    || fail "the session end does not name the AES-GCM record limit"
  for _ in $(seq 100); do [[ $(grep -c "notice: connected" "$work/client.log") -ge 2 ]] && break; sleep 0.1; done
  [[ $(grep -c "notice: connected" "$work/client.log") -ge 2 ]] || fail "no reconnect after the record limit"
  ip netns exec "$cli" ping -c 2 -i 0.2 -W 2 192.168.90.1 >/dev/null || fail "IPv4 ping after the reconnect"
  stop_client_and_check_clean
  echo "PASS ($personality, $methods, keylimit, client ktls $client_ktls): call ended at the AES-GCM record limit (kernel cannot rekey), reconnected, ping passes"
  exit 0
fi

if [[ $midsession -eq 1 ]]; then
  if [[ $expect == serverstop ]]; then
    kill -TERM "$server_pid"
    wait "$server_pid"
    server_pid=""
  fi
  for _ in $(seq 150); do kill -0 "$client_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$client_pid" 2>/dev/null && fail "client still running 15 s after the server misbehaved"
  wait "$client_pid"
  rc=$?
  client_pid=""
  [[ $rc -eq 1 ]] || fail "client exit code $rc, want 1"
  case $expect in
    serverstop) reason="disconnected the call" ;;
    abort) reason="abort" ;;
    garbage) reason="SSTP framing" ;;
    silent) reason="silent" ;;
  esac
  grep "session ended" "$work/client.log" | grep -i "$reason" >/dev/null || fail "reason does not mention '$reason'"
  ip -n "$cli" link show sstp-t0 >/dev/null 2>&1 && fail "TUN left behind"
  ip -n "$cli" route show | grep sstp-t0 && fail "route left behind"
  grep -E "session ended" "$work/client.log" | head -1
  echo "PASS ($personality, $methods, $expect)"
  exit 0
fi
if grep -q "IPv6CP: up" "$work/client.log"; then
  server_ll=$(ip -n "$srv" -6 addr show dev sstps-t0 scope link | awk '/inet6/{print $2}' | cut -d/ -f1)
  ip netns exec "$cli" ping -6 -c 3 -i 0.2 -W 2 "$server_ll%sstp-t0" >/dev/null || fail "IPv6 ping"
  v6="ping v4/v6"
else
  # accel-ppp and others Protocol-Reject IPv6CP: the client must carry on
  # with IPv4 alone and say so.
  grep -q "IPv6CP" "$work/client.log" || fail "no word on IPv6CP"
  v6="ping v4 (server refused IPv6CP)"
fi

# Bulk TCP both ways through the tunnel, bytes checked by SHA-256.
transfer() {  # transfer <receiver ns> <receiver addr> <sender ns> <MiB> [<addr as the sender names it>]
  ip netns exec "$1" python3 - "$2" >"$work/recv.out" <<'PY' &
import hashlib, socket, sys
family, _, _, _, address = socket.getaddrinfo(sys.argv[1], 5001, type=socket.SOCK_STREAM)[0]
s = socket.socket(family); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(address); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(30); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest())
PY
  local receiver=$!
  ip netns exec "$3" python3 - "${5:-$2}" "$4" >"$work/send.out" <<'PY'
import hashlib, os, socket, sys, time
data = os.urandom(int(sys.argv[2]) << 20)
for attempt in range(100):  # The receiver may still be starting.
    try:
        s = socket.create_connection((sys.argv[1], 5001), timeout=30)
        break
    except ConnectionRefusedError:
        time.sleep(0.1)
else:
    sys.exit("receiver never listened")
t = time.time(); s.sendall(data); s.close()
print(len(data), hashlib.sha256(data).hexdigest(), "%.1f" % (len(data) / (time.time() - t) / 1e6))
PY
  wait "$receiver"
  read -r sent sent_hash rate <"$work/send.out"
  read -r got got_hash <"$work/recv.out"
  [[ ${sent:-0} -eq $(($4 << 20)) && $sent == "${got:-}" && $sent_hash == "${got_hash:-}" ]] \
    || fail "transfer $3 -> $1 ($2) failed: sent ${sent:-nothing} ${sent_hash:-}, got ${got:-nothing} ${got_hash:-}"
  echo "  $4 MiB $3 -> $1: ok, sha256 match, ${rate} MB/s"
}
transfer "$srv" 192.168.90.1 "$cli" "$bulk_mib"
transfer "$cli" 192.168.90.2 "$srv" "$bulk_mib"
if [[ -n ${server_ll:-} ]]; then
  # IPv6 takes its own offload paths (TCPV6 super-packets, no IPv4 ID).
  client_ll=$(ip -n "$cli" -6 addr show dev sstp-t0 scope link | awk '/inet6/{print $2}' | cut -d/ -f1)
  transfer "$srv" "$server_ll%sstps-t0" "$cli" 4 "$server_ll%sstp-t0"
  transfer "$cli" "$client_ll%sstp-t0" "$srv" 4 "$client_ll%sstps-t0"
fi
if [[ $oversized -eq 1 ]]; then
  for _ in $(seq 100); do grep "misbehaving on purpose" "$work/server.log" >/dev/null && break; sleep 0.1; done
  grep "misbehaving on purpose" "$work/server.log" >/dev/null || fail "the server did not misbehave"
  sleep 0.5
  kill -0 "$client_pid" 2>/dev/null || fail "the client died on an oversized packet"
  ip netns exec "$cli" ping -c 3 -i 0.2 -W 2 192.168.90.1 >/dev/null || fail "IPv4 ping after the oversized packet"
  if [[ $misbehave == late-ticket ]]; then
    echo "  absorbed a late NewSessionTicket from the server; ping still passes"
  else
    echo "  survived a 4095-byte packet from the server; ping still passes"
  fi
fi

grep "nameserver 192.168.90.53" "$work/dns.log" >/dev/null || fail "DNS not applied: $(cat "$work/dns.log" 2>&1)"
status=$("$build/daemon/sstp-ktls" status "$work/client.conf") || fail "sstp-ktls status failed"
grep "state:        connected" <<<"$status" >/dev/null || fail "status does not say connected: $status"
grep "addresses:    192.168.90.2" <<<"$status" >/dev/null || fail "status lacks the address: $status"
rx=$(sed -n 's/^received: *\([0-9]*\) packets.*/\1/p' <<<"$status")
[[ ${rx:-0} -gt $((bulk_mib * 60)) ]] || fail "status counts only ${rx:-0} packets received after $bulk_mib MiB"
if [[ $client_ktls == on ]]; then
  grep "record layer: kernel (software) both directions" <<<"$status" >/dev/null \
    || fail "status does not show the kernel record layer: $status"
  krx=$(sed -n 's/^kernel tls: *[0-9]* records sent, \([0-9]*\) received.*/\1/p' <<<"$status")
  [[ ${krx:-0} -gt $((bulk_mib * 16)) ]] || fail "status counts ${krx:-0} kernel TLS records received"
  grep "^tls_stat: .*TlsCurrTxSw [1-9]" <<<"$status" >/dev/null || fail "status lacks tls_stat: $status"
else
  grep "record layer: user space (OpenSSL) both directions" <<<"$status" >/dev/null \
    || fail "status does not show the user-space record layer: $status"
  grep "^  why: " <<<"$status" >/dev/null || fail "status does not say why user space: $status"
fi
if [[ $tun_offload == yes ]]; then
  # Bulk TCP through an offloading TUN: the client cut super-packets it read
  # and joined segments it wrote (the bytes above prove both were right).
  grep -E "^tun offload:  TSO and GRO; super-packets: [1-9][0-9]* cut, [1-9][0-9]* joined" \
    <<<"$status" >/dev/null || fail "status shows no TUN offload at work: $status"
else
  grep "^tun offload:  off (tun-offload = no); super-packets: 0 cut, 0 joined" <<<"$status" >/dev/null \
    || fail "status does not show the TUN offload off: $status"
fi
if [[ $key_limit -eq 1 ]]; then
  # 16 MiB each way is over a thousand records: several updates, no new call.
  updates=$(grep -c "our TLS keys updated after" "$work/client.log")
  [[ $updates -ge 3 ]] || fail "only $updates key updates after 256-record limits"
  [[ $(grep -c "notice: connected" "$work/client.log") -eq 1 ]] || fail "the call was restarted"
  echo "  our key updated $updates times (every 256 records); the transfers' bytes all matched"
fi
json=$("$build/daemon/sstp-ktls" status "$work/client.conf" --json) || fail "status --json failed"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["state"]=="connected" and d["tx_bytes"]>int(sys.argv[2])*1e6, d' "$json" "$bulk_mib" \
  || fail "status --json is not the truth: $json"

if [[ ${DEMO:-0} == 1 ]]; then
  echo
  echo "--- sstp-ktls status (from the control socket of the running daemon)"
  sed 's/^/  /' <<<"$status"
  echo
  echo "--- client log (sstp-ktls up, --log-level info), key lines"
  echo "    (DNS went to a recording stand-in for resolvconf: this machine's resolver is untouched)"
  grep -E "TLS handshake|SSTP .*->|authentication method|authenticated|CALL_CONNECTED|IPCP: up|IPv6CP: up|DNS|connected:" \
    "$work/client.log" | sed 's/^/  /'
  echo
  echo "--- in the client namespace: ip -s link show sstp-t0"
  ip -n "$cli" -s link show sstp-t0 | sed 's/^/  /'
  echo "--- ip addr show sstp-t0"
  ip -n "$cli" addr show sstp-t0 | sed 's/^/  /'
  echo "--- routes through the tunnel"
  ip -n "$cli" route show dev sstp-t0 | sed 's/^/  /'
  echo
  echo "--- sstp-ktls down: orderly disconnect and cleanup"
fi

# Take it down: `sstp-ktls down` for windows, SIGTERM for the others, so
# both paths are covered.
if [[ $personality == windows ]]; then
  "$build/daemon/sstp-ktls" down "$work/client.conf" >/dev/null || fail "sstp-ktls down failed"
else
  kill -TERM "$client_pid"
fi
wait "$client_pid"
rc=$?
client_pid=""
[[ $rc -eq 0 ]] || fail "client exit code $rc after the stop request"
[[ -e $SSTP_KTLS_RUN_DIR/client.sock ]] && fail "control socket left behind"
[[ -e $SSTP_KTLS_RUN_DIR/client.sock.lock ]] && fail "control lock left behind"
grep "resolvconf -d sstp-t0.sstp-ktls" "$work/dns.log" >/dev/null || fail "DNS not reverted"
ip -n "$cli" link show sstp-t0 >/dev/null 2>&1 && fail "TUN left behind"
ip -n "$cli" route show | grep sstp-t0 && fail "route left behind"
[[ $(ip -n "$cli" -4 addr show | grep -c inet) -eq 2 ]] || fail "address left behind"
[[ $(ip -n "$cli" route show | grep -c .) -eq 1 ]] || fail "routes left behind: $(ip -n "$cli" route show)"
if [[ ${DEMO:-0} == 1 ]]; then
  grep -E "disconnecting|Terminate|CALL_DISCONNECT|DNS configuration|undone|disconnected" "$work/client.log" | sed 's/^/  /'
  echo "  interface after teardown: $(ip -n "$cli" link show sstp-t0 2>&1 | head -1)"
  echo
fi
echo "PASS ($personality, $methods${TLS_MAX:+, TLS $TLS_MAX}${CIPHERS:+, $CIPHERS}, client ktls $client_ktls, server ktls $server_ktls): tunnel up, $v6, $bulk_mib MiB each way, clean teardown"
