#!/usr/bin/env bash
# NMIs for the guest (hv/core/nmi.c, svm/nmi.c, vmx/nmi.c): the nmi guest
# (guestkit/tests/nmi.c) takes the machine's NMI button in five phases,
# each announced by a line: spinning with IF=1, spinning with IF=0, halted
# with IF=0 (the NMI wakes it), inside the handler of an NMI while a second
# one is sent (held until the handler's IRET, never nested), and stopped
# with two presses, then continued (one NMI).  The reference is plain QEMU
# with its monitor's `nmi`.  Under hv the same buttons come from each
# front-end: the control protocol's inject-nmi (bin/hvctl) on QEMU+SVM,
# hvkit's monitor (`bin/hvrun -monitor unix:...`, its `nmi`, which sends
# inject-nmi) on QEMU+SVM, Bochs+VMX and Bochs+SVM (where hv's own
# time-slice NMIs, the watchdog's, run beside the guest's injected ones),
# `xl trigger DOMAIN nmi` (with pause, unpause, trigger power) and
# `virsh inject-nmi` (with suspend, resume, shutdown).  Every
# run must print the same lines and end with code 0.  Then the front-ends'
# refusals: xl trigger to a vCPU the domain lacks, virsh inject-nmi on an
# inactive domain and an unknown one, against the real virsh's words on
# libvirt's test driver.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/virsh.bash"

W=$IT_WORK
G=$BUILD/guestkit/nmi.elf
TIMEOUT=${GUEST_TIMEOUT:-240}

# wait_line FILE TEXT: until FILE has a line matching TEXT (up to the
# time limit); false if it never comes.
wait_line() { wait_for "$1" "$2" "$TIMEOUT"; }

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
    qemu_monitor_start "$W/plain.out" "$W/plain.mon" -kernel "$G"
    drive "$W/plain.out" plain_send
    wait "$QEMU_PID"
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

# same_lines ID OUT ERR STATUS: the verdict on a run under hv: status 0, no
# refused request (ERR empty), and the guest's lines in OUT (its "nmi: "
# lines: a domain's log has hv's too) those plain QEMU printed.
same_lines() {
    local id=$1 out=$2 err=$3 st=$4
    if [ "$st" != 0 ] || [ -s "$err" ] || ! cmp -s <(grep '^nmi: ' "$out") "$W/plain.out"; then
        fail "$id" "status $st (want 0), refused requests '$(tr '\n' ' ' <"$err")'; the lines plain QEMU printed"
        diff "$W/plain.out" <(grep '^nmi: ' "$out") | head -n 20 | sed 's/^/    /'
        show_log "$out"
    else
        pass "$id"
    fi
}

# hmp_send CMD: hvkit's monitor, a socat client of its socket on fd 4;
# QEMU's commands, which answer nothing when they succeed.
hmp_send() {
    case $1 in
    powerdown) echo system_powerdown >&4 ;;
    *) echo "$1" >&4 ;;
    esac
    sleep 0.3
}

# hmp_case ID EMULATOR VENDOR: the guest under `bin/hvrun -monitor
# unix:PATH,server,nowait`, the buttons pressed with the monitor's
# commands; no answer may be an error.
hmp_case() {
    local id=$1 d=$W/$1 i
    mkdir -p "$d"
    "$TOP/bin/hvrun" --emulator "$2" --vendor "$3" --hv "$HV" --timeout "$TIMEOUT" -m 128M \
        -monitor "unix:$d/mon.sock,server,nowait" -kernel "$G" >"$d/out" 2>"$d/err" </dev/null &
    local run=$!
    for ((i = 0; i < 600; i++)); do
        [ -S "$d/mon.sock" ] && break
        sleep 0.2
    done
    mkfifo "$d/mon.in"
    socat - "UNIX-CONNECT:$d/mon.sock" <"$d/mon.in" >"$d/mon.out" 2>&1 &
    exec 4>"$d/mon.in"
    drive "$d/out" hmp_send
    wait "$run"
    local st=$?
    exec 4>&-
    grep -i 'error' "$d/mon.out" >"$d/refused"
    same_lines "$id" "$d/out" "$d/refused" "$st"
}

# xl_send CMD: xl(1)'s commands on domain n1 of the registry $HVKIT_STATE_DIR.
xl_send() {
    local r
    case $1 in
    nmi) r=$("$TOP/bin/xl" trigger n1 nmi 2>&1) ;;
    powerdown) r=$("$TOP/bin/xl" trigger n1 power 2>&1) ;;
    stop) r=$("$TOP/bin/xl" pause n1 2>&1) ;;
    cont) r=$("$TOP/bin/xl" unpause n1 2>&1) ;;
    esac || echo "xl $1: $r" >>"$SENT_ERR"
}

