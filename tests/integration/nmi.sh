#!/usr/bin/env bash
# NMIs for the guest (hv/core/nmi.c, svm/nmi.c, the VT-x backend's virtual
# NMIs): the nmi guest (guestkit/tests/nmi.c) takes the machine's NMI
# button in five phases, each announced by a line: spinning with IF=1,
# spinning with IF=0, halted with IF=0 (the NMI wakes it), inside the
# handler of an NMI while a second one is sent (held until the handler's
# IRET, never nested), and stopped with two presses, then continued (one
# NMI).  The reference is plain QEMU with its monitor's `nmi`; under hv the
# button is the control protocol's inject-nmi (bin/hvctl) on QEMU+SVM and
# Bochs+VMX.  Every run must print the same lines and end with code 0.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/nmi.elf
TIMEOUT=${GUEST_TIMEOUT:-240}

# wait_line FILE TEXT: until FILE has a line matching TEXT (up to the
# time limit); false if it never comes.
wait_line() {
    local i
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# drive CONSOLE SEND: the five phases, SEND nmi|powerdown|stop|cont
# pressing the buttons; false when an announced line does not come.
drive() {
    local out=$1 send=$2
    wait_line "$out" '^nmi: phase 1:' && "$send" nmi &&
        wait_line "$out" '^nmi: phase 2:' && "$send" nmi &&
        wait_line "$out" '^nmi: phase 3: HLT' &&
        # The guest prints the line and halts: give it the moment to get
        # there (an NMI just before its HLT would leave it halted).
        sleep 1 && "$send" nmi &&
        wait_line "$out" '^nmi: phase 4:' && "$send" nmi &&
        wait_line "$out" '^nmi: NMI 4 waits in its handler' && "$send" nmi &&
        "$send" powerdown &&
        wait_line "$out" '^nmi: phase 5:' && "$send" stop && "$send" nmi && "$send" nmi &&
        "$send" cont
}

# plain_send CMD: QEMU's monitor on fd 3.
plain_send() {
    case $1 in
    powerdown) echo system_powerdown >&3 ;;
    *) echo "$1" >&3 ;;
    esac
    # The monitor reads its input as it comes: keep the commands apart.
    sleep 0.3
}

# plain_qemu: the guest on the reference machine (bin/hvrun.d/qemu.sh's
# machine), its monitor on a FIFO.
plain_qemu() {
    local fifo=$W/monitor.in
    # shellcheck source=../../bin/hvrun.d/qemu.sh
    . "$TOP/bin/hvrun.d/qemu.sh"
    qemu_machine_args
    # The same machine with the serial console in a file: stdio is the
    # monitor's.
    local args=() a
    for a in "${QEMU_ARGS[@]}"; do
        [ "$a" = stdio ] && a=file:$W/plain.out
        args+=("$a")
    done
    rm -f "$fifo"
    mkfifo "$fifo"
    : >"$W/plain.out"
    timeout -k 5 "$TIMEOUT" "$HVRUN_QEMU" "${args[@]}" -m 128M -monitor stdio -kernel "$G" \
        <"$fifo" >"$W/plain.mon" 2>&1 &
    local pid=$!
    exec 3>"$fifo"
    drive "$W/plain.out" plain_send
    wait "$pid"
    echo $? >"$W/plain.st"
    exec 3>&-
}

# ctl_send CMD: the control protocol, through the manager's socket $SOCK.
ctl_send() {
    local cmd=$1 r
    case $1 in
    nmi) cmd=inject-nmi ;;
    powerdown) cmd=system_powerdown ;;
    esac
    r=$("$BUILD/mgmt/hvctl" -s "$SOCK" --timeout 120 "$cmd" 2>&1)
    [ "$r" = '{"return": {}}' ] || echo "$cmd: $r" >>"$SENT_ERR"
}

# ctl_case ID EMULATOR VENDOR: the guest under hv with a control channel,
# the buttons pressed through it.
ctl_case() {
    local id=$1 d=$W/$1
    mkdir -p "$d"
    : >"$d/out"
    : >"$d/sent"
    "$TOP/bin/hvrun" --emulator "$2" --vendor "$3" --hv "$HV" --timeout "$TIMEOUT" -m 128M \
        --control "$d/ctl.sock" -kernel "$G" >"$d/out" 2>"$d/err" </dev/null &
    local run=$!
    SOCK=$d/ctl.sock SENT_ERR=$d/sent drive "$d/out" ctl_send
    wait "$run"
    local st=$?
    if [ "$st" != 0 ] || [ -s "$d/sent" ] || ! cmp -s "$d/out" "$W/plain.out"; then
        fail "$id" "hvrun status $st (want 0), refused requests '$(tr '\n' ' ' <"$d/sent")'; the lines plain QEMU printed"
        diff "$W/plain.out" "$d/out" | head -n 20 | sed 's/^/    /'
        show_log "$d/err"
    else
        pass "$id"
    fi
}

skip_all_if "$(built_missing "$G" "$HV" "$BUILD/mgmt/hvctl")" plain-qemu svm-ctl-nmi vmx-ctl-nmi
plain_qemu
# QEMU ends with (0 << 1) | 1 = 1 when the guest's code is 0; the last line
# says six NMIs came and none nested.
if [ "$(cat "$W/plain.st")" = 1 ] && grep -qx 'nmi: 6 NMIs, at most 1 deep' "$W/plain.out"; then
    pass "plain QEMU: the monitor's nmi reaches the guest in every phase"
else
    fail "plain QEMU: the monitor's nmi reaches the guest in every phase" \
        "QEMU status $(cat "$W/plain.st")"
    show_log "$W/plain.out"
    show_log "$W/plain.mon"
    exit 0
fi
run_case svm-ctl-nmi ctl_case svm-ctl-nmi qemu svm
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip vmx-ctl-nmi "$why"
else
    run_case vmx-ctl-nmi ctl_case vmx-ctl-nmi bochs vmx
fi
finish_cases
