#!/usr/bin/env bash
# Why paravirtual drivers exist: exits and time per KiB of console output
# and per MiB of disk I/O, the same guest work three ways (a benchmark,
# not a test; it prints numbers and never fails on them).
#
# Usage: bench/pv/run.sh [--quick] [--reps R] [--mib N] [--only MACHINES]
#   MACHINES: comma-separated of hv-qemu-svm, hv-bochs-vmx (default hv-qemu-svm)
#   --quick: one repetition, 1 MiB of disk data (a first look)
#
# Every run is one guest, guestkit/tests/vbench.c with `mib=N wait=poll
# pv=1`, under hv (bin/hvrun -drive ... -device virtio-serial-device) on a
# fresh copy of one empty qcow2 image of N MiB, its metadata preallocated
# (otherwise the first writer, virtio-blk, would pay for allocating the
# clusters that PV block then finds ready).  The guest writes 1 KiB of
# 64-byte lines through the emulated 16550 UART (COM1), through
# virtio-console and through hvkit's PV console ring; it writes N MiB in
# 64 KiB requests, flushes and reads them back through virtio-blk and then
# through PV block, on the same disk and the same qcow2 backend.  It counts
# its VM exits around each part with HC_EXIT_COUNT and times each with its
# TSC (calibrated against the PIT).  hv emulates no disk controller for its
# guests, so the emulated column has no disk rows ("-").  Runs repeat R
# times; each cell is the median.  Bochs's clock is its own emulated time,
# so its times are not comparable with QEMU's; its exit counts are.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
. "$TOP/bench/lib/vbench.bash"
reps=3 mib=4 machines=hv-qemu-svm
while [ $# -gt 0 ]; do
    case $1 in
    --quick) reps=1 mib=1 ;;
    --reps) reps=$2; shift ;;
    --mib) mib=$2; shift ;;
    --only) machines=$2; shift ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
IFS=, read -ra machine_list <<<"$machines"
for m in "${machine_list[@]}"; do
    case $m in
    hv-qemu-svm | hv-bochs-vmx) ;;
    *) echo "run.sh: unknown machine '$m' (see --help)" >&2; exit 2 ;;
    esac
done
vbench_positive --reps "$reps"
vbench_positive --mib "$mib"

# hv and the guest, quietly; then one empty image that every run copies
# (its clusters allocated, all zero).
vbench_prepare pv -o preallocation=metadata

# run MACHINE: one run of vbench on MACHINE (vbench_run); all four of the
# guest's tests must pass.
run() {
    vbench_run "$1" "mib=$mib wait=poll pv=1" '^SUMMARY: 4 tests, 0 unexpected failures, 0 skipped' \
        "mib=$mib pv=1 on $1"
}

# The numbers of one run, as "KEY VALUE" lines: console exits and
# microseconds per KiB (uart, vcon, pvcon), disk exits and milliseconds
# for the whole write+flush and read (v* virtio-blk, p* PV block).
numbers() {
    local n='([0-9]+)'
    sed -nE \
        -e "s/^    disk write\\+flush: $n bytes in $n ms, .*/vwms \\2/p" \
        -e "s/^    disk read: $n bytes in $n ms, .*/vrms \\2/p" \
        -e "s/^    disk write\\+flush: $n exits, .*/vwex \\1/p" \
        -e "s/^    disk read: $n exits, .*/vrex \\1/p" \
        -e "s/^    pv disk write\\+flush: $n bytes in $n ms, .*/pwms \\2/p" \
        -e "s/^    pv disk read: $n bytes in $n ms, .*/prms \\2/p" \
        -e "s/^    pv disk write\\+flush: $n exits, .*/pwex \\1/p" \
        -e "s/^    pv disk read: $n exits, .*/prex \\1/p" \
        -e "s/^    console: $n exits per KiB through the UART, $n through virtio-console\$/uartex \\1\\nvconex \\2/p" \
        -e "s/^    console: $n exits per KiB through the PV console\$/pvconex \\1/p" \
        -e "s/^    console: $n us per KiB through the UART, $n through virtio-console, $n through the PV console\$/uartus \\1\\nvconus \\2\\npvconus \\3/p" \
        "$W/out"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A vals=()
for ((r = 1; r <= reps; r++)); do
    for m in "${machine_list[@]}"; do
        run "$m"
        vbench_keep "$m"
    done
done

# cell MACHINE KEY DIVISOR FORMAT: the median of KEY's values over DIVISOR
# in FORMAT, or "-" for KEY "-".
cell() {
    local v
    [ "$2" = - ] && { echo -; return; }
    v=$(vbench_median "${vals[$1/$2]:-}" "$3" "$4")
    [ -n "$v" ] || { echo "run.sh: no '$2' in vbench's output" >&2; exit 1; }
    echo "$v"
}

declare -A title=([hv-qemu-svm]="hv on QEMU+SVM" [hv-bochs-vmx]="hv on Bochs+VMX")
echo "PV benchmark: $(nproc) CPUs, load average $load_start at start;" \
    "vbench mib=$mib wait=poll pv=1, median of $reps run(s)"
row() { printf '| %-34s | %16s | %16s | %16s |\n' "$@"; }
for m in "${machine_list[@]}"; do
    echo
    row "${title[$m]}" "emulated (UART)" "virtio" "PV (hvkit ABI)"
    printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..36})" "$(printf -- '-%.0s' {1..18})" \
        "$(printf -- '-%.0s' {1..18})" "$(printf -- '-%.0s' {1..18})"
    # each LABEL DIVISOR FORMAT KEY KEY KEY: one row, one cell per way.
    each() {
        local label=$1 div=$2 fmt=$3
        shift 3
        row "$label" "$(cell "$m" "$1" "$div" "$fmt")" "$(cell "$m" "$2" "$div" "$fmt")" \
            "$(cell "$m" "$3" "$div" "$fmt")"
    }
    each "console, exits per KiB" 1 %d uartex vconex pvconex
    each "console, microseconds per KiB" 1 %d uartus vconus pvconus
    each "disk write+flush, exits per MiB" "$mib" %.1f - vwex pwex
    each "disk write+flush, ms per MiB" "$mib" %.1f - vwms pwms
    each "disk read, exits per MiB" "$mib" %.1f - vrex prex
    each "disk read, ms per MiB" "$mib" %.1f - vrms prms
done
echo
echo "(\"-\": hv emulates no disk controller for its guests, only the UART among these;"
echo " virtio is virtio-mmio's console and block devices, PV is include/hvkit/pv.h's"
echo " console ring and PV block ring.)"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
