#!/usr/bin/env bash
# How fast guest memory leaves hv: x-read-memory's hex on the serial line
# against the bulk path through the staging disk (pmemsave, and the
# monitor's dump-guest-memory built on it; docs/monitor.md "Memory in
# bulk").  A benchmark, not a test: it prints numbers and never fails on
# them.
#
# Usage: bench/mem/run.sh [--mem SIZE] [--emulator qemu|bochs --vendor svm|vmx]
#   SIZE: the guest's RAM for -m (default 128M)
#
# The guest is guestkit/tests/pattern.c under hv with --control.  Rows:
#   x-read-memory  64 KiB in 4 KiB requests, as a front-end reads them
#   pmemsave       all RAM in one request; hv's own time from its log line
#   dump           bin/hvmon's dump-guest-memory of all RAM (8 MiB pieces)
# Wall times include the host's load: run it on a quiet machine.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
mem=128M emu=qemu vendor=svm
while [ $# -gt 0 ]; do
    case $1 in
    --mem) mem=$2; shift 2 ;;
    --emulator) emu=$2; shift 2 ;;
    --vendor) vendor=$2; shift 2 ;;
    *) echo "usage: $0 [--mem SIZE] [--emulator E --vendor V]" >&2; exit 2 ;;
    esac
done
G=$BUILD/guestkit/pattern.elf H=$BUILD/mgmt/hvctl
[ -f "$G" ] && [ -x "$H" ] && [ -x "$BUILD/mgmt/hvmon" ] || { echo "build first: make" >&2; exit 2; }
W=$(mktemp -d)
"$TOP/bin/hvrun" --emulator "$emu" --vendor "$vendor" --timeout 1800 -m "$mem" \
    --control "$W/s.sock" -kernel "$G" >"$W/out" 2>&1 &
run=$!
trap 'kill $run 2>/dev/null; wait $run 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 1200); do grep -q '^pattern: counting' "$W/out" && break; sleep 0.2; done
bytes=$(("${mem%M}" << 20))
now() { date +%s.%N; }
rate() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.1f KiB/s", b / 1024 / t }'; }

printf '%-14s %12s %10s %14s\n' what bytes seconds rate
t0=$(now)
for ((a = 0; a < 65536; a += 4096)); do
    "$H" -s "$W/s.sock" --timeout 120 x-read-memory addr=$((0x100000 + a)) size=4096 physical=true >/dev/null
done
t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')
printf '%-14s %12s %10.1f %14s\n' x-read-memory 65536 "$t" "$(rate 65536 "$t")"
t0=$(now)
"$H" -s "$W/s.sock" --timeout 1800 pmemsave val=0 size="$bytes" filename="$W/ram.bin" >/dev/null
t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')
printf '%-14s %12s %10.1f %14s\n' pmemsave "$bytes" "$t" "$(rate "$bytes" "$t")"
hvms=$(sed -nE 's/^\[hv\] pmemsave: domain 0: [0-9]+ bytes from 0x0 in ([0-9]+) ms$/\1/p' "$W/out" | tail -1)
printf '%-14s %12s %10.1f %14s\n' "  (hv's time)" "$bytes" "$(awk -v m="$hvms" 'BEGIN { print m / 1000 }')" \
    "$(rate "$bytes" "$(awk -v m="$hvms" 'BEGIN { print m / 1000 }')")"
rm -f "$W/ram.bin"
t0=$(now)
(cd "$W" && echo 'dump-guest-memory core.elf' | "$BUILD/mgmt/hvmon" "$W/s.sock" >/dev/null)
t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')
printf '%-14s %12s %10.1f %14s\n' dump "$(stat -c %s "$W/core.elf")" "$t" "$(rate "$bytes" "$t")"
"$H" -s "$W/s.sock" quit >/dev/null || true
