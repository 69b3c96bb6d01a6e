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
# And PV block on the disk virtio-blk serves: the guest pvblk writes vblk's
# pattern over a fresh 4 MiB qcow2 disk through the PV ring, reads it back
# through the ring and through virtio-blk, and tries the hostile requests;
# then on the host `qemu-img check` must find the image clean and `qemu-img
# compare` must find exactly the pattern (built here by perl from the rule
# in guestkit/tests/pvblk.c).
# And the balloon with a target below RAM (hvrun --balloon): the guest
# pvballoon gives pages back until it has the target, hv's closing line
# "pv-balloon: N KiB given back of M KiB, target T KiB" must say N = M - T;
# with "touch" the guest then reads a page it gave back, and hv must end it
# as crashed, naming the page as given back with the balloon.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/pvcon.elf
GB=$BUILD/guestkit/pvblk.elf
GL=$BUILD/guestkit/pvballoon.elf
BYTES=65536
LINES=$((BYTES / 64))
TIMEOUT=${GUEST_TIMEOUT:-300}
skip_all_if "$(built_missing "$HV" "$G" "$GB" "$GL")" "pv: qemu-svm" "pv: bochs-vmx" \
    "pv-blk: qemu-svm" "pv-blk: bochs-vmx" "pv-balloon: qemu-svm" "pv-balloon: bochs-vmx"

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

# blk_machine LABEL LAUNCHER-ARGS...: pvblk on a fresh disk, then the
# image judged by qemu-img.
blk_machine() {
    local label=$1 img=$W/$1.blk.qcow2
    shift
    qemu-img create -q -f qcow2 "$img" 4M
    run_logged "$W/$label.blk.out" "$W/$label.blk.err" "$W/$label.blk.st" \
        "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" "$@" -kernel "$GB" \
        -append "sectors=8192" -drive "file=$img,format=qcow2,if=virtio"
    perl -e 'for my $s (0 .. 8191) { print sprintf("sector %08x\n", $s) x 32 }' >"$W/$label.expected"
    if [ "$(cat "$W/$label.blk.st")" != 0 ] || grep -q '^FAIL' "$W/$label.blk.out" ||
        ! grep -q '^SUMMARY: 10 tests, 0 unexpected failures, 0 skipped' "$W/$label.blk.out"; then
        fail "pv-blk: $label" "the guest failed (status $(cat "$W/$label.blk.st"))"
        show_log "$W/$label.blk.out" 25
    elif ! qemu-img check -q "$img" >"$W/$label.check" 2>&1; then
        fail "pv-blk: $label" "qemu-img check finds the image not clean"
        show_log "$W/$label.check"
    elif ! qemu-img compare -q -f raw -F qcow2 "$W/$label.expected" "$img"; then
        fail "pv-blk: $label" "qemu-img compare: the image is not the pattern"
    else
        pass "pv-blk: $label: pattern written and read through the ring, read through virtio-blk, hostile requests refused; qemu-img check clean, compare finds the pattern"
    fi
}

# balloon_machine LABEL RAM-MIB TARGET-MIB LAUNCHER-ARGS...: inflate to the
# target, then the touch run.
balloon_machine() {
    local label=$1 ram=$2 target=$3
    shift 3
    local args=(--hv "$HV" --timeout "$TIMEOUT" "$@" -m "${ram}M" --balloon "${target}M" -kernel "$GL")
    run_logged "$W/$label.bal.out" "$W/$label.bal.err" "$W/$label.bal.st" "$TOP/bin/hvrun" "${args[@]}"
    run_logged "$W/$label.touch.out" "$W/$label.touch.err" "$W/$label.touch.st" "$TOP/bin/hvrun" \
        "${args[@]}" -append touch
    local want="pv-balloon: $(((ram - target) * 1024)) KiB given back of $((ram * 1024)) KiB, target $((target * 1024)) KiB"
    if [ "$(cat "$W/$label.bal.st")" != 0 ] || grep -q '^FAIL' "$W/$label.bal.out"; then
        fail "pv-balloon: $label" "the guest failed (status $(cat "$W/$label.bal.st"))"
        show_log "$W/$label.bal.out"
    elif ! grep -qF "[hv] $want" "$W/$label.bal.err"; then
        fail "pv-balloon: $label" "hv did not say '$want'"
        show_log "$W/$label.bal.err"
    elif [ "$(cat "$W/$label.touch.st")" != 127 ] ||
        ! grep -q 'exit: guest crashed (read from guest-physical 0x800008 .*: a page the guest gave back with the balloon' "$W/$label.touch.err"; then
        fail "pv-balloon: $label" "touching a page given back: status $(cat "$W/$label.touch.st"), want 127 and hv naming the page"
        show_log "$W/$label.touch.err"
    else
        pass "pv-balloon: $label: ${ram} MiB guest inflated to ${target} MiB ($want); touching a page given back ends it, named"
    fi
}

run_case qemu one_machine qemu-svm
run_case qemu-bal balloon_machine qemu-svm 64 48
run_case qemu-blk blk_machine qemu-svm
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip "pv: bochs-vmx" "$why"
    skip "pv-blk: bochs-vmx" "$why"
    skip "pv-balloon: bochs-vmx" "$why"
else
    run_case bochs one_machine bochs-vmx --emulator bochs --vendor vmx -m 32M
    run_case bochs-blk blk_machine bochs-vmx --emulator bochs --vendor vmx -m 32M
    run_case bochs-bal balloon_machine bochs-vmx 32 24 --emulator bochs --vendor vmx
fi
finish_cases
