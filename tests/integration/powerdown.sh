#!/usr/bin/env bash
# The power button (hv/dev/acpi_pm.h, domain_request_powerdown()): the
# powerbtn guest switches the machine into ACPI mode, enables the
# fixed-feature power button and waits in HLT; a press raises the SCI and
# the guest powers off.  The reference is plain QEMU, whose monitor command
# system_powerdown presses the button of its PIIX4; under hv the press is
# the control protocol's system_powerdown (bin/hvrun --control, bin/hvctl:
# QEMU+SVM) or hv's scripted powerdown-after= (bin/hvrun --powerdown-after:
# QEMU+SVM and Bochs+VMX), both domain_request_powerdown().  All must print
# the same lines and end with code 0; a guest that is never pressed waits
# until the time limit (hvrun 124), so the press is what ends it.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/powerbtn.elf
TIMEOUT=${GUEST_TIMEOUT:-120}

# plain_qemu: the guest on the reference machine (bin/hvrun.d/qemu.sh's
# machine), its monitor on a FIFO; system_powerdown once the guest waits.
plain_qemu() {
    qemu_monitor_start "$W/plain.out" "$W/plain.mon" -kernel "$G"
    wait_for "$W/plain.out" 'waiting for the power button' 120
    echo system_powerdown >&3
    wait "$QEMU_PID"
    echo $? >"$W/plain.st"
    exec 3>&-
}

# hv_case ID EMULATOR VENDOR: the same guest under hv, pressed after 500 ms.
hv_case() {
    local id=$1
    run_logged "$W/$id.out" "$W/$id.err" "$W/$id.st" "$TOP/bin/hvrun" --emulator "$2" \
        --vendor "$3" --hv "$HV" --timeout "$TIMEOUT" -m 32M --powerdown-after 500 -kernel "$G"
    if [ "$(cat "$W/$id.st")" != 0 ] || ! cmp -s "$W/$id.out" "$W/plain.out" ||
        ! grep -qx '\[hv\] domain 0: power button pressed (powerdown-after=500)' "$W/$id.err"; then
        fail "$id" "status $(cat "$W/$id.st") (want 0) and the lines plain QEMU printed"
        show_log "$W/$id.out"
        show_log "$W/$id.err"
    else
        pass "$id"
    fi
}

# ctl_case ID: the press through the control channel, once the guest waits.
ctl_case() {
    local id=$1 d=$W/$1 i r
    mkdir -p "$d"
    "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" -m 32M --control "$d/ctl.sock" -kernel "$G" \
        >"$d/out" 2>"$d/err" </dev/null &
    local run=$!
    for i in $(seq 600); do
        grep -q 'waiting for the power button' "$d/out" && break
        sleep 0.2
    done
    r=$("$BUILD/mgmt/hvctl" -s "$d/ctl.sock" --timeout 120 system_powerdown 2>&1)
    wait "$run"
    local st=$?
    if [ "$r" != '{"return": {}}' ] || [ "$st" != 0 ] || ! cmp -s "$d/out" "$W/plain.out"; then
        fail "$id" "system_powerdown said '$r'; hvrun status $st (want 0) and plain QEMU's lines"
        show_log "$d/out"
        show_log "$d/err"
    else
        pass "$id"
    fi
}

skip_all_if "$(built_missing "$G" "$HV" "$BUILD/mgmt/hvctl")" powerdown
plain_qemu
# QEMU ends with (0 << 1) | 1 = 1 when the guest's code is 0.
if [ "$(cat "$W/plain.st")" = 1 ] &&
    grep -qx 'powerbtn: the power button was pressed: powering off' "$W/plain.out"; then
    pass "plain QEMU: system_powerdown reaches the guest"
else
    fail "plain QEMU: system_powerdown reaches the guest" "QEMU status $(cat "$W/plain.st")"
    show_log "$W/plain.out"
    show_log "$W/plain.mon"
    exit 0
fi
# Unpressed, the guest waits: only the time limit ends it.
run_logged "$W/none.out" "$W/none.err" "$W/none.st" "$TOP/bin/hvrun" --hv "$HV" --timeout 5 \
    -m 32M -kernel "$G"
if [ "$(cat "$W/none.st")" = 124 ] && grep -qx 'powerbtn: waiting for the power button' "$W/none.out" &&
    ! grep -q 'pressed' "$W/none.out"; then
    pass "unpressed, the guest waits"
else
    fail "unpressed, the guest waits" "status $(cat "$W/none.st"), want 124 (the time limit)"
fi
run_case svm-powerdown hv_case svm-powerdown qemu svm
run_case svm-ctl-powerdown ctl_case svm-ctl-powerdown
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip vmx-powerdown "$why"
else
    run_case vmx-powerdown hv_case vmx-powerdown bochs vmx
fi
finish_cases
