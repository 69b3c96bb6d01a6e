# shellcheck shell=bash
# Judging a guest of guestkit/tests/guests.list run under hv against the same
# guest on plain QEMU (the reference machine).  Sourced after lib.bash by
# every suite that compares the two: tests/integration/bochs-guests.sh (Bochs,
# VMX and SVM), and the logic of guests-qemu-svm.sh (QEMU, SVM), factored out
# of it so that all platforms are judged by the same rules:
#   - both exit statuses equal the manifest's expected code;
#   - the guest's verdict lines ("PASS: ...", "SKIP: ...", "FAIL: ...")
#     agree, compared by test name (the text before the first ": "): no FAIL
#     on either side; a test that passes on plain QEMU passes with the same
#     lines under hv; a test plain QEMU skips may pass or skip under hv; a
#     test the guest skips under hv, saying why (a feature hv lacks), is a
#     gap: the case is reported as SKIP;
#   - a guest that prints verdicts ends with "SUMMARY: N tests, F unexpected
#     failures, S skipped", with F = 0 when the expected code is 0;
#   - a "triple" guest ends plain QEMU with 127 and makes hvrun report
#     "guest crashed" with the guest's registers, status 127.
# Runs are given as file prefixes: PREFIX.out (stdout), PREFIX.err (stderr),
# PREFIX.st (exit status), as lib.bash's run_logged writes them.

# guests_verdicts FILE: the guest's verdict lines, "VERDICT<TAB>NAME<TAB>TEXT".
guests_verdicts() {
    sed -nE 's/^(PASS|FAIL|SKIP): (.*)$/\1\t\2/p' "$1" | awk -F '\t' '{
        name = $2; i = index(name, ": "); if (i > 0) name = substr(name, 1, i - 1)
        print $1 "\t" name "\t" $2 }'
}

# guests_compare_verdicts PLAIN HV: print the first disagreement, "GAP<TAB>N<TAB>NAME"
# for tests the guest skips only under hv, or nothing.
guests_compare_verdicts() {
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
                if (h ~ /^(SKIP )+$/) { gap++; if (!gapname) gapname = k; continue }
                if (p != h || t[1, k] != t[2, k]) { print "\"" k "\" passes on plain QEMU but not the same way under hv (" h ")"; exit }
            }
            if (gap) print "GAP\t" gap "\t" gapname
        }' "$1" "$2"
}

# guests_check_summary FILE EXPECTED SIDE: the SUMMARY line is there and sane.
guests_check_summary() {
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

# plain_run PREFIX EXPECTED COMMAND...: the reference run on plain QEMU,
# into PREFIX.out, .err and .st.  A run that does not end with the
# manifest's status (127 for "triple") is made once more before it counts:
# on a host whose two cores run two suites at once, QEMU's vCPU thread can
# be starved long enough to lose timer ticks (the spin guest counts them),
# which is the host's doing, not the guest's; a second failure stands.
plain_run() {
    local p=$1 want=$2
    shift 2
    [ "$want" != triple ] || want=127
    run_logged "$p.out" "$p.err" "$p.st" "$@"
    [ "$(cat "$p.st")" = "$want" ] || run_logged "$p.out" "$p.err" "$p.st" "$@"
}

# guests_judge LABEL EXPECTED PLAIN HV: print one PASS/FAIL/SKIP line for a
# guest run on plain QEMU (prefix PLAIN) and under hv (prefix HV).
guests_judge() {
    local name=$1 want=$2 p=$3 h=$4 ps hs why gap count first
    ps=$(cat "$p.st") hs=$(cat "$h.st")
    if [ "$want" = triple ]; then
        if [ "$ps" != 127 ]; then
            fail "$name" "plain QEMU: status $ps, expected 127 (the machine powers off on a triple fault)"
            show_log "$p.err"
        elif [ "$hs" != 127 ]; then
            fail "$name" "under hv: status $hs, expected 127 (guest crashed)"
            show_log "$h.err"
        elif ! grep -q '^\[hv\] exit: guest crashed (' "$h.err"; then
            fail "$name" "hv did not print '[hv] exit: guest crashed (...)'"
            show_log "$h.err"
        elif ! grep -qiE '^\[hv\] .*rip[ =:]+(0x)?[0-9a-f]{4,}' "$h.err"; then
            fail "$name" "hv's crash report shows no registers (no RIP)"
            show_log "$h.err"
        else
            pass "$name"
        fi
        return
    fi
    if [ "$ps" != "$want" ]; then
        fail "$name" "plain QEMU: status $ps, expected $want"
        show_log "$p.out" 20
        show_log "$p.err" 5
        return
    fi
    if [ "$hs" != "$want" ]; then
        fail "$name" "under hv: status $hs, expected $want"
        show_log "$h.out" 10
        show_log "$h.err" 20
        return
    fi
    guests_verdicts "$p.out" >"$p.v"
    guests_verdicts "$h.out" >"$h.v"
    why=$(guests_compare_verdicts "$p.v" "$h.v")
    gap=
    if [[ $why == GAP$'\t'* ]]; then
        gap=$why why=
    fi
    [ -n "$why" ] || why=$(guests_check_summary "$p.out" "$want" "on plain QEMU")
    [ -n "$why" ] || why=$(guests_check_summary "$h.out" "$want" "under hv")
    if [ -n "$why" ]; then
        fail "$name" "$why"
        show_log "$h.out" 20
    elif [ -n "$gap" ]; then
        IFS=$'\t' read -r _ count first <<<"$gap"
        skip "$name" "$count test(s) pass on plain QEMU but the guest skips them under hv (first:\
 \"$first\": $(grep -m1 -F "SKIP: $first" "$h.out" | cut -c7-))"
    else
        pass "$name"
    fi
}

# guests_list FILE: the manifest's guests, one "NAME<TAB>ARGS<TAB>EXPECTED<TAB>LABEL"
# line each (LABEL is the name, plus the arguments for a guest listed more
# than once); a malformed line comes out as "!<TAB>LINE".
guests_list() {
    awk -F '\t' '
        /^[ \t]*(#|$)/ { next }
        { n++; name[n] = $1; args[n] = $2; want[n] = $3; count[$1]++; line[n] = $0 }
        END {
            for (i = 1; i <= n; i++) {
                if (args[i] == "" || want[i] == "") { print "!\t" line[i]; continue }
                label = name[i]; if (count[name[i]] > 1) label = name[i] " " args[i]
                print name[i] "\t" args[i] "\t" want[i] "\t" label
            }
        }' "$1"
}
