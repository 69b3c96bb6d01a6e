#!/usr/bin/env bash
# bench/virtio/run.sh, the virtio benchmark, in its smallest configuration
# (--quick: one run of each column, 1 MiB of disk data): it ends with
# status 0 and prints its table whole, one row per measure with a number in
# every cell that has something to count and "-" in the others.  Only the
# shape: the numbers are the benchmark's business, never a test's.  The
# UART row, which is two exits per byte (a write to the transmit register
# and a read of the line status before it), is the one number checked.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/bench.bash"

bench_quick virtio/run.sh
num='[0-9]+(\.[0-9]+)?'
# row LABEL HV QEMU: the regex of one table row.
row() {
    printf '^\\| poll: %s +\\| +%s \\| +%s \\|$' "$1" "$2" "$3"
}
want=(
    '^\| measure +\| +hv on QEMU\+SVM \| plain QEMU microvm \|$'
    "$(row 'disk write\+flush, MB/s' "$num" "$num")"
    "$(row 'disk read, MB/s' "$num" "$num")"
    "$(row 'disk write\+flush, exits per MiB' "$num" -)"
    "$(row 'disk read, exits per MiB' "$num" -)"
    "$(row 'disk, QueueNotify writes per MiB moved' "$num" "$num")"
    "$(row 'console via the UART \(COM1\), exits per KiB' '20[0-9][0-9]' -)"
    "$(row 'console via virtio-console, exits per KiB' '[0-9]+' -)"
)
if ! bench_table_failed 9 "a head, a rule, 7 rows" "${want[@]}"; then
    pass "$n: the table has its 7 rows, numbers where there is something to count"
fi