# xl_case ID: the guest as an xl domain (QEMU+SVM), the buttons pressed
# with xl; first a trigger to a vCPU it lacks, refused (no NMI sent).
xl_case() {
    local id=$1 d=$W/$1 r st
    mkdir -p "$d/st"
    : >"$d/sent"
    export HVKIT_STATE_DIR=$d/st HVKIT_TOP=$TOP
    printf 'name = "n1"\nkernel = "%s"\nmemory = 128\n' "$G" >"$d/n1.cfg"
    "$TOP/bin/xl" create "$d/n1.cfg" >"$d/create" 2>&1 || echo "xl create: $(cat "$d/create")" >>"$d/sent"
    local log=$d/st/running/n1.log
    wait_line "$log" '^nmi: phase 1:'
    r=$("$TOP/bin/xl" trigger n1 nmi 3 2>&1)
    st=$?
    if [ "$st" = 0 ] &&
        [ "$r" = "libxl: error: Domain 1:Send trigger 'nmi' failed: domain 0 has no CPU 3 (it has 1)" ]; then
        pass "$id: a trigger to a vCPU the domain lacks is refused"
    else
        fail "$id: a trigger to a vCPU the domain lacks is refused" "status $st, '$r'"
    fi
    SENT_ERR=$d/sent drive "$log" xl_send
    # The guest ends with code 0 and its domain (on_poweroff=destroy) goes.
    local i
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        [ -e "$d/st/running/n1.sock" ] || break
        sleep 0.2
    done
    same_lines "$id" "$log" "$d/sent" "$([ -e "$d/st/running/n1.sock" ] && echo running || echo 0)"
}

# virsh_send CMD: virsh's commands on domain n2; inject-nmi answers with
# the empty line alone, as the real virsh does.
virsh_send() {
    local r
    case $1 in
    nmi)
        r=$("$BUILD/mgmt/virsh" inject-nmi n2 2>&1) && [ -z "$r" ] ;;
    powerdown) r=$("$BUILD/mgmt/virsh" shutdown n2 2>&1) ;;
    stop) r=$("$BUILD/mgmt/virsh" suspend n2 2>&1) ;;
    cont) r=$("$BUILD/mgmt/virsh" resume n2 2>&1) ;;
    esac || echo "virsh $1: $r" >>"$SENT_ERR"
}

# virsh_case ID: the guest as a libvirt domain created from XML (QEMU+SVM),
# the buttons pressed with virsh.
virsh_case() {
    local id=$1 d=$W/$1 i
    mkdir -p "$d/st"
    : >"$d/sent"
    export HVKIT_STATE_DIR=$d/st HVKIT_TOP=$TOP
    cat >"$d/n2.xml" <<XML
<domain type='kvm'>
  <name>n2</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='x86_64'>hvm</type><kernel>$G</kernel></os>
</domain>
XML
    "$BUILD/mgmt/virsh" create "$d/n2.xml" >"$d/create" 2>&1 ||
        echo "virsh create: $(cat "$d/create")" >>"$d/sent"
    local log=$d/st/running/n2.log
    SENT_ERR=$d/sent drive "$log" virsh_send
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        [ -e "$d/st/running/n2.sock" ] || break
        sleep 0.2
    done
    same_lines "$id" "$log" "$d/sent" "$([ -e "$d/st/running/n2.sock" ] && echo running || echo 0)"
}

# virsh inject-nmi's refusals, against the real virsh on the test driver:
# an inactive domain (real: its "test" destroyed first; hvkit: one only
# defined), and a domain that does not exist.
virsh_refusals() {
    export HVKIT_STATE_DIR=$W/refusals/st
    mkdir -p "$HVKIT_STATE_DIR" "$W/refusals/hv"
    sed 's/<name>n2</<name>test</' "$W/virsh-nmi/n2.xml" >"$W/refusals/hv/test.xml"
    (cd "$W/refusals/hv" && "$BUILD/mgmt/virsh" define test.xml >/dev/null 2>&1)
    VIRSH=$BUILD/mgmt/virsh HV_DIR=$W/refusals/hv
    virsh_same inject-nmi-inactive "destroy test; inject-nmi test" "inject-nmi test" 2 cat cat
    virsh_same inject-nmi-unknown "inject-nmi nosuch" "inject-nmi nosuch" 0 cat cat
}

skip_all_if "$(built_missing "$G" "$HV" "$BUILD/mgmt/hvctl" "$BUILD/mgmt/virsh")" plain-qemu \
    svm-ctl-nmi svm-hmp-nmi vmx-hmp-nmi xl-trigger-nmi virsh-nmi
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
run_case svm-hmp-nmi hmp_case svm-hmp-nmi qemu svm
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip vmx-hmp-nmi "$why"
    skip bochs-svm-hmp-nmi "$why"
else
    run_case vmx-hmp-nmi hmp_case vmx-hmp-nmi bochs vmx
    run_case bochs-svm-hmp-nmi hmp_case bochs-svm-hmp-nmi bochs svm
fi
run_case xl-trigger-nmi xl_case xl-trigger-nmi
run_case virsh-nmi virsh_case virsh-nmi
finish_cases
why=$(real_virsh_missing)
if [ -n "$why" ]; then
    skip "virsh: inject-nmi's refusals" "$why"
else
    virsh_refusals
fi
