#!/usr/bin/env bash
# sstp-bench inside the test VM (Debian's 6.1 kernel: kernel TLS and PPP), so
# all four modes run side by side: plain, ktls = off, ktls = on, sstpc + pppd.
#
#   tools/bench/vm-bench.sh BUILD_DIR OUT_DIR        (as root)
#
# Boots the VM with tests/vm/run.sh and tests/vm/bench-guest.sh, then cuts the
# results out of the VM's console (BUILD_DIR/vm-console.log) into OUT_DIR:
# bench.txt (table and target checks), bench.json, bench.svg, perf-*.txt
# (with BENCH_ARGS=--perf), vm-console.log and vm-run.log (run.sh's output);
# prints the table. BUILD_DIR must be a Release or
# RelWithDebInfo build (never a sanitizer build).
#
# Env: BENCH_SECONDS=5, BENCH_MODES=plain,off,on,sstpc, BENCH_ARGS="..." (more
#      sstp-bench options, e.g. "--ciphers chacha20"), VM_TIMEOUT=1800, and
#      whatever else tests/vm/run.sh reads (VM_MEM, NO_APT, ...).
# Exit 0 when the benchmark ran and its results were extracted (missed targets
# included), 1 otherwise.
set -uo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 BUILD_DIR OUT_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd) || exit 2
mkdir -p "$2" && out=$(cd "$2" && pwd) || exit 2
src=$(cd "$(dirname "$0")/../.." && pwd)

# run.sh's guest gets no environment: the settings go through a file in the
# build directory, which the guest sees over 9p. Removed on the way out.
envfile=$build/vm-bench.env
printf 'BENCH_SECONDS=%q\nBENCH_MODES=%q\nBENCH_ARGS=%q\n' "${BENCH_SECONDS:-5}" \
  "${BENCH_MODES:-plain,off,on,sstpc}" "${BENCH_ARGS:-}" >"$envfile"
trap 'rm -f "$envfile"' EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
VM_TIMEOUT=${VM_TIMEOUT:-1800} "$src/tests/vm/run.sh" "$build" "$src/tests/vm/bench-guest.sh" |
  tee "$out/vm-run.log"
rc=${PIPESTATUS[0]}
echo "vm-bench: tests/vm/run.sh exit $rc after $(($(date +%s) - start)) s"
# The console as run.sh saved it; else what run.sh printed (the same lines).
console=$out/vm-console.log
cp "$build/vm-console.log" "$console" 2>/dev/null
grep -q '^=== BENCH-JSON-GZ-BASE64 END' "$console" 2>/dev/null || console=$out/vm-run.log

# Cut the marked blocks out of the console. Kernel messages may interleave
# with the base64 lines; they contain spaces or brackets and are dropped.
/usr/bin/python3 - "$console" "$out" <<'PY' || exit 1
import base64, gzip, json, os, platform, re, sys
console, out = sys.argv[1], sys.argv[2]
text = open(console, errors="replace").read()

def block(name):
    m = re.search(rf"^=== {name} BEGIN\n(.*?)^=== {name} END$", text, re.M | re.S)
    if not m:
        sys.exit(f"vm-bench: no {name} block in {console}")
    return m.group(1)

def decode(name):
    lines = [l for l in block(name).splitlines() if re.fullmatch(r"[A-Za-z0-9+/=]+", l)]
    return gzip.decompress(base64.b64decode("".join(lines)))

result = json.loads(decode("BENCH-JSON-GZ-BASE64"))
# The host that ran QEMU, next to the guest's own machine figures.
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
result["meta"]["vm_host"] = {"kernel": platform.release(), "cpu_model": cpu, "cpus": os.cpu_count(),
                             "loadavg": open("/proc/loadavg").read().split()[:3],
                             "note": "QEMU TCG (software emulation, -cpu max), -smp 2; the host is shared with other work"}
with open(os.path.join(out, "bench.json"), "w") as f:
    json.dump(result, f, indent=1)
    f.write("\n")
with open(os.path.join(out, "bench.svg"), "wb") as f:
    f.write(decode("BENCH-SVG-GZ-BASE64"))
with open(os.path.join(out, "bench.txt"), "w") as f:
    f.write(block("BENCH-TABLE"))
# Profiles (BENCH_ARGS=--perf): perf-MODE-TEST.txt
for m in re.finditer(r"^=== BENCH-FILE (perf-[\w.-]+\.txt) BEGIN\n(.*?)^=== BENCH-FILE \1 END$", text, re.M | re.S):
    with open(os.path.join(out, m.group(1)), "w") as f:
        f.write(m.group(2))
PY
echo
echo "=== sstp-bench in the VM ($out)"
cat "$out/bench.txt"
[[ $rc -eq 0 ]] || { echo "vm-bench: the benchmark did not run cleanly in the VM (see $out/vm-console.log)"; exit 1; }
