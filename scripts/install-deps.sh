#!/usr/bin/env bash
# Installs everything sstp-ktls needs to build and test, from Debian 12's
# archive only. Idempotent: packages already present are left alone, and
# `apt-get update` runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libssl-dev openssl liburing-dev libmnl-dev libabsl-dev
  libgtest-dev libgmock-dev googletest
  clang libclang-rt-14-dev      # libFuzzer and the sanitizers
  iproute2 iputils-ping procps  # network-namespace tests
  qemu-system-x86 busybox-static cpio kmod  # tests/vm: Debian's kernel under QEMU
  sstp-client ppp iperf3        # tests/vm: the reference client, pppd, benchmarks
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: all dependencies present"
