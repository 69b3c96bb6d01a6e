#!/usr/bin/env bash
# The SVM time-slice watchdog (hv/svm/preempt.c) under a guest whose
# application processors count without ever exiting, so that only the
# watchdog's NMI gives hv the CPU back, on QEMU+SVM.  Before the fix this
# checks, hv left LINT0 of the outer CPU's local APIC unmasked, and QEMU
# now and then left the watchdog's NMI pending behind a request that came
# from the 8259's output (docs/emulators.md, "Taking the processor back
# from a spinning guest"): the spinning vCPU kept the CPU for good and hv
# stopped answering its control channel.
#   - the outer machine (QEMU's own monitor, through bin/hvrun's
#     HVRUN_QEMU) shows LINT0 masked while hv runs: this fails on every
#     run without the fix;
#   - 30 s of x-vcpu-set to a fixed pseudo-random series of counts, each
#     followed by a query: the vcpuhot guest (guestkit/tests/vcpuhot.c)
#     takes CPUs down and brings them up again and again, with 2 ms
#     slices; hv answers every request within 10 s, and at the end the
#     guest brings all four CPUs up and says each counts.  Without the fix
#     this failed in about two runs of three on a loaded 2-core machine
#     (the race needs an unlucky interleaving of QEMU's threads), so it
#     shows the hang is gone rather than proving it on every run.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/vcpuhot.elf
C1="svm watchdog: the outer CPU's LINT0 is masked while hv runs (QEMU's 8259 cannot hold up the NMI)"
C2="svm watchdog: 30 s of x-vcpu-set up and down with spinning APs: hv answers every request, 4 CPUs count at the end"

skip_all_if "$(built_missing "$HV" "$G")" "$C1" "$C2"

# The outer QEMU with its own monitor on a socket of ours (hvrun runs
# HVRUN_QEMU with the machine's arguments).
cat >"$W/qemu" <<EOF
#!/bin/sh
exec "${HVRUN_QEMU:-qemu-system-x86_64}" "\$@" -monitor unix:$W/outer.mon,server,nowait
EOF
chmod +x "$W/qemu"
# outer COMMAND: one command to the outer machine's monitor, its answer.
outer() { echo "$1" | socat -t 5 - "UNIX-CONNECT:$W/outer.mon" 2>&1 | tr -d '\r'; }
# ctl REQUEST ARGS...: one request to hv, answered within 10 s.
ctl() { "$TOP/bin/hvctl" -s "$W/ctl.sock" --timeout 10 "$@" >>"$W/ctl.log" 2>&1; }
# last_is LINE: wait (up to 60 s) until the guest's last line is LINE.
last_is() {
    local i
    for ((i = 0; i < 600; i++)); do
        [ "$(tail -n 1 "$W/out")" = "vcpuhot: $1" ] && return 0
        sleep 0.1
    done
    return 1
}

HVRUN_QEMU=$W/qemu "$TOP/bin/hvrun" --hv "$HV" --timeout 300 --tslice 2 -smp 1,maxcpus=4 \
    --control "$W/ctl.sock" -kernel "$G" >"$W/out" 2>"$W/err" </dev/null &
run=$!

if ! wait_for "$W/out" '^vcpuhot: 1 CPU online (0), each counting$' 60; then
    fail "$C1" "the guest did not start: $(tail -n 3 "$W/err" | tr '\n' ' ')"
    skip "$C2" "the guest did not start"
else
    lvt0=$(outer "info lapic" | grep '^LVT0')
    if grep -q ' masked ' <<<"$lvt0"; then pass "$C1"; else fail "$C1" "info lapic: $lvt0"; fi

    # The counts: a fixed series (RANDOM seeded), so every run asks the
    # same; each set is followed by a query, which the guest's spinning
    # CPUs must not keep from an answer.
    RANDOM=11
    end=$((SECONDS + 30)) rounds=0 why=
    while [ "$SECONDS" -lt "$end" ]; do
        k=$((RANDOM % 4 + 1))
        if ! ctl x-vcpu-set vcpus=$k || ! ctl query-status; then
            why="round $((rounds + 1)) (x-vcpu-set vcpus=$k): no answer within 10 s"
            break
        fi
        rounds=$((rounds + 1))
        sleep 0.1
    done
    # All four at the end, from one, so the guest's last line says so.
    [ -n "$why" ] || { ctl x-vcpu-set vcpus=1 && last_is '1 CPU online (0), each counting' &&
        ctl x-vcpu-set vcpus=4 && last_is '4 CPUs online (0 1 2 3), each counting'; } ||
        why="after $rounds rounds the guest's last line is: $(tail -n 1 "$W/out")"
    if [ -z "$why" ]; then pass "$C2 ($rounds rounds)"; else fail "$C2" "$why"; fi
fi
"$TOP/bin/hvctl" -s "$W/ctl.sock" --timeout 10 quit >/dev/null 2>&1 || kill "$run" 2>/dev/null
wait "$run" 2>/dev/null
