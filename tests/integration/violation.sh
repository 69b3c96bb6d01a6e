#!/usr/bin/env bash
# A second-level violation hv cannot serve ends the guest, on every vendor,
# with one message from the core (hv/core/violation.c) that names the
# access, the guest-physical address, the RIP of the instruction and what
# the memory map has there.  The poke guest reads, writes or executes at an
# address of its choosing and first prints the RIP that will do it; hv must
# end it as crashed (bin/hvrun status 127) with exactly that RIP.  Plain QEMU
# is run once as the reference: there the same accesses complete (a PC
# answers unassigned memory), which is the difference hv documents.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/poke.elf
TIMEOUT=${GUEST_TIMEOUT:-60}

# poke_case ID EMULATOR VENDOR OP ADDR VERB WHAT: run "poke OP ADDR" under
# hv and expect "[hv] exit: guest crashed (VERB guest-physical ADDR at rip
# RIP: WHAT)", RIP being what the guest printed.
poke_case() {
    local id=$1 emu=$2 vendor=$3 op=$4 addr=$5 verb=$6 what=$7 rip want got
    run_logged "$W/$id.out" "$W/$id.err" "$W/$id.st" "$TOP/bin/hvrun" --emulator "$emu" \
        --vendor "$vendor" --hv "$HV" --timeout "$TIMEOUT" -kernel "$G" -append "$op $addr"
    rip=$(sed -n "s/^poke: $op at .* by rip \(0x[0-9a-f]*\)$/\1/p" "$W/$id.out")
    want="[hv] exit: guest crashed ($verb guest-physical $addr at rip $rip: $what)"
    got=$(grep '^\[hv\] exit: ' "$W/$id.err" | tail -n 1)
    if [ -z "$rip" ]; then
        fail "$id" "the guest did not say which RIP would make the access"
        show_log "$W/$id.out"
    elif [ "$(cat "$W/$id.st")" != 127 ]; then
        fail "$id" "hvrun status $(cat "$W/$id.st"), want 127 (guest crashed)"
        show_log "$W/$id.err"
    elif [ "$got" != "$want" ]; then
        fail "$id" "last line '$got', want '$want'"
    elif grep -q "^poke: \(read [0-9a-fx]*$\|wrote\|returned\)" "$W/$id.out"; then
        fail "$id" "the guest went on after the access"
    else
        pass "$id"
    fi
}

skip_all_if "$(built_missing "$G" "$HV")" violation

# The reference: on a PC the read completes.
run_logged "$W/plain.out" "$W/plain.err" "$W/plain.st" "$TOP/bin/qemu-guest" \
    --timeout "$TIMEOUT" -kernel "$G" -append "read 0xd0000000"
if [ "$(cat "$W/plain.st")" = 0 ] && grep -q '^poke: read [0-9a-fx]*$' "$W/plain.out"; then
    pass "plain QEMU: a read of unassigned memory completes"
else
    fail "plain QEMU: a read of unassigned memory completes" "status $(cat "$W/plain.st")"
    show_log "$W/plain.out"
fi

run_case svm-read poke_case svm-read qemu svm read 0xd0000000 "read from" \
    "nothing there, outside the memory map"
run_case svm-write poke_case svm-write qemu svm write 0xfffc0000 "wrote to" \
    "nothing there, the reserved firmware flash range"
run_case svm-exec poke_case svm-exec qemu svm exec 0xd0000000 "executed at" \
    "nothing there, outside the memory map"
# VT-x: the same message from an EPT violation (Bochs).
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip vmx-read "$why"
else
    run_case vmx-read poke_case vmx-read bochs vmx read 0xd0000000 "read from" \
        "nothing there, outside the memory map"
fi
finish_cases
