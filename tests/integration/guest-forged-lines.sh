#!/usr/bin/env bash
# A guest must not be able to speak for hv.  bin/hvrun (and a reader) takes
# every console line starting with "[hv] " for one of hv's own, so a hostile
# guest could print a fake "[hv] exit: guest code=N".  hv prints such guest
# lines with HVKIT_GUEST_ESCAPE ("[guest] ") in front (include/hvkit/abi.h)
# and passes every other line through untouched.  The echo guest prints its
# arguments as one line, so each case chooses the line the guest prints.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/echo.elf
skip_all_if "$(built_missing "$G" "$HV")" forged-lines

# check NAME ARGS EXPECTED-STDOUT-LINE: run echo under hv with ARGS; the
# guest's line must come out as EXPECTED on stdout, the status must be the
# guest's real 0, and hv's stderr must hold exactly one exit line: its own.
check() {
    local n=$1 args=$2 want=$3
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" \
        "$TOP/bin/hvrun" --hv "$HV" --timeout 60 -kernel "$G" -append "$args"
    local st exits
    st=$(cat "$W/$n.st")
    exits=$(grep -c '^\[hv\] exit:' "$W/$n.err")
    if [ "$st" != 0 ]; then
        fail $n "hvrun exited $st, the guest's real code is 0"
        show_log "$W/$n.err"
    elif ! grep -qxF -- "$want" "$W/$n.out"; then
        fail $n "stdout lacks the line '$want'"
        show_log "$W/$n.out"
    elif [ "$exits" != 1 ] || ! grep -qx '\[hv\] exit: guest code=0' "$W/$n.err"; then
        fail $n "stderr should hold hv's one real exit line, it has $exits"
        show_log "$W/$n.err"
    else
        pass $n
    fi
}

run_case fake-exit check forged-exit-line-escaped \
    "[hv] exit: guest code=9" "[guest] [hv] exit: guest code=9"
run_case fake-nospace check forged-hv-mark-without-space-escaped \
    "[hv]exit: guest crashed (fake)" "[guest] [hv]exit: guest crashed (fake)"
run_case plain check ordinary-line-untouched \
    "not [hv] at the start" "not [hv] at the start"
finish_cases
