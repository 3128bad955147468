#!/usr/bin/env bash
# The project's test command (README.md): installs what is missing, builds,
# and runs every test there is on this machine.
#
#   1. gcc build with -Werror, all CTest tests (unit, layering, and the
#      root/namespace tests, which skip with a printed reason when not root);
#   2. kernel TLS under QEMU (tests/vm/run.sh): Debian's own kernel, which
#      has tls and PPP, boots with this build shared in and runs
#      tests/vm/guest.sh; its checks count one each;
#   3. the unit, CLI and tunnel tests again under AddressSanitizer +
#      UndefinedBehaviorSanitizer (the tunnels run the sanitized client and
#      server, so a leak or an error fails the run);
#   4. every libFuzzer target for FUZZ_SECONDS each (default 60), two at a time.
#
# Ends with one line "RESULT: N passed, N failed, N skipped" over all of them.
# Env: QUICK=1 runs step 1 only; VM=0 skips step 2; FUZZ_SECONDS=N;
# JOBS=N (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-60}
passed=0 failed=0 skipped=0

step() { printf '\n=== %s\n' "$*"; }

# Adds one CTest run's counts (from its summary lines) to the totals.
count_ctest() {
  local log=$1 total fails skips
  total=$(sed -n 's/.*tests passed, [0-9]* tests\? failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
  fails=$(sed -n 's/.*tests passed, \([0-9]*\) tests\? failed out of.*/\1/p' "$log" | tail -1)
  skips=$(grep -c '\*\*\*Skipped' "$log" || true)
  : "${total:=0}" "${fails:=0}"
  passed=$((passed + total - fails - skips))
  failed=$((failed + fails))
  skipped=$((skipped + skips))
}

run_ctest() {  # run_ctest <build dir> <log> [ctest args...]
  local dir=$1 log=$2
  shift 2
  set +e
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" "$@" 2>&1 | tee "$log"
  set -e
  count_ctest "$log"
}

step "dependencies"
bash scripts/install-deps.sh

step "build (gcc, -Werror)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSSTP_WERROR=ON >/dev/null
cmake --build build -j"$jobs"

step "tests"
run_ctest build build/ctest.log

if [[ ${QUICK:-0} != 1 ]]; then
  step "kernel TLS under QEMU (tests/vm)"
  if [[ ${VM:-1} == 0 ]]; then
    echo "skipped: VM=0"
  else
    # The guest's RESULT line is folded into the totals; a run that fails
    # without a failed check (no boot, timeout, no end marker) counts as one.
    rm -f build/vm-console.log
    set +e
    bash tests/vm/run.sh build
    vm_rc=$?
    set -e
    vm_result=$(grep -aE '^RESULT: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' build/vm-console.log 2>/dev/null | tail -1 || true)
    if [[ $vm_rc -eq 77 ]]; then
      skipped=$((skipped + 1))
    elif [[ -n $vm_result ]]; then
      read -r vm_p vm_f vm_s < <(sed -E 's/^RESULT: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/' <<<"$vm_result")
      passed=$((passed + vm_p))
      failed=$((failed + vm_f))
      skipped=$((skipped + vm_s))
      if [[ $vm_rc -ne 0 && $vm_f -eq 0 ]]; then failed=$((failed + 1)); fi
    else
      failed=$((failed + 1))
    fi
  fi

  step "unit, CLI and tunnel tests under ASan + UBSan"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSSTP_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest build-asan build-asan/ctest.log -L "unit|cli|netns"

  step "fuzzers, ${fuzz_seconds} s each"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSSTP_FUZZ=ON -DSSTP_TESTS=OFF >/dev/null
  cmake --build build-fuzz -j"$jobs"
  mapfile -t fuzzers < <(find build-fuzz -type f -name '*_fuzzer' -perm -u+x | sort)
  mkdir -p build-fuzz/runs
  run_fuzzer() {
    local bin=$1 name work
    name=$(basename "$bin")
    work=build-fuzz/runs/$name
    rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
    cp -r "tests/fuzz/corpus/$name/." "$work/corpus/" 2>/dev/null || true
    if "$bin" -max_total_time="$fuzz_seconds" -print_final_stats=1 -rss_limit_mb=2048 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1; then
      echo ok >"$work/result"
    else
      echo FAILED >"$work/result"
    fi
  }
  # Two at a time: the machines this runs on have 2 cores.
  for ((i = 0; i < ${#fuzzers[@]}; i += 2)); do
    run_fuzzer "${fuzzers[i]}" &
    if ((i + 1 < ${#fuzzers[@]})); then run_fuzzer "${fuzzers[i + 1]}" & fi
    wait
  done
  printf '%-24s %12s %10s  %s\n' fuzzer executions exec/s result
  for bin in "${fuzzers[@]}"; do
    name=$(basename "$bin")
    work=build-fuzz/runs/$name
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
    result=$(cat "$work/result")
    printf '%-24s %12s %10s  %s\n' "$name" "${execs:-?}" "${rate:-?}" "$result"
    if [[ $result == ok ]]; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "--- $name log tail:"
      tail -40 "$work/log"
      ls "$work/artifacts"
    fi
  done
fi

printf '\nRESULT: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
[[ $failed -eq 0 ]]
