#!/usr/bin/env bash
# An idle hv halts the outer CPU (hv/core/run.c idle(), the backend's
# host_wait; on SVM the watchdog's one-shot NMI ends the HLT,
# hv/svm/preempt.c), on QEMU+SVM:
#   - two machines side by side, each with one paused domain (-S) and a
#     control channel, one with hvrun's default (--idle halt), the other
#     with --idle spin: over the same 3 s the halting machine's outer QEMU
#     uses under a fifth of a host core and less than half of what the
#     spinning one uses.  Before hv halted, both spun, a whole core each
#     when the host had one free;
#   - the halting machine still answers its control channel at once and
#     its domain counts after `cont`: the naps of at most a millisecond
#     (and the spin of a few after each request) keep requests and the
#     guest's time as before, and each of the NMIs that ended a nap (a
#     thousand a second) was taken without stranding hv in its HLT
#     (boot/traps.S steps over a HLT an NMI came just before);
#   - hvrun refuses an --idle that is neither halt nor spin.
# Whether a guest waiting in HLT for its timer gets its ticks on time with
# hv halting is every timer guest of guestkit/tests/guests.list, under hv
# with the default (tests/integration/guests-qemu-svm.sh).
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/counter.elf
C1="idle hv: a paused domain's outer QEMU uses under 20% of a core, and under half of what it uses with --idle spin"
C2="idle hv: the halting machine answers its control channel and its domain counts after cont"
C3="hvrun --idle nap: refused with hvrun's usage message, status 125"

skip_all_if "$(built_missing "$HV" "$G")" "$C1" "$C2" "$C3"

"$TOP/bin/hvrun" --hv "$HV" --idle nap -kernel "$G" >"$W/nap.out" 2>&1 </dev/null
st=$?
if [ "$st" = 125 ] && [ "$(head -n 1 "$W/nap.out")" = "hvrun: bad --idle 'nap' (halt or spin)" ]; then
    pass "$C3"
else
    fail "$C3" "status $st: $(head -n 2 "$W/nap.out" | tr '\n' ' ')"
fi

# start MODE: a machine with one paused counter domain and --idle MODE;
# its hvrun's PID in $W/MODE.pid.
start() {
    local mode=$1
    "$TOP/bin/hvrun" --hv "$HV" --timeout 120 --idle "$mode" -S --control "$W/$mode.sock" \
        -kernel "$G" -append 100000 >"$W/$mode.out" 2>"$W/$mode.err" </dev/null &
    echo $! >"$W/$mode.pid"
}
# ctl MODE REQUEST ARGS...: one request to that machine, answered within 10 s.
ctl() {
    local mode=$1
    shift
    "$TOP/bin/hvctl" -s "$W/$mode.sock" --timeout 10 "$@" >>"$W/$mode.ctl" 2>&1
}
# ticks PID: the CPU time of process PID so far, in clock ticks (utime +
# stime, proc(5) /proc/PID/stat fields 14 and 15).
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }

start halt
start spin
# Both answer once their hv runs (the greeting, then a query).
up=1
for mode in halt spin; do
    for ((i = 0; i < 600; i++)); do
        [ -S "$W/$mode.sock" ] && ctl "$mode" query-status && break
        sleep 0.1
    done
    [ "$i" -lt 600 ] || up=0
done
if [ "$up" = 0 ]; then
    fail "$C1" "a machine did not come up: $(tail -n 2 "$W/halt.err" "$W/spin.err" | tr '\n' ' ')"
    skip "$C2" "a machine did not come up"
else
    # The two outer QEMUs.
    hp=$(emulator_of "$(cat "$W/halt.pid")") sp=$(emulator_of "$(cat "$W/spin.pid")")
    h0=$(ticks "$hp") s0=$(ticks "$sp")
    sleep 3
    h1=$(ticks "$hp") s1=$(ticks "$sp")
    hz=$(getconf CLK_TCK)
    # Per cent of one core over the 3 s.
    hpct=$(((h1 - h0) * 100 / (3 * hz))) spct=$(((s1 - s0) * 100 / (3 * hz)))
    if [ "$hpct" -lt 20 ] && [ $((hpct * 2)) -lt "$spct" ]; then
        pass "$C1 (halt ${hpct}%, spin ${spct}%)"
    else
        fail "$C1" "halt ${hpct}% of a core, spin ${spct}%"
    fi
    ctl spin quit
    # Twenty requests one by one, then the guest counts once resumed.
    ok=1
    for ((i = 0; i < 20; i++)); do ctl halt query-status || ok=0; done
    if [ "$ok" = 1 ] && ctl halt cont && wait_for "$W/halt.out" '^count 20$' 30; then
        pass "$C2"
    else
        fail "$C2" "requests: $(tail -n 2 "$W/halt.ctl" | tr '\n' ' '); guest: $(tail -n 1 "$W/halt.out")"
    fi
    ctl halt quit
fi
wait
