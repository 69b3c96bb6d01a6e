#!/usr/bin/env bash
# Fuzz regression for hv's MMIO instruction emulator: build its libFuzzer
# target (tests/fuzz: hv/core/emu*.c under ASan and UBSan, with callbacks
# that check every promise emu.h makes) and run it for about FUZZ_SECONDS
# (15) from its seed corpus.  PASS when it ran and found no crash, sanitizer
# report or timeout; a finding is reported with its input file and the
# command that replays it.  Only a missing clang is a SKIP (mk/deps.sh fuzz
# installs it); a target that does not build is a FAIL.
set -uo pipefail
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
SECONDS_WANTED=${FUZZ_SECONDS:-15}
OUT=$BUILD/tests/fuzz

if ! command -v "${FUZZ_CC:-clang}" >/dev/null; then
    echo "SKIP: emu-fuzz: clang is not installed (bash mk/deps.sh fuzz)"
    exit 0
fi
log=$BUILD/tests/emu-fuzz
rm -rf "$log"
mkdir -p "$log/new"
if ! make -s -C "$TOP/tests/fuzz" BUILD="$BUILD" >"$log/build.log" 2>&1; then
    echo "FAIL: emu-fuzz/build: make -C tests/fuzz failed"
    sed 's/^/    | /' "$log/build.log" | tail -n 20
    exit 0
fi
if [ -n "$(ls -A "$OUT/corpus" 2>/dev/null)" ]; then
    echo "PASS: emu-fuzz/build"
else
    echo "FAIL: emu-fuzz/build: the seed corpus $OUT/corpus is empty"
    exit 0
fi

# New inputs go to a fresh directory (the seed corpus stays as generated);
# findings (crash-*, timeout-*, oom-*) go to $log/.  The outer timeout only
# guards against a fuzzer that never stops.
timeout $((SECONDS_WANTED + 120)) "$OUT/fuzz_emu" -max_total_time="$SECONDS_WANTED" \
    -max_len=256 -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$log/" "$log/new" "$OUT/corpus" >"$log/fuzz.log" 2>&1
st=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log/fuzz.log")
finding=$(ls "$log" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | head -n 1)
if [ "$st" = 0 ] && [ -z "$finding" ] && [ "${runs:-0}" -gt 0 ]; then
    echo "PASS: emu-fuzz/run: $runs inputs in ${SECONDS_WANTED} s, no finding"
else
    echo "FAIL: emu-fuzz/run: status $st, ${runs:-no} inputs run${finding:+, finding $log/$finding}"
    [ -n "$finding" ] && echo "    | replay: $OUT/fuzz_emu $log/$finding"
    grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$log/fuzz.log" | head -n 20 | sed 's/^/    | /'
fi
