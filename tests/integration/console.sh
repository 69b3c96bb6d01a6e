#!/usr/bin/env bash
# Typing at a guest's console (docs/control-protocol.md "Consoles"): the
# shout guest (guestkit/tests/shout.c) reads lines from its COM1 and
# answers each in capitals until "quit".  The same keys go in
#   - on plain QEMU, the reference, through -serial stdio;
#   - under hv, through the manager: bin/hvctl --console attaches to the
#     domain's console, the manager offers the keys to hv with
#     x-console-write, hv puts them into the 16550 model's receiver.
# The guest's transcript (hvrun's stdout, unchanged by the manager) must be
# QEMU's line for line, by polling LSR and by the received-data interrupt;
# the attached front-end sees the same lines.  The keys include a line of
# 150 bytes, far more than the receiver's 16: the manager must hold them
# back and offer them again, none lost.  On QEMU+SVM also: a second
# front-end is refused while one is attached, --force takes the console
# over (the first one's connection ends), and x-console-write's errors;
# and with two domains (--domains 2), each domain's console apart: domain
# 1's front-end sees its lines without hv's "[d1] ", its keys reach domain
# 1 only, and its console ends when domain 1 does while domain 0 runs on.
# Bochs+VMX runs the interrupt-driven guest once.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/shout.elf
HVCTL=$BUILD/mgmt/hvctl
TIMEOUT=${GUEST_TIMEOUT:-240}
CASES=(console-qemu-poll console-qemu-irq console-qemu-2domains console-bochs-vmx-irq)
skip_all_if "$(built_missing "$HV" "$G" "$HVCTL")" "${CASES[@]}"

# The keys: two short lines, one of 150 bytes, then quit.
{
    echo "hello world"
    echo "Second line, with 123"
    perl -e 'print join("", map { chr(97 + $_ % 26) } 0 .. 149), "\n"'
    echo "quit"
} >"$W/keys"

# reference MODE: the transcript on plain QEMU, the keys given once the
# guest has said it is ready (keys that come before its serial_init are
# cleared from the FIFO with it, on QEMU as on a real UART).
reference() {
    local mode=$1 out=$W/plain-$1.out
    [ -s "$out" ] && return
    mkfifo "$W/plain-$mode.in"
    timeout 120 qemu-system-x86_64 -accel tcg -cpu max -m 64 -nodefaults -display none \
        -no-reboot -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -kernel "$G" -append "$mode" <"$W/plain-$mode.in" >"$out.raw" 2>"$W/plain-$mode.err" &
    local q=$!
    exec 7>"$W/plain-$mode.in"
    wait_for "$out.raw" "^shout: ready" 240 "$q"
    cat "$W/keys" >&7
    exec 7>&-
    wait "$q"
    echo $? >"$W/plain-$mode.st"
    tr -d '\r' <"$out.raw" >"$out"
}

# same ID MODE HVOUT: the transcript under hv is QEMU's, whole.
same() {
    local id=$1 mode=$2 hvout=$3
    if [ "$(cat "$W/plain-$mode.st")" != 1 ]; then
        fail "$id" "plain QEMU: status $(cat "$W/plain-$mode.st") (want 1, the guest's exit 0)"
        show_log "$W/plain-$mode.out"
        return 1
    fi
    if ! grep -qx "shout: $(perl -e 'print join("", map { chr(65 + $_ % 26) } 0 .. 149)')" "$hvout"; then
        fail "$id" "the 150-byte line did not come back whole"
        show_log "$hvout"
        return 1
    fi
    if ! diff -u "$W/plain-$mode.out" "$hvout" >"$W/$id.diff"; then
        fail "$id" "the transcript under hv differs from plain QEMU's"
        show_log "$W/$id.diff" 30
        return 1
    fi
    return 0
}

# start ID EMULATOR VENDOR MODE [DOMAINS]: hvrun --control in the
# background, its pid in $run; false when the guest (the last domain's)
# never says it is ready.
start() {
    local id=$1 emu=$2 vendor=$3 mode=$4 doms=${5:-1} d=$W/$1 ready="shout: ready"
    mkdir -p "$d"
    "$TOP/bin/hvrun" --emulator "$emu" --vendor "$vendor" --hv "$HV" --timeout "$TIMEOUT" \
        -m 32M --domains "$doms" --control "$d/ctl.sock" -kernel "$G" -append "$mode" \
        >"$d/out" 2>"$d/err" </dev/null &
    run=$!
    [ "$doms" = 1 ] || ready="\[d$((doms - 1))\] $ready"
    wait_for "$d/out" "^$ready" 240 "$run"
}

# finish ID: wait for hvrun; it must end 0 (the guest's exit 0).
finish() {
    local id=$1 st
    wait "$run"
    st=$?
    [ "$st" = 0 ] && return 0
    fail "$id" "hvrun ended with status $st"
    show_log "$W/$id/err"
    return 1
}

