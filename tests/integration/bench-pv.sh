#!/usr/bin/env bash
# bench/pv/run.sh, the PV benchmark, in its smallest configuration
# (--quick: one run, 1 MiB of disk data): it ends with status 0 and prints
# its table whole, a number in every cell that has something to count and
# "-" in the emulated column's disk rows.  Only the shape: the numbers are
# the benchmark's business, never a test's -- except two that are facts,
# not speeds: the UART costs two exits per byte (a write to the transmit
# register and a read of the line status before it), and the PV console
# ring costs fewer than a tenth of that (one notification per ring-full).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/bench.bash"

bench_quick pv/run.sh
num='[0-9]+(\.[0-9]+)?'
# row LABEL EMULATED VIRTIO PV: the regex of one table row.
row() {
    printf '^\\| %s +\\| +%s \\| +%s \\| +%s \\|$' "$1" "$2" "$3" "$4"
}
want=(
    '^\| hv on QEMU\+SVM +\| +emulated \(UART\) \| +virtio \| +PV \(hvkit ABI\) \|$'
    "$(row 'console, exits per KiB' '20[0-9][0-9]' '[0-9]+' '[0-9]+')"
    "$(row 'console, microseconds per KiB' '[0-9]+' '[0-9]+' '[0-9]+')"
    "$(row 'disk write\+flush, exits per MiB' - "$num" "$num")"
    "$(row 'disk write\+flush, ms per MiB' - "$num" "$num")"
    "$(row 'disk read, exits per MiB' - "$num" "$num")"
    "$(row 'disk read, ms per MiB' - "$num" "$num")"
)
read -r uart pv < <(sed -nE 's/^\| console, exits per KiB +\| +([0-9]+) \| +[0-9]+ \| +([0-9]+) \|$/\1 \2/p' "$W/out")
if bench_table_failed 8 "a head, a rule, 6 rows" "${want[@]}"; then
    :
elif [ $((pv * 10)) -ge "$uart" ]; then
    fail "$n" "the PV console took $pv exits per KiB, not fewer than a tenth of the UART's $uart"
    show_log "$W/out"
else
    pass "$n: the table has its 6 rows; $uart exits per KiB through the UART, $pv through the PV console ring"
fi
