#!/usr/bin/env bash
# Every guest of guestkit/tests/guests.list, twice: on plain QEMU (the
# reference machine, bin/qemu-guest) and under hv with SVM nested in QEMU
# (bin/hvrun).  A guest passes when
#   - both exit statuses equal the manifest's expected code;
#   - the guest's verdict lines ("PASS: ...", "SKIP: ...", "FAIL: ...")
#     agree, compared by test name (the text before the first ": "): no FAIL
#     on either side; a test that passes on plain QEMU passes with the same
#     lines under hv; a test plain QEMU skips (an hvkit-only test such as a
#     hypercall) may pass or skip under hv; a test the guest itself skips
#     under hv, saying why (a feature hv lacks), makes the case a SKIP;
#   - a guest that prints verdicts ends with "SUMMARY: N tests, F unexpected
#     failures, S skipped", with F = 0 when the expected code is 0.
# The manifest's "triple" guest must end plain QEMU (-no-reboot: a reset
# powers off, qemu-guest says 127) and make hvrun report "guest crashed"
# with the guest's registers and exit 127.  The rules live in
# lib/guests.bash, shared with bochs-guests.sh (VT-x and SVM on Bochs).
#
# guests.list: one guest per line, tab-separated: name, -append arguments or
# "-", expected exit code on plain QEMU or "triple", description.  '#' starts
# a comment line.  The guest image is build/guestkit/NAME.elf.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/guests.bash"

LIST=${GUESTS_LIST:-$TOP/guestkit/tests/guests.list}
W=$IT_WORK
GUEST_DIR=${GUEST_DIR:-$BUILD/guestkit}
TIMEOUT=${GUEST_TIMEOUT:-60}

# one_guest ID LABEL GUEST ARGS EXPECTED: run the guest both ways and judge
# it by the shared rules (lib/guests.bash: guests_judge).  ID names the log
# files and LABEL the verdict (a guest may be listed twice, with other
# arguments).
one_guest() {
    local id=$1 label=$2 args=$4 want=$5 img=$GUEST_DIR/$3.elf
    local app=()
    [ "$args" = - ] || app=(-append "$args")
    if [ ! -f "$img" ]; then
        fail "$label" "$img is not built"
        return
    fi
    plain_run "$W/$id.plain" "$want" "$TOP/bin/qemu-guest" --timeout "$TIMEOUT" -kernel "$img" "${app[@]}"
    run_logged "$W/$id.hv.out" "$W/$id.hv.err" "$W/$id.hv.st" \
        "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" -kernel "$img" "${app[@]}"
    guests_judge "$label" "$want" "$W/$id.plain" "$W/$id.hv"
}

if [ ! -f "$LIST" ]; then
    skip guests-qemu-svm "no guest manifest yet ($LIST)"
    exit 0
fi
why=$(hv_missing)
n=0
while IFS=$'\t' read -r name args want label; do
    n=$((n + 1))
    if [ "$name" = '!' ]; then
        fail "manifest line $n" "malformed line in ${LIST#"$TOP"/} (want: name, args or -, code or triple, description): $args"
        continue
    fi
    if [ -n "$why" ]; then
        skip "$label" "$why"
        continue
    fi
    run_case "$n-$name" one_guest "$n-$name" "$label" "$name" "$args" "$want"
done < <(guests_list "$LIST")
finish_cases
[ "$n" -gt 0 ] || fail guests-qemu-svm "${LIST#"$TOP"/} lists no guest"
