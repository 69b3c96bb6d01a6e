#!/usr/bin/env bash
# Management of a domain whose hv does not answer (docs/control-protocol.md
# "When hv does not answer"), on QEMU+SVM: three xl domains (the counter
# guest), and one at a time made unable to answer by stopping its outer
# QEMU with SIGSTOP -- hv cannot answer then, while its manager is alive.
# The managers' limits are short, as the environment allows
# (HVMGR_REPLY_TIMEOUT=3, HVMGR_QUIT_TIMEOUT=2; 60 s and 10 s for users):
#   - xl list and virsh list still list every domain within a bound, the
#     stopped one with its last known state, and xl says on stderr that its
#     hv does not answer;
#   - xl vcpu-set, mem-set and pause on it fail with libxl's "does not
#     answer" error and exit 1 (not "maxcpus is 0", what a missing reply
#     once turned into), virsh suspend with libvirt's internal error;
#     xl vcpu-list and block-list say so instead of listing vCPUs or
#     disks, virsh dominfo answers
#     at once from what is known;
#   - xl destroy ends it: exit 0 and no output, as xl(1); its QEMU and
#     hvrun are gone, its files in the registry too, xl list no longer
#     shows it, and the other domains go on counting;
#   - virsh destroy does the same for the second ("Domain 'r2' destroyed");
#   - for the third, the monitor (bin/hvmon on the domain's socket): its
#     info status says hv does not answer, its quit ends the machine.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
XL=$TOP/bin/xl
VIRSH=$TOP/bin/virsh
HVMON=$TOP/bin/hvmon
G=$BUILD/guestkit/counter.elf
export HVKIT_STATE_DIR=$W/st HVMGR_REPLY_TIMEOUT=3 HVMGR_QUIT_TIMEOUT=2
export VIRSH_DEFAULT_CONNECT_URI=hvkit:///system
S=$HVKIT_STATE_DIR/running

# COMMANDS; verdict NAME: PASS when the commands just before succeeded,
# else FAIL with the last command's output.
verdict() {
    local st=$? id=$1
    if [ "$st" = 0 ]; then pass "$id"; else fail "$id" "$(tail -4 "$W/last" 2>/dev/null | tr '\n' ' ')"; fi
}

# record_pid NAME: the domain's bin/hvrun (its record's pid=).
record_pid() {
    sed -n 's/^pid=//p' "$S/$1" 2>/dev/null
}

# counting NAME: its console log grows by more counts within 30 s.
counting() {
    local n
    n=$(grep -c '^count ' "$S/$1.log")
    wait_for_nth "$S/$1.log" '^count ' $((n + 5)) 30
}

# timed SECONDS COMMAND...: run it (output in $W/last), its status; false
# also when it took SECONDS or more.
timed() {
    local limit=$1 t0 st
    shift
    t0=$SECONDS
    "$@" >"$W/last" 2>&1
    st=$?
    echo "(took $((SECONDS - t0)) s, status $st)" >>"$W/last"
    [ $((SECONDS - t0)) -lt "$limit" ] || return 99
    return $st
}

# gone NAME HVRUN QEMU: the machine's processes and registry files are gone.
gone() {
    ! kill -0 "$2" 2>/dev/null && ! kill -0 "$3" 2>/dev/null &&
        [ -z "$(ls "$S" | grep -e "^$1\$" -e "^$1\.")" ]
}

cleanup() {
    local f p
    for f in "$S"/r?; do
        p=$(record_pid "$(basename "$f")")
        [ -n "$p" ] && kill -CONT -- "-$p" 2>/dev/null && kill -KILL -- "-$p" 2>/dev/null
    done
}
trap cleanup EXIT

why=$( [ -x "$XL" ] && [ -f "$G" ] || echo "build/mgmt or the counter guest is not built")
if [ -n "$why" ]; then
    skip hung-domain "$why"
    exit 0
fi

for d in r1 r2 r3; do
    printf 'name = "%s"\nkernel = "%s"\ncmdline = "1000000"\nmemory = 16\n' "$d" "$G" >"$W/$d.cfg"
    if ! "$XL" create "$W/$d.cfg" >"$W/last" 2>&1 || ! wait_for_nth "$S/$d.log" '^count 3$' 1 120 "$(record_pid "$d")"; then
        fail "create r1 r2 r3" "$d: $(tail -3 "$W/last" "$S/$d.log" 2>/dev/null | tr '\n' ' ')"
        exit 0
    fi
done
# The last known state comes from a listing while hv still answered.
"$XL" list >"$W/last" 2>&1 && [ "$(grep -c '^r[123] ' "$W/last")" = 3 ]
verdict "three domains listed"

id1=$(sed -n 's/^domid=//p' "$S/r1")
run1=$(record_pid r1)
qemu1=$(emulator_of "$run1")
kill -STOP "$qemu1"

