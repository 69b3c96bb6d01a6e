#!/usr/bin/env bash
# hv's core runs several guests: with --domains 2 (hv's domains=2) the same
# guest runs twice, each copy in a domain of its own (its memory, devices,
# statistics and run state; on SVM its own ASID, on VT-x its own VMCS,
# switched with VMPTRLD/VMCLEAR).  Both copies must print the whole output
# of a run alone (domain 1's lines marked "[d1] "), each domain's end is
# logged, each gets its statistics, and domain 0's end is hv's last line and
# the status, as with one guest.  A stopped domain is torn down: at least
# its 32 MiB of RAM goes back to hv's heap, and once both have stopped the
# heap holds exactly what it held before the domains were made
# (hv/core/teardown.c).  On QEMU+SVM and Bochs+VMX.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/hello.elf
TIMEOUT=${GUEST_TIMEOUT:-120}

# heap_back LOG: each domain's teardown gave back at least its RAM (32 MiB),
# and the heap ended as it was before the domains.
heap_back() {
    local d kib after before
    for d in 0 1; do
        kib=$(sed -nE "s/^\[hv\] domain $d torn down: ([0-9]+) KiB back to the heap$/\1/p" "$1")
        [ -n "$kib" ] && [ "$kib" -ge 32768 ] || return 1
    done
    after=$(sed -nE 's/^\[hv\] heap: ([0-9]+) KiB free after teardown, [0-9]+ KiB .*/\1/p' "$1")
    before=$(sed -nE 's/^\[hv\] heap: [0-9]+ KiB free after teardown, ([0-9]+) KiB .*/\1/p' "$1")
    [ -n "$after" ] && [ "$after" = "$before" ]
}

# two_domains ID EMULATOR VENDOR: hello twice; compare with a run alone.
two_domains() {
    local id=$1 emu=$2 vendor=$3
    run_logged "$W/$id.one.out" "$W/$id.one.err" "$W/$id.one.st" "$TOP/bin/hvrun" \
        --emulator "$emu" --vendor "$vendor" --hv "$HV" --timeout "$TIMEOUT" -m 32M \
        -kernel "$G" -append world
    run_logged "$W/$id.out" "$W/$id.err" "$W/$id.st" "$TOP/bin/hvrun" --emulator "$emu" \
        --vendor "$vendor" --hv "$HV" --timeout "$TIMEOUT" -m 32M --domains 2 -kernel "$G" \
        -append world
    grep -v '^\[d1\] ' "$W/$id.out" >"$W/$id.d0"
    sed -n 's/^\[d1\] //p' "$W/$id.out" >"$W/$id.d1"
    if [ "$(cat "$W/$id.st")" != 0 ] || [ "$(cat "$W/$id.one.st")" != 0 ]; then
        fail "$id" "status $(cat "$W/$id.st") with two domains, $(cat "$W/$id.one.st") alone; want 0"
        show_log "$W/$id.err"
    elif ! grep -q '^Hello, world!$' "$W/$id.d0" || ! cmp -s "$W/$id.d0" "$W/$id.one.out" ||
        ! cmp -s "$W/$id.d1" "$W/$id.one.out"; then
        fail "$id" "each domain's output must be the output of a run alone"
        show_log "$W/$id.out"
    elif ! grep -qx '\[hv\] domain 0 shut down' "$W/$id.err" ||
        ! grep -qx '\[hv\] domain 1 shut down' "$W/$id.err"; then
        fail "$id" "the end of each domain is not logged"
        show_log "$W/$id.err"
    elif ! heap_back "$W/$id.err"; then
        fail "$id" "the domains' memory did not all go back to the heap"
        grep -E '^\[hv\] (domain [01] torn down|heap):' "$W/$id.err" | sed 's/^/    /'
    elif [ "$(grep -c '^\[hv\] exit statistics' "$W/$id.err")" != 2 ] ||
        [ "$(tail -n 1 "$W/$id.err")" != '[hv] exit: guest code=0' ]; then
        fail "$id" "want two statistics tables, then '[hv] exit: guest code=0' last"
        show_log "$W/$id.err"
    else
        pass "$id"
    fi
}

skip_all_if "$(built_missing "$G" "$HV")" domains
# hvrun refuses a count hv would refuse.
run_logged "$W/bad.out" "$W/bad.err" "$W/bad.st" "$TOP/bin/hvrun" --domains 5 -kernel "$G"
if [ "$(cat "$W/bad.st")" = 125 ] && grep -q "bad --domains '5'" "$W/bad.err"; then
    pass "hvrun --domains 5 is a usage error"
else
    fail "hvrun --domains 5 is a usage error" "status $(cat "$W/bad.st")"
fi
run_case svm-two-domains two_domains svm-two-domains qemu svm
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip vmx-two-domains "$why"
else
    run_case vmx-two-domains two_domains vmx-two-domains bochs vmx
fi
finish_cases
