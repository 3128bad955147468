#!/usr/bin/env bash
# Guest script for tests/vm/run.sh: the benchmark (tools/bench/sstp-bench) on
# Debian's 6.1 kernel, which has kernel TLS and PPP, so every mode runs:
# plain, ktls = off, ktls = on, and Debian's sstpc + pppd.
#
#   tests/vm/run.sh BUILD_DIR tests/vm/bench-guest.sh     (as root, on the host)
#   tools/bench/vm-bench.sh BUILD_DIR OUT_DIR             (the same, and it
#                                                         extracts the results)
#
# The guest's root is a tmpfs overlay the host cannot see, so the results go
# to the console between markers, which vm-bench.sh cuts out:
#   === BENCH-TABLE BEGIN / END          the table and target checks, as text
#   === BENCH-JSON-GZ-BASE64 BEGIN / END bench.json, gzip, base64
#   === BENCH-SVG-GZ-BASE64 BEGIN / END  bench.svg, gzip, base64
#   === BENCH-FILE NAME BEGIN / END      perf-*.txt, with BENCH_ARGS=--perf
# and last "RESULT: 1 passed, 0 failed, 0 skipped" when the benchmark ran
# (whatever its figures: a missed target is not a failure), "0 passed, 1
# failed" when it could not run.
#
# run.sh passes no environment through; settings come from BUILD_DIR/vm-bench.env
# if present (vm-bench.sh writes it): BENCH_SECONDS (default 5), BENCH_MODES
# (default plain,off,on,sstpc), BENCH_ARGS (more sstp-bench options).
set -uo pipefail
build=$(cd "${1:?usage: bench-guest.sh BUILD_DIR}" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 1
BENCH_SECONDS=5
BENCH_MODES=plain,off,on,sstpc
BENCH_ARGS=
# shellcheck disable=SC1091
[[ -f $build/vm-bench.env ]] && . "$build/vm-bench.env"
mkdir -p /run/lock

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

echo "TIMING guest-start $(cut -d' ' -f1 /proc/uptime) s after boot"
echo "INFO: kernel $(uname -r), cpus $(nproc), memory $(awk '/MemTotal/ { print int($2 / 1024) " MiB" }' /proc/meminfo)"

# Kernel TLS, as guest.sh's load_tls does it: the Debian module, loaded by
# hand (run.sh boots with module autoload refused). Then autoload on, as on
# any Debian system (pppd may ask for PPP compressors).
if grep -qw 'sstp_notls=1' /proc/cmdline; then
  echo "INFO: sstp_notls=1: tls is blacklisted for this boot; the 'on' mode will skip"
elif modprobe tls && [[ -e /proc/net/tls_stat ]]; then
  echo "INFO: tls loaded: $(grep '^tls ' /proc/modules)"
else
  echo "INFO: modprobe tls failed; the 'on' mode will skip"
fi
echo /sbin/vm-modprobe >/proc/sys/kernel/modprobe

out=/tmp/bench
t=$(now)
# shellcheck disable=SC2086
tools/bench/sstp-bench --build "$build" --modes "$BENCH_MODES" --seconds "$BENCH_SECONDS" \
  --out "$out" $BENCH_ARGS
rc=$?
echo "TIMING sstp-bench $(since "$t") s (exit $rc)"

if [[ -s $out/bench.json ]]; then
  echo "=== BENCH-TABLE BEGIN"
  cat "$out/bench.txt"
  echo "=== BENCH-TABLE END"
  echo "=== BENCH-JSON-GZ-BASE64 BEGIN"
  gzip -9c "$out/bench.json" | base64 -w 76
  echo "=== BENCH-JSON-GZ-BASE64 END"
  echo "=== BENCH-SVG-GZ-BASE64 BEGIN"
  gzip -9c "$out/bench.svg" | base64 -w 76
  echo "=== BENCH-SVG-GZ-BASE64 END"
  # Profiles (sstp-bench --perf): the text reports, as they are.
  for f in "$out"/perf-*.txt; do
    [[ -f $f ]] || continue
    echo "=== BENCH-FILE $(basename "$f") BEGIN"
    cat "$f"
    echo "=== BENCH-FILE $(basename "$f") END"
  done
fi
echo "INFO: AEAD drivers in use: $(awk '/^name/ { n = $3 } /^driver/ { d = $3 } /^type/ { if ($3 == "aead" && n ~ /^(gcm\(aes\)|rfc7539\(chacha20,poly1305\))$/) print n "=" d }' /proc/crypto | sort -u | tr '\n' ' ')"
if [[ $rc -eq 0 && -s $out/bench.json ]]; then
  echo "PASS: sstp-bench ran"
  echo "RESULT: 1 passed, 0 failed, 0 skipped"
else
  echo "FAIL: sstp-bench exit $rc"
  echo "RESULT: 0 passed, 1 failed, 0 skipped"
fi
