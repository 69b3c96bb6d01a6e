#!/usr/bin/env bash
# bench/virtio/run.sh, the virtio benchmark, in its smallest configuration
# (--quick: one run of each column, 1 MiB of disk data): it ends with
# status 0 and prints its table whole, one row per measure with a number in
# every cell that has something to count and "-" in the others.  Only the
# shape: the numbers are the benchmark's business, never a test's.  The
# UART row, which is two exits per byte (a write to the transmit register
# and a read of the line status before it), is the one number checked.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
n="bench/virtio/run.sh --quick"
skip_all_if "$(built_missing "$HV" "$BUILD/guestkit/vbench.elf")" "$n"
for tool in qemu-system-x86_64 qemu-img; do
    command -v "$tool" >/dev/null || skip_all_if "$tool is not installed (bash mk/deps.sh test)" "$n"
done

run_logged "$W/out" "$W/err" "$W/st" "$TOP/bench/virtio/run.sh" --quick
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
missing=
for re in "${want[@]}"; do
    grep -qE -e "$re" "$W/out" || { missing=$re; break; }
done
if [ "$(cat "$W/st")" != 0 ]; then
    fail "$n" "status $(cat "$W/st")"
    show_log "$W/err"
elif [ -n "$missing" ]; then
    fail "$n" "no table row matching /$missing/"
    show_log "$W/out"
elif [ "$(grep -c '^|' "$W/out")" != 9 ]; then
    fail "$n" "the table has $(grep -c '^|' "$W/out") lines, not 9 (a head, a rule, 7 rows)"
    show_log "$W/out"
else
    pass "$n: the table has its 7 rows, numbers where there is something to count"
fi