# The QEMU+SVM case with the attach rules: A attaches and waits (its stdin
# a pipe kept open); B is refused; C takes over with --force, which ends
# A; C types the keys.
qemu_case() {
    local id=$1 mode=$2 d=$W/$1 r
    reference "$mode"
    if ! start "$id" qemu svm "$mode"; then
        fail "$id" "the guest under hv never said it was ready"
        show_log "$d/err"
        return
    fi
    local H=("$HVCTL" -s "$d/ctl.sock" --timeout 120)
    mkfifo "$d/a.in"
    "${H[@]}" --console <"$d/a.in" >"$d/a.out" 2>"$d/a.err" &
    local a=$!
    exec 8>"$d/a.in"
    wait_for "$d/a.out" "^shout: ready" 240 "$a" || {
        fail "$id" "the first front-end did not see the guest's first line"
        exec 8>&-
        kill "$run"
        return
    }
    "${H[@]}" --console </dev/null >"$d/b.out" 2>"$d/b.err"
    r=$?
    if [ "$r" != 1 ] || [ "$(cat "$d/b.err")" != "hvctl: the console is attached to another front-end" ]; then
        fail "$id" "a second front-end was not refused: status $r, $(cat "$d/b.err")"
        exec 8>&-
        kill "$run"
        return
    fi
    # Bad input to x-console-write itself: refused, nothing typed.
    r=$("${H[@]}" x-console-write data=zz)
    [[ $r == '{"error": {"class": "InvalidParameter", "desc": "argument '"'data'"' must be hex digits, two per byte"}}' ]] || {
        fail "$id" "x-console-write data=zz: $r"
        exec 8>&-
        kill "$run"
        return
    }
    "${H[@]}" --console --force <"$W/keys" >"$d/c.out" 2>"$d/c.err"
    r=$?
    exec 8>&-
    wait "$a"
    finish "$id" || return
    if [ "$r" != 0 ]; then
        fail "$id" "hvctl --console --force: status $r, $(cat "$d/c.err")"
        return
    fi
    # A saw the first line and nothing of C's session: it was let go when
    # C took over.
    if grep -q '^shout: HELLO' "$d/a.out"; then
        fail "$id" "the first front-end still got output after --force took the console"
        return
    fi
    same "$id" "$mode" "$d/out" || return
    # The front-end saw the whole console: the lines before it attached
    # (kept by the manager) and every one after.
    if ! diff -u "$d/out" "$d/c.out" >"$d/c.diff"; then
        fail "$id" "the attached front-end's copy differs from hvrun's stdout"
        show_log "$d/c.diff" 20
        return
    fi
    pass "$id"
}

# Two domains: domain 1's console first (it ends with domain 1, while the
# machine runs on), then domain 0's.
two_case() {
    local id=$1 d=$W/$1 r0 r1
    reference poll
    if ! start "$id" qemu svm poll 2; then
        fail "$id" "the guests under hv never said they were ready"
        show_log "$d/err"
        return
    fi
    local H=("$HVCTL" -s "$d/ctl.sock" --timeout 120)
    "${H[@]}" --console 1 <"$W/keys" >"$d/c1.out" 2>"$d/c1.err"
    r1=$?
    if ! kill -0 "$run" 2>/dev/null; then
        fail "$id" "the machine ended with domain 1 (domain 0 still waits for its keys)"
        return
    fi
    "${H[@]}" --console 0 <"$W/keys" >"$d/c0.out" 2>"$d/c0.err"
    r0=$?
    finish "$id" || return
    if [ "$r1" != 0 ] || [ "$r0" != 0 ]; then
        fail "$id" "hvctl --console: status $r1 (domain 1), $r0 (domain 0)"
        return
    fi
    # Each front-end saw its own domain's console, as plain QEMU's.
    local n
    for n in 0 1; do
        if ! diff -u "$W/plain-poll.out" "$d/c$n.out" >"$d/c$n.diff"; then
            fail "$id" "domain $n's console differs from plain QEMU's transcript"
            show_log "$d/c$n.diff" 20
            return
        fi
    done
    # hvrun's stdout is hv's COM1 as ever: domain 1's lines after "[d1] ".
    if ! diff -u "$W/plain-poll.out" <(sed -n 's/^\[d1\] //p' "$d/out") >"$d/d1.diff"; then
        fail "$id" "domain 1's lines in hvrun's stdout differ from plain QEMU's transcript"
        show_log "$d/d1.diff" 20
        return
    fi
    pass "$id"
}

# Bochs+VMX: one front-end types the keys to the interrupt-driven guest.
bochs_case() {
    local id=$1 mode=$2 d=$W/$1 why
    why=$(bochs_missing)
    if [ -n "$why" ]; then
        skip "$id" "$why"
        return
    fi
    reference "$mode"
    if ! start "$id" bochs vmx "$mode"; then
        fail "$id" "the guest under hv never said it was ready"
        show_log "$d/err"
        return
    fi
    "$HVCTL" -s "$d/ctl.sock" --timeout 300 --console <"$W/keys" >"$d/c.out" 2>"$d/c.err"
    finish "$id" || return
    same "$id" "$mode" "$d/out" && pass "$id"
}

# Each case's QEMU reference first (two cases may share a mode).
reference poll
reference irq
IT_JOBS=2
run_case console-qemu-poll qemu_case console-qemu-poll poll
run_case console-qemu-irq qemu_case console-qemu-irq irq
run_case console-qemu-2domains two_case console-qemu-2domains
run_case console-bochs-vmx-irq bochs_case console-bochs-vmx-irq irq
finish_cases
