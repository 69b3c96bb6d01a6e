#!/usr/bin/env bash
# Every guest of guestkit/tests/guests.list, twice: on plain QEMU (the
# reference machine, bin/qemu-guest) and under hv with SVM nested in QEMU
# (bin/hvrun).  A guest passes when
#   - both exit statuses equal the manifest's expected code;
#   - the guest's verdict lines ("PASS: ...", "SKIP: ...", "FAIL: ...")
#     agree, compared by test name (the text before the first ": "): no FAIL
#     on either side; a test that passes on plain QEMU passes with the same
#     lines under hv; a test plain QEMU skips (an hvkit-only test such as a
#     hypercall) may pass or skip under hv;
#   - a guest that prints verdicts ends with "SUMMARY: N tests, F unexpected
#     failures, S skipped", with F = 0 when the expected code is 0.
# The manifest's "triple" guest must end plain QEMU (-no-reboot: a reset
# powers off, qemu-guest says 127) and make hvrun report "guest crashed"
# with the guest's registers and exit 127.
#
# guests.list: one guest per line, tab-separated: name, -append arguments or
# "-", expected exit code on plain QEMU or "triple", description.  '#' starts
# a comment line.  The guest image is build/guestkit/NAME.elf.
. "$(dirname "$0")/lib.bash"

LIST=${GUESTS_LIST:-$TOP/guestkit/tests/guests.list}
W=$IT_WORK
GUEST_DIR=${GUEST_DIR:-$BUILD/guestkit}
TIMEOUT=${GUEST_TIMEOUT:-60}

# verdicts FILE: the guest's verdict lines, "VERDICT<TAB>NAME<TAB>TEXT".
verdicts() {
    sed -nE 's/^(PASS|FAIL|SKIP): (.*)$/\1\t\2/p' "$1" | awk -F '\t' '{
        name = $2; i = index(name, ": "); if (i > 0) name = substr(name, 1, i - 1)
        print $1 "\t" name "\t" $2 }'
}