# ---- Listing, bounded ------------------------------------------------------
timed 15 "$XL" list && [ "$(grep -c '^r[123] ' "$W/last")" = 3 ] &&
    grep -Eq "^r1 +$id1 +16 +1 +(r-----|-b----) " "$W/last" &&
    grep -q "^libxl: warning: domain $id1: hv in the domain's machine does not answer (.*): its last known state is shown$" "$W/last"
verdict "xl list: the stopped domain with its last known state, within 15 s"
timed 10 "$XL" list && grep -Eq "^r1 +$id1 " "$W/last" && grep -Eq "^r2 .*(r-----|-b----) " "$W/last"
verdict "xl list again: the manager knows hv does not answer, at once"
timed 15 "$VIRSH" list && grep -Eq "^ $id1 +r1 +running$" "$W/last" && grep -Eq " r3 +running$" "$W/last"
verdict "virsh list: the stopped domain with its last known state, within 15 s"

# ---- Commands on it fail clearly ---------------------------------------------
noanswer="libxl: error: domain $id1: hv in the domain's machine does not answer \\(a request has waited [0-9]+ s for it; the machine may be stopped or hung\\)"
timed 15 "$XL" vcpu-set r1 2
[ $? = 1 ] && grep -Eqx "$noanswer" "$W/last" && ! grep -q maxcpus "$W/last"
verdict "xl vcpu-set: libxl's error that hv does not answer, exit 1"
timed 15 "$XL" mem-set r1 12
[ $? = 1 ] && grep -Eqx "$noanswer" "$W/last" &&
    grep -qx "cannot set domid $id1 dynamic max memory to : 12" "$W/last"
verdict "xl mem-set: the same, exit 1"
timed 15 "$XL" pause r1
[ $? = 1 ] && grep -Eqx "libxl: error: domain $id1: stop: hv in the domain's machine does not answer .*" "$W/last"
verdict "xl pause: the same, exit 1"
timed 15 "$VIRSH" suspend r1
[ $? = 1 ] && grep -qx "error: Failed to suspend domain 'r1'" "$W/last" &&
    grep -Eqx "error: internal error: hv in the domain's machine does not answer .*" "$W/last"
verdict "virsh suspend: libvirt's internal error that hv does not answer, exit 1"

timed 10 "$XL" vcpu-list r1
[ $? = 0 ] && grep -Eqx "$noanswer" "$W/last" && ! grep -q '^r1 ' "$W/last"
verdict "xl vcpu-list: no rows made up, libxl's error instead"
timed 10 "$XL" block-list r1
[ $? = 0 ] && grep -Eqx "$noanswer" "$W/last" && [ "$(grep -c '^libxl: error' "$W/last")" = 1 ]
verdict "xl block-list: no disks made up, libxl's error once instead"
timed 10 "$VIRSH" dominfo r1 && grep -Eqx 'State: +running' "$W/last" && grep -Eqx 'Used memory: +16384 KiB' "$W/last"
verdict "virsh dominfo: at once, with the last known state and memory"

# ---- Destroy ends it, three ways ---------------------------------------------
timed 25 "$XL" destroy r1 && [ "$(grep -vc '^(took ' "$W/last")" = 0 ] &&
    gone r1 "$run1" "$qemu1" && "$XL" list >"$W/list" 2>&1 && ! grep -q '^r1 ' "$W/list" &&
    counting r2 && counting r3
verdict "xl destroy: exit 0, no output, machine and files gone, r2 and r3 count on"

run2=$(record_pid r2)
qemu2=$(emulator_of "$run2")
kill -STOP "$qemu2"
timed 25 "$VIRSH" destroy r2 && grep -qx "Domain 'r2' destroyed" "$W/last" &&
    gone r2 "$run2" "$qemu2" && counting r3
verdict "virsh destroy: 'Domain 'r2' destroyed', machine and files gone, r3 counts on"

run3=$(record_pid r3)
qemu3=$(emulator_of "$run3")
kill -STOP "$qemu3"
printf 'info status\nquit\n' | timed 40 "$HVMON" "$S/r3.sock" &&
    grep -Eq "^Error: hv in the domain's machine does not answer \\(a request has waited [0-9]+ s for it; the machine may be stopped or hung\\)$" "$W/last" &&
    wait_gone=$(for _ in $(seq 50); do kill -0 "$run3" 2>/dev/null || { echo ok; break; }; sleep 0.2; done) &&
    [ "$wait_gone" = ok ] && "$XL" list >"$W/list" 2>&1 && ! grep -q '^r3 ' "$W/list" && gone r3 "$run3" "$qemu3"
verdict "the monitor: info status says hv does not answer; quit ends the machine, xl list forgets it"
