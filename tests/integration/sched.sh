#!/usr/bin/env bash
# hv's scheduler (hv/core/run.c, sched.h) and the domain lifecycle
# (domain.h), with several guests at once (bin/hvrun --domain):
#   - three domains, the middle one triple-faults: the other two, one
#     spinning with interrupts on and one with interrupts off, print every
#     line to the end, the crash is logged and torn down, domain 0's end is
#     hv's last line (QEMU+SVM, Bochs+VMX, Bochs+SVM);
#   - no starving: domain 0 spins 2 s without a single exit (cli); domain
#     1, spinning 1 s in 100 ms steps, must finish first, which it can only
#     if hv takes the CPU from domain 0 (SVM: the NMI watchdog, the outer
#     PIT as an NMI with the NMI intercept; VT-x: the VMX-preemption
#     timer) (QEMU+SVM, Bochs+VMX, Bochs+SVM, where a physical interrupt
#     would not end a guest running with IF=0: docs/emulators.md);
#   - on_crash=preserve keeps a crashed domain (not torn down) while the
#     others run on; on_reboot=restart builds a rebooting guest again and
#     again (its banner each time, until the time limit) (QEMU+SVM);
#   - hvrun refuses a --domain guest that does not exist and a fifth guest.
# The timer-on-time rule (a guest spinning with IF=1 gets its PIT ticks) is
# the "spin ticks" line of guestkit/tests/guests.list, against plain QEMU.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
S=$BUILD/guestkit/spin.elf
T=$BUILD/guestkit/triple.elf
F=$BUILD/guestkit/fwcfg.elf
TIMEOUT=${GUEST_TIMEOUT:-180}

# hvrun_on ID EMULATOR VENDOR ARGS...: one run, logs under $W/ID.
hvrun_on() {
    local id=$1 emu=$2 vendor=$3
    shift 3
    run_logged "$W/$id.out" "$W/$id.err" "$W/$id.st" "$TOP/bin/hvrun" --emulator "$emu" \
        --vendor "$vendor" --hv "$HV" --timeout "$TIMEOUT" -m 32M "$@"
}

# progress PREFIX IF FILE: the ten 100 ms lines and the last line of a
# `spin cli|sti 1000` guest, in order, each with PREFIX.
progress() {
    local i
    for i in 1 2 3 4 5 6 7 8 9 10; do echo "$1spin: $((i * 100)) ms with IF=$2"; done
    echo "$1spun 1000 ms"
}

# three ID EMULATOR VENDOR: spin sti, triple, spin cli.
three() {
    local id=$1
    hvrun_on "$id" "$2" "$3" -kernel "$S" -append "sti 1000" --domain "$T" --domain "$S cli 1000"
    grep -v '^\[d[12]\] ' "$W/$id.out" >"$W/$id.d0"
    sed -n 's/^\[d2\] //p' "$W/$id.out" >"$W/$id.d2"
    if [ "$(cat "$W/$id.st")" != 0 ]; then
        fail "$id" "status $(cat "$W/$id.st"), want 0 (domain 0's own end)"
        show_log "$W/$id.err"
    elif ! cmp -s "$W/$id.d0" <(progress '' 1) || ! cmp -s "$W/$id.d2" <(progress '' 0); then
        fail "$id" "domains 0 and 2 must print all their lines while domain 1 crashes"
        show_log "$W/$id.out" 30
    elif ! grep -q '^\[hv\] domain 1 crashed: triple fault' "$W/$id.err" ||
        ! grep -q '^\[hv\] domain 1 torn down: ' "$W/$id.err" ||
        ! grep -qx '\[hv\] domain 2 shut down' "$W/$id.err" ||
        [ "$(tail -n 1 "$W/$id.err")" != '[hv] exit: guest code=0' ]; then
        fail "$id" "want domain 1's crash and teardown, domain 2's end, then domain 0's code 0 last"
        show_log "$W/$id.err" 30
    else
        pass "$id"
    fi
}