# compare_verdicts PLAIN HV: print the first disagreement, or nothing.
compare_verdicts() {
    awk -F '\t' '
        FNR == 1 { side++ }
        { key = $2; v[side, key] = v[side, key] $1 " "; t[side, key] = t[side, key] $3 "\n"
          if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
        $1 == "FAIL" { bad = bad (bad ? "" : (side == 1 ? "plain QEMU: " : "under hv: ") "FAIL: " $3) }
        END {
            if (bad) { print bad; exit }
            for (i = 1; i <= n; i++) {
                k = order[i]; p = v[1, k]; h = v[2, k]
                if (p == "") { print "\"" k "\" is reported only under hv"; exit }
                if (h == "") { print "\"" k "\" is missing under hv"; exit }
                if (p ~ /SKIP/) continue
                # A test the guest itself skips under hv, saying why (a
                # feature hv does not have yet), is a gap, not a wrong
                # result: it is counted and the case is reported as SKIP.
                if (h ~ /^(SKIP )+$/) { gap++; if (!gapname) gapname = k; continue }
                if (p != h || t[1, k] != t[2, k]) { print "\"" k "\" passes on plain QEMU but not the same way under hv (" h ")"; exit }
            }
            if (gap) print "GAP\t" gap "\t" gapname
        }' "$1" "$2"
}

# check_summary FILE EXPECTED SIDE: the SUMMARY line is there and sane.
check_summary() {
    local f=$1 want=$2 side=$3 line nfail
    grep -qE '^(PASS|FAIL|SKIP): ' "$f" || return 0
    line=$(grep -E '^SUMMARY: ' "$f" | tail -n 1)
    if [ -z "$line" ]; then
        echo "no SUMMARY line $side"
        return
    fi
    nfail=$(sed -nE 's/.* ([0-9]+) unexpected failures?.*/\1/p' <<<"$line")
    if [ -z "$nfail" ]; then
        echo "malformed SUMMARY line $side: $line"
    elif [ "$want" = 0 ] && [ "$nfail" != 0 ]; then
        echo "$side: $line"
    fi
}

# one_guest ID LABEL GUEST ARGS EXPECTED: run the guest both ways and judge.
# ID names the log files and LABEL the verdict (a guest may be listed twice,
# with other arguments).
one_guest() {
    local id=$1 name=$2 args=$4 want=$5 img=$GUEST_DIR/$3.elf
    local app=() ps hs why gap count first
    [ "$args" = - ] || app=(-append "$args")
    if [ ! -f "$img" ]; then
        fail "$name" "$img is not built"
        return
    fi
    run_logged "$W/$id.plain.out" "$W/$id.plain.err" "$W/$id.plain.st" \
        "$TOP/bin/qemu-guest" --timeout "$TIMEOUT" -kernel "$img" "${app[@]}"
    run_logged "$W/$id.hv.out" "$W/$id.hv.err" "$W/$id.hv.st" \
        "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" -kernel "$img" "${app[@]}"
    ps=$(cat "$W/$id.plain.st") hs=$(cat "$W/$id.hv.st")

    if [ "$want" = triple ]; then
        if [ "$ps" != 127 ]; then
            fail "$name" "plain QEMU: status $ps, expected 127 (the machine powers off on a triple fault)"
            show_log "$W/$id.plain.err"
        elif [ "$hs" != 127 ]; then
            fail "$name" "under hv: status $hs, expected 127 (guest crashed)"
            show_log "$W/$id.hv.err"
        elif ! grep -q '^\[hv\] exit: guest crashed (' "$W/$id.hv.err"; then
            fail "$name" "hv did not print '[hv] exit: guest crashed (...)'"
            show_log "$W/$id.hv.err"
        elif ! grep -qiE '^\[hv\] .*rip[ =:]+(0x)?[0-9a-f]{4,}' "$W/$id.hv.err"; then
            fail "$name" "hv's crash report shows no registers (no RIP)"
            show_log "$W/$id.hv.err"
        else
            pass "$name"
        fi
        return
    fi

    if [ "$ps" != "$want" ]; then
        fail "$name" "plain QEMU: status $ps, expected $want"
        show_log "$W/$id.plain.out" 20
        show_log "$W/$id.plain.err" 5
        return
    fi
    if [ "$hs" != "$want" ]; then
        fail "$name" "under hv: status $hs, expected $want"
        show_log "$W/$id.hv.out" 10
        show_log "$W/$id.hv.err" 20
        return
    fi
    verdicts "$W/$id.plain.out" >"$W/$id.plain.v"
    verdicts "$W/$id.hv.out" >"$W/$id.hv.v"
    why=$(compare_verdicts "$W/$id.plain.v" "$W/$id.hv.v")
    gap=
    if [[ $why == GAP$'\t'* ]]; then
        gap=$why why=
    fi
    [ -n "$why" ] || why=$(check_summary "$W/$id.plain.out" "$want" "on plain QEMU")
    [ -n "$why" ] || why=$(check_summary "$W/$id.hv.out" "$want" "under hv")
    if [ -n "$why" ]; then
        fail "$name" "$why"
        show_log "$W/$id.hv.out" 20
    elif [ -n "$gap" ]; then
        IFS=$'\t' read -r _ count first <<<"$gap"
        skip "$name" "$count test(s) pass on plain QEMU but the guest skips them under hv (first: $(grep -m1 -F "SKIP: $first" "$W/$id.hv.out" | cut -c7-))"
    else
        pass "$name"
    fi
}

if [ ! -f "$LIST" ]; then
    skip guests-qemu-svm "no guest manifest yet ($LIST)"
    exit 0
fi
why=$(hv_missing)
n=0
# shellcheck disable=SC2094  # the loop and awk only read the manifest
while IFS=$'\t' read -r name args want _desc; do
    case $name in '' | '#'*) continue ;; esac
    n=$((n + 1))
    if [ -z "${args:-}" ] || [ -z "${want:-}" ]; then
        fail "$name" "malformed line in ${LIST#"$TOP"/} (want: name, args or -, code or triple, description)"
        continue
    fi
    if [ -n "$why" ]; then
        skip "$name" "$why"
        continue
    fi
    # The verdict's name is the guest's, with its arguments if it is listed
    # more than once.
    label=$name
    if [ "$(awk -F '\t' -v g="$name" '$1 == g' "$LIST" | wc -l)" -gt 1 ]; then
        label="$name $args"
    fi
    run_case "$n-$name" one_guest "$n-$name" "$label" "$name" "$args" "$want"
done <"$LIST"
finish_cases
[ "$n" -gt 0 ] || fail guests-qemu-svm "${LIST#"$TOP"/} lists no guest"
