#!/usr/bin/env bash
# Every guest of guestkit/tests/guests.list under hv nested in Bochs, once
# with Intel VT-x (cpu model corei7_skylake_x, hv/vmx/) and once with AMD SVM
# (cpu model ryzen, hv/svm/), each judged against the same guest on plain
# QEMU (bin/qemu-guest) by the rules of lib/guests.bash, the same rules the
# QEMU+SVM suite (guests-qemu-svm.sh) uses.  One line per guest and vendor:
# "PASS: vmx: hello", "FAIL: svm: portio: ...".
#
# Bochs is slow (each run boots a BIOS and GRUB first): guests get 32 MiB of
# RAM on both machines, and at most two runs go at once (lib.bash IT_JOBS).
# The whole suite takes about two minutes of two cores.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/guests.bash"

LIST=${GUESTS_LIST:-$TOP/guestkit/tests/guests.list}
W=$IT_WORK
GUEST_DIR=${GUEST_DIR:-$BUILD/guestkit}
TIMEOUT=${GUEST_TIMEOUT:-90}
MEM=32M
VENDORS=(vmx svm)

# one_guest ID LABEL GUEST ARGS EXPECTED: plain QEMU once, then hv in Bochs
# with each vendor, judged one by one.
one_guest() {
    local id=$1 label=$2 args=$4 want=$5 img=$GUEST_DIR/$3.elf app=() v
    [ "$args" = - ] || app=(-append "$args")
    if [ ! -f "$img" ]; then
        for v in "${VENDORS[@]}"; do fail "$v: $label" "$img is not built"; done
        return
    fi
    plain_run "$W/$id.plain" "$want" "$TOP/bin/qemu-guest" --timeout "$TIMEOUT" -m "$MEM" -kernel "$img" "${app[@]}"
    for v in "${VENDORS[@]}"; do
        run_logged "$W/$id.$v.out" "$W/$id.$v.err" "$W/$id.$v.st" \
            "$TOP/bin/hvrun" --emulator bochs --vendor "$v" --hv "$HV" --timeout "$TIMEOUT" \
            -m "$MEM" -kernel "$img" "${app[@]}"
        guests_judge "$v: $label" "$want" "$W/$id.plain" "$W/$id.$v"
    done
}

if [ ! -f "$LIST" ]; then
    skip bochs-guests "no guest manifest ($LIST)"
    exit 0
fi
why=$(hv_missing)
[ -n "$why" ] || why=$(bochs_missing)
n=0
while IFS=$'\t' read -r name args want label; do
    n=$((n + 1))
    if [ "$name" = '!' ]; then
        fail "guests.list" "malformed line '$args' (want: name, args or -, code or triple, description)"
        continue
    fi
    if [ -n "$why" ]; then
        for v in "${VENDORS[@]}"; do skip "$v: $label" "$why"; done
        continue
    fi
    run_case "$n-$name" one_guest "$n-$name" "$label" "$name" "$args" "$want"
done < <(guests_list "$LIST")
finish_cases
[ "$n" -gt 0 ] || fail bochs-guests "${LIST#"$TOP"/} lists no guest"