# starve ID EMULATOR VENDOR IF: domain 0 spins 2 s in one go; domain 1's
# whole second must come out before domain 0's single line.
starve() {
    local id=$1 mode=$4 d1 d0
    hvrun_on "$id" "$2" "$3" -kernel "$S" -append "$mode 2000 2000" --domain "$S sti 1000"
    d1=$(grep -n '^\[d1\] spun 1000 ms$' "$W/$id.out" | cut -d: -f1)
    d0=$(grep -n "^spin: 2000 ms with IF=" "$W/$id.out" | cut -d: -f1)
    if [ "$(cat "$W/$id.st")" != 0 ] || [ -z "$d1" ] || [ -z "$d0" ]; then
        fail "$id" "status $(cat "$W/$id.st"), want 0 and both guests' last lines"
        show_log "$W/$id.out"
        show_log "$W/$id.err"
    elif [ "$d1" -gt "$d0" ]; then
        fail "$id" "domain 1 only ran after domain 0's 2 s spin ($mode): not preempted"
        show_log "$W/$id.out"
    else
        pass "$id"
    fi
}

# preserve ID: on_crash=preserve keeps the triple-faulting domain.
preserve() {
    local id=$1
    hvrun_on "$id" qemu svm --on-crash preserve -kernel "$S" -append "sti 300" --domain "$T"
    if [ "$(cat "$W/$id.st")" != 0 ] ||
        ! grep -q '^\[hv\] domain 1 crashed: triple fault.*; preserved (on_crash=preserve)$' \
            "$W/$id.err" || grep -q '^\[hv\] domain 1 torn down' "$W/$id.err" ||
        ! grep -qx 'spun 300 ms' "$W/$id.out"; then
        fail "$id" "want domain 1 preserved (not torn down) and domain 0 to run to its end"
        show_log "$W/$id.err" 30
    else
        pass "$id"
    fi
}

# restart ID: on_reboot=restart: a guest that resets its machine (port 0x92)
# is built again and runs again, until the time limit (status 124).
restart() {
    local id=$1 n
    run_logged "$W/$id.out" "$W/$id.err" "$W/$id.st" "$TOP/bin/hvrun" --hv "$HV" --timeout 8 \
        -m 32M --on-reboot restart -kernel "$F" -append reset
    n=$(grep -c '^\[hv\] domain 0: rebooted; restarting (on_reboot=restart)$' "$W/$id.err")
    if [ "$(cat "$W/$id.st")" != 124 ] || [ "$n" -lt 2 ] ||
        [ "$(grep -c 'port 0x92' "$W/$id.out")" -lt "$n" ]; then
        fail "$id" "status $(cat "$W/$id.st") (want 124), $n restarts (want 2 or more), the guest's lines each time"
        show_log "$W/$id.err"
    else
        pass "$id ($n restarts in 8 s)"
    fi
}

skip_all_if "$(built_missing "$S" "$T" "$F" "$HV")" sched
# Usage errors, before any emulator starts.
run_logged "$W/bad1.out" "$W/bad1.err" "$W/bad1.st" "$TOP/bin/hvrun" -kernel "$S" \
    --domain "$W/no-such-guest.elf"
run_logged "$W/bad2.out" "$W/bad2.err" "$W/bad2.st" "$TOP/bin/hvrun" -kernel "$S" \
    --domain "$S" --domain "$S" --domain "$S" --domain "$S"
if [ "$(cat "$W/bad1.st")" = 125 ] && grep -q "no-such-guest.elf' does not exist" "$W/bad1.err" &&
    [ "$(cat "$W/bad2.st")" = 125 ] && grep -q '5 guests: hv runs at most 4 domains' "$W/bad2.err"; then
    pass "hvrun --domain: a missing guest and a fifth guest are usage errors"
else
    fail "hvrun --domain: a missing guest and a fifth guest are usage errors" \
        "statuses $(cat "$W/bad1.st") and $(cat "$W/bad2.st")"
fi
run_case svm-three three svm-three qemu svm
run_case svm-starve starve svm-starve qemu svm cli
run_case svm-preserve preserve svm-preserve
run_case svm-restart restart svm-restart
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip vmx-three "$why"
    skip vmx-starve "$why"
    skip bochs-svm-three "$why"
    skip bochs-svm-starve "$why"
else
    run_case vmx-three three vmx-three bochs vmx
    run_case vmx-starve starve vmx-starve bochs vmx cli
    run_case bochs-svm-three three bochs-svm-three bochs svm
    run_case bochs-svm-starve starve bochs-svm-starve bochs svm cli
fi
finish_cases
