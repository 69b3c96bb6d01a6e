#!/usr/bin/env bash
# Why paravirtual devices exist, measured by hv itself: the guest pvcon
# prints the same 64 KiB of text (1024 lines of 64 bytes) once through the
# 16550 UART (mode=uart) and once through the PV console ring (mode=pv), in
# two runs, under QEMU+SVM and under Bochs+VT-x.  Per machine:
#   - both runs end with code 0 and print the same 1024 lines, in order
#     (the UART's output is the oracle for the ring's);
#   - hv's exit statistics ("[hv]   total N", printed at the end of every
#     run) for the PV run are below a tenth of the UART run's;
#   - hv's own count of the ring's traffic ("pv: console 65536 bytes in N
#     notifications") says the bytes went through the ring, in batches.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/pvcon.elf
BYTES=65536
LINES=$((BYTES / 64))
TIMEOUT=${GUEST_TIMEOUT:-300}
skip_all_if "$(built_missing "$HV" "$G")" "pv: qemu-svm" "pv: bochs-vmx"

# total LOG: hv's exit total at the end of a run (hv's lines are hvrun's
# stderr).
total() { sed -n 's/^\[hv\]   total *\([0-9]*\)$/\1/p' "$1"; }

# one_machine LABEL LAUNCHER-ARGS...: both runs on one machine, judged.
one_machine() {
    local label=$1 m
    shift
    for m in uart pv; do
        run_logged "$W/$label.$m.out" "$W/$label.$m.err" "$W/$label.$m.st" \
            "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" "$@" -kernel "$G" \
            -append "mode=$m bytes=$BYTES"
        grep '^pvcon [0-9]' "$W/$label.$m.out" >"$W/$label.$m.lines"
    done
    local u p n
    u=$(total "$W/$label.uart.err")
    p=$(total "$W/$label.pv.err")
    n=$(wc -l <"$W/$label.pv.lines")
    if [ "$(cat "$W/$label.uart.st")" != 0 ] || [ "$(cat "$W/$label.pv.st")" != 0 ]; then
        fail "pv: $label" "exit statuses $(cat "$W/$label.uart.st") (uart) and $(cat "$W/$label.pv.st") (pv), want 0"
        show_log "$W/$label.pv.err"
    elif [ "$n" -ne "$LINES" ] || ! cmp -s "$W/$label.uart.lines" "$W/$label.pv.lines"; then
        fail "pv: $label" "the PV console printed $n lines, the UART $(wc -l <"$W/$label.uart.lines"); want the same $LINES"
    elif [ -z "$u" ] || [ -z "$p" ] || [ $((p * 10)) -ge "$u" ]; then
        fail "pv: $label" "exits: ${p:-none} through the PV console, ${u:-none} through the UART; want fewer than a tenth"
    elif ! grep -q "^\[hv\] pv: console $BYTES bytes in [0-9]* notifications" "$W/$label.pv.err"; then
        fail "pv: $label" "hv did not report $BYTES bytes through the ring"
        show_log "$W/$label.pv.err"
    else
        pass "pv: $label: $BYTES bytes, same $LINES lines; $u exits through the UART, $p through the PV console"
    fi
}

run_case qemu one_machine qemu-svm
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip "pv: bochs-vmx" "$why"
else
    run_case bochs one_machine bochs-vmx --emulator bochs --vendor vmx -m 32M
fi
finish_cases
