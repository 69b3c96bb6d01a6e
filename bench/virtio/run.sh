#!/usr/bin/env bash
# What virtio saves: exits per KiB of console output and disk throughput
# (a benchmark, not a test; it prints numbers and never fails on them).
#
# Usage: bench/virtio/run.sh [--quick] [--reps R] [--mib N] [--wait WAITS] [--only COLUMNS]
#   WAITS: comma-separated of poll, ioapic (how the guest waits; default both)
#   COLUMNS: comma-separated of hv-qemu-svm, hv-bochs-vmx, qemu-microvm
#            (default hv-qemu-svm,qemu-microvm)
#   --quick: one repetition, 1 MiB of disk data, poll only (a first look)
#
# Every column runs the same guest, guestkit/tests/vbench.c, with the same
# arguments `mib=N wait=W`, on a fresh copy of the same empty qcow2 image
# of N MiB: under hv (bin/hvrun -drive ... -device virtio-serial-device)
# on QEMU+SVM or on Bochs+VMX, and on plain QEMU's microvm machine with
# QEMU's own virtio-mmio devices (bin/qemu-guest -drive ...), the reference.
# The guest writes N MiB in 64 KiB requests, flushes, reads them back, and
# times both with its TSC (calibrated against the PIT); under hv it also
# asks hv how many VM exits it took (HC_EXIT_COUNT) around each part, and
# writes 1 KiB through the UART (COM1) and 1 KiB through virtio-console.
# On plain QEMU there is no hypervisor below the guest and so no exit to
# count: its cells show "-".  The notifications row counts the driver's
# writes to QueueNotify, which are exits under any hypervisor.
# Runs of the columns alternate, R times each; each cell is the median.
# Bochs's clock is its own emulated time, so its MB/s are not comparable
# with QEMU's; its exit counts are.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
. "$TOP/bench/lib/vbench.bash"
reps=3 mib=8 waits=poll,ioapic columns=hv-qemu-svm,qemu-microvm
while [ $# -gt 0 ]; do
    case $1 in
    --quick) reps=1 mib=1 waits=poll ;;
    --reps) reps=$2; shift ;;
    --mib) mib=$2; shift ;;
    --wait) waits=$2; shift ;;
    --only) columns=$2; shift ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
IFS=, read -ra wait_list <<<"$waits"
IFS=, read -ra column_list <<<"$columns"
for w in "${wait_list[@]}"; do
    case $w in poll | ioapic) ;; *) echo "run.sh: unknown wait '$w' (poll or ioapic)" >&2; exit 2 ;; esac
done
for c in "${column_list[@]}"; do
    case $c in
    hv-qemu-svm | hv-bochs-vmx | qemu-microvm) ;;
    *) echo "run.sh: unknown column '$c' (see --help)" >&2; exit 2 ;;
    esac
done
vbench_positive --reps "$reps"
vbench_positive --mib "$mib"

# hv and the guest, quietly; then one empty image that every run copies.
vbench_prepare virtio

# run COLUMN WAIT: one run of vbench in COLUMN (vbench_run), waiting the
# WAIT way; none of the guest's tests may fail.
run() {
    vbench_run "$1" "mib=$mib wait=$2" '^SUMMARY: .* 0 unexpected failures' \
        "mib=$mib wait=$2 in $1"
}

# The numbers of one run, as "KEY VALUE" lines: write and read MB/s and
# exits, notifications, and console exits per KiB (UART, virtio).
numbers() {
    sed -nE \
        -e 's/^    disk write\+flush: [0-9]+ bytes in [0-9]+ ms, ([0-9.]+) MB\/s$/wmbs \1/p' \
        -e 's/^    disk read: [0-9]+ bytes in [0-9]+ ms, ([0-9.]+) MB\/s$/rmbs \1/p' \
        -e 's/^    disk write\+flush: ([0-9]+) exits, .*/wexits \1/p' \
        -e 's/^    disk read: ([0-9]+) exits, .*/rexits \1/p' \
        -e 's/^    disk: [0-9]+ requests, ([0-9]+) notifications$/notes \1/p' \
        -e 's/^    console: ([0-9]+) exits per KiB through the UART, ([0-9]+) through virtio-console$/uart \1\nvcon \2/p' \
        "$W/out"
}

# The machine's load as the runs start (the table comes after them).
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A vals=()
for ((r = 1; r <= reps; r++)); do
    for w in "${wait_list[@]}"; do
        for c in "${column_list[@]}"; do
            run "$c" "$w"
            vbench_keep "$c/$w"
        done
    done
done

# cell COLUMN WAIT KEY DIVISOR FORMAT: the median of KEY's values over
# DIVISOR in FORMAT, or "-" where the column has none.
cell() {
    local v
    v=$(vbench_median "${vals[$1/$2/$3]:-}" "$4" "$5")
    echo "${v:--}"
}

declare -A title=([hv-qemu-svm]="hv on QEMU+SVM" [hv-bochs-vmx]="hv on Bochs+VMX"
    [qemu-microvm]="plain QEMU microvm")
echo "virtio benchmark: $(nproc) CPUs, load average $load_start at start;" \
    "vbench mib=$mib, median of $reps run(s) each"
row() {
    printf '| %-50s |' "$1"
    shift
    printf ' %18s |' "$@"
    echo
}
heads=()
for c in "${column_list[@]}"; do heads+=("${title[$c]}"); done
echo
row "measure" "${heads[@]}"
printf '|%s|' "$(printf -- '-%.0s' {1..52})"
for c in "${column_list[@]}"; do printf '%s|' "$(printf -- '-%.0s' {1..20})"; done
echo
# each WAIT LABEL KEY DIVISOR FORMAT: one row, a cell per column.
each() {
    local w=$1 label=$2 key=$3 div=$4 fmt=$5 cells=() c
    for c in "${column_list[@]}"; do cells+=("$(cell "$c" "$w" "$key" "$div" "$fmt")"); done
    row "$w: $label" "${cells[@]}"
}
for w in "${wait_list[@]}"; do
    each "$w" "disk write+flush, MB/s" wmbs 1 %.2f
    each "$w" "disk read, MB/s" rmbs 1 %.2f
    each "$w" "disk write+flush, exits per MiB" wexits "$mib" %.1f
    each "$w" "disk read, exits per MiB" rexits "$mib" %.1f
    each "$w" "disk, QueueNotify writes per MiB moved" notes $((2 * mib)) %.1f
    each "$w" "console via the UART (COM1), exits per KiB" uart 1 %d
    each "$w" "console via virtio-console, exits per KiB" vcon 1 %d
done
echo
echo "(\"-\": nothing to count there: plain QEMU runs the guest with no hypervisor below it,"
echo " and bin/qemu-guest gives it no virtio console.)"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
