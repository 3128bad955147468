#!/usr/bin/env bash
# The main job (README.md, first command). Installs what is missing, builds
# sstp-ktls, and shows what it does today: the published protocol vectors run
# through this build, and a profile validated with every default shown.
# (When `sstp-ktls up` lands, this brings a tunnel up against the bundled
# test server in network namespaces and shows the traffic it carried.)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" --target sstp-ktls

echo
echo "\$ sstp-ktls selftest"
./build/daemon/sstp-ktls selftest
echo
echo "\$ sstp-ktls check examples/office.conf"
./build/daemon/sstp-ktls check examples/office.conf
