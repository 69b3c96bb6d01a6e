#!/usr/bin/env bash
# bin/hvrun passes the guest what plain QEMU would: the same command line
# (the path exactly as given, then the -append text, commas and runs of
# spaces included) and the same amount of RAM (-m).  Judged with the foreign
# guest, which prints its command line and probes the top of its RAM: its
# output must be identical under bin/hvrun and bin/qemu-guest.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=${FOREIGN_GUEST:-$BUILD/guestkit/foreign.elf}

cases=(no-append comma-in-args empty-append comma-in-path memory-64M)
skip_all_if "$(built_missing "$G" "$HV")" "${cases[@]/#/cmdline: }"
# A copy whose file name has a comma: QEMU's -initrd needs it doubled.
cp "$G" "$W/for,eign.elf"

# same_both NAME OPTIONS...: run the guest both ways with OPTIONS; PASS when
# the exit statuses and stdout are identical (and the guest saw something).
same_both() {
    local n=$1
    shift
    run_logged "$W/$n.plain.out" "$W/$n.plain.err" "$W/$n.plain.st" \
        "$TOP/bin/qemu-guest" --timeout 60 "$@"
    run_logged "$W/$n.hv.out" "$W/$n.hv.err" "$W/$n.hv.st" \
        "$TOP/bin/hvrun" --hv "$HV" --timeout 60 "$@"
    local ps hs
    ps=$(cat "$W/$n.plain.st") hs=$(cat "$W/$n.hv.st")
    if [ "$ps" -ge 124 ]; then
        fail "cmdline: $n" "plain QEMU did not run the guest (status $ps)"
        show_log "$W/$n.plain.err"
    elif [ "$hs" != "$ps" ]; then
        fail "cmdline: $n" "status $hs under hv, $ps on plain QEMU"
        show_log "$W/$n.hv.err"
    elif ! grep -q 'command line: ' "$W/$n.plain.out"; then
        fail "cmdline: $n" "the guest printed no command line on plain QEMU"
    elif ! diff -u "$W/$n.plain.out" "$W/$n.hv.out" >"$W/$n.diff"; then
        fail "cmdline: $n" "the guest saw something else under hv (- plain QEMU, + hv)"
        sed 's/^/    /' "$W/$n.diff" | head -n 20
    else
        pass "cmdline: $n"
    fi
}

run_case no-append same_both no-append -kernel "$G"
run_case comma-in-args same_both comma-in-args -kernel "$G" -append "a,b,,c  d, e"
run_case empty-append same_both empty-append -kernel "$G" -append ""
run_case comma-in-path same_both comma-in-path -kernel "$W/for,eign.elf" -append "x"
run_case memory-64M same_both memory-64M -m 64 -kernel "$G"
finish_cases
