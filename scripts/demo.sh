#!/usr/bin/env bash
# The main job (README.md, first command), as root on Debian 12: installs
# what is missing, builds, then brings a real SSTP tunnel up with
# `sstp-ktls up` against the bundled test server, each in its own network
# namespace joined by a veth pair; pings through it (IPv4 and IPv6), moves
# 16 MiB each way with the bytes checked, shows the interface and its
# counters, and takes it down with SIGTERM, leaving nothing behind.
# PERSONALITY=windows|softether|accel|strict picks the server's behaviour.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" --target sstp-ktls sstp-test-server

echo
echo "\$ sstp-ktls selftest"
./build/daemon/sstp-ktls selftest
echo
echo "=== a tunnel: sstp-ktls up <profile> against sstp-test-server --personality ${PERSONALITY:-windows}"
DEMO=1 tests/netns/tunnel_test.sh build "${PERSONALITY:-windows}" mschapv2
