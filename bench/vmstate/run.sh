#!/usr/bin/env bash
# How long savevm, loadvm and a save to a file take in hv under QEMU TCG,
# and how many bytes they move (a benchmark, not a test: it prints numbers
# and never fails on them).
#
# Usage: bench/vmstate/run.sh [--mem SIZES] [--reps R]
#   SIZES: comma-separated guest RAM sizes for -m (default 32M,128M)
#
# The guest is guestkit/tests/counter.c (a line every 20 ms, a few dozen
# pages of RAM in use) with a fresh 16 MiB qcow2 disk, under hv on
# QEMU+SVM: savevm after 1 s, loadvm after 2 s, then in a second run two
# saves to a file 1 s apart (the second one incremental).  The numbers are
# hv's own log lines ("savevm 's1': N bytes of VM state in T ms", ...),
# timed on the outer machine's TSC: nearly all of that time is ATA PIO to
# the outer disk, which QEMU emulates one port access at a time.  Each cell
# is the median of R runs.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
mems=32M,128M reps=3
while [ $# -gt 0 ]; do
    case $1 in
    --mem) mems=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    *) echo "usage: $0 [--mem SIZES] [--reps R]" >&2; exit 2 ;;
    esac
done
G=$BUILD/guestkit/counter.elf
[ -f "$G" ] && [ -f "$BUILD/hv/hv.elf" ] || { echo "build first: make" >&2; exit 2; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# median: the middle of the numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# field FILE REGEX: the first number the regex's one group catches, per file.
field() { sed -nE "s/$2/\\1/p" "$1" | head -n 1; }

printf '%-6s %10s %10s %10s %12s %12s %10s %10s\n' RAM state savevm-ms loadvm-ms \
    file-full-B file-incr-B full-ms incr-ms
for m in ${mems//,/ }; do
    for ((r = 0; r < reps; r++)); do
        qemu-img create -q -f qcow2 "$W/d.qcow2" 16M
        "$TOP/bin/hvrun" --timeout 300 -m "$m" -kernel "$G" -append 150 \
            -drive "file=$W/d.qcow2,format=qcow2" --savevm s1@1000 --loadvm s1@2000 \
            >"$W/snap.$r" 2>&1 || true
        rm -f "$W/f.save"
        "$TOP/bin/hvrun" --timeout 300 -m "$m" -kernel "$G" -append 150 \
            --save-file "$W/f.save@1000" --save-file "$W/f.save@2000" >"$W/file.$r" 2>&1 || true
    done
    cell() { for ((r = 0; r < reps; r++)); do field "$W/$1.$r" "$2"; done | median; }
    printf '%-6s %10s %10s %10s %12s %12s %10s %10s\n' "$m" \
        "$(cell snap "^\[hv\] savevm 's1': ([0-9]+) bytes.*")" \
        "$(cell snap "^\[hv\] savevm 's1': [0-9]+ bytes of VM state in ([0-9]+) ms")" \
        "$(cell snap "^\[hv\] loadvm 's1': [0-9]+ bytes of VM state in ([0-9]+) ms")" \
        "$(cell file "^\[hv\] save to .* ([0-9]+) written \(full\).*")" \
        "$(cell file "^\[hv\] save to .* ([0-9]+) written \(incremental\).*")" \
        "$(cell file "^\[hv\] save to .*\(full\) in ([0-9]+) ms")" \
        "$(cell file "^\[hv\] save to .*\(incremental\) in ([0-9]+) ms")"
done
