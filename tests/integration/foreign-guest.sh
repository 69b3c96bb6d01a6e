#!/usr/bin/env bash
# A guest written without guestkit (build/guestkit/foreign.elf: its own
# Multiboot header, its own serial driver) must behave under hv exactly as on
# plain QEMU: the same console lines, in the same order, and the same exit
# code.  This is the test that hv emulates the machine, not just guestkit's
# habits.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=${FOREIGN_GUEST:-$BUILD/guestkit/foreign.elf}
n=foreign-guest

skip_all_if "$(built_missing "$G" "$HV")" $n

run_case plain run_logged "$W/plain.out" "$W/plain.err" "$W/plain.st" \
    "$TOP/bin/qemu-guest" --timeout 60 -kernel "$G"
run_case hv run_logged "$W/hv.out" "$W/hv.err" "$W/hv.st" \
    "$TOP/bin/hvrun" --hv "$HV" --timeout 60 -kernel "$G"
finish_cases
ps=$(cat "$W/plain.st") hs=$(cat "$W/hv.st")

if [ "$ps" -ge 124 ]; then
    fail $n "plain QEMU did not run it to an exit code (status $ps)"
    show_log "$W/plain.err"
elif [ "$hs" != "$ps" ]; then
    fail $n "exit status $hs under hv, $ps on plain QEMU"
    show_log "$W/hv.err"
elif [ ! -s "$W/plain.out" ]; then
    fail $n "the guest printed nothing on plain QEMU: nothing to compare"
elif ! diff -u "$W/plain.out" "$W/hv.out" >"$W/diff"; then
    fail $n "its console output differs under hv (- plain QEMU, + hv)"
    sed 's/^/    /' "$W/diff" | head -n 30
else
    pass $n
fi
