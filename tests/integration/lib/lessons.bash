# shellcheck shell=bash
# Helpers for the tests of the lesson chapters (lesson01.sh, lesson02.sh),
# sourced after lib.bash.  A chapter quotes program output in blocks that
# lib/outputs.pl compares with a fresh run of the command named above each.

OUTPUTS=(perl "$TOP/tests/integration/lib/outputs.pl")

# quoted_blocks DOC NAME [SKIP-REGEX WHY]: every output block of DOC matches
# a fresh run; blocks whose command matches SKIP-REGEX are skipped, for WHY.
quoted_blocks() {
    local doc=$1 n=$2 out
    if out=$("${OUTPUTS[@]}" ${3:+--skip "$3"} "$doc"); then
        pass "$n ($(grep -c ': ok ' <<<"$out") blocks$(grep -q ': SKIP ' <<<"$out" &&
            echo ", $(grep -c ': SKIP ' <<<"$out") skipped: $4"))"
    else
        fail "$n" "$(grep -c ': MISMATCH' <<<"$out") block(s) differ from a fresh run"
        sed 's/^/    /' <<<"$out"
    fi
}

# stats_add_up DOC NAME: the first statistics table DOC quotes adds up, its
# rows summing to its total (the numbers may vary between runs, so a block
# could match a fresh run and still be inconsistent in itself).
stats_add_up() {
    local doc=$1 n=$2 sum total
    read -r sum total < <(awk '
        /^\[hv\] exit statistics/ { on = 1; next }
        on && /^\[hv\]   total / { print s, $NF; exit }
        on && /^\[hv\]   [A-Z_]+ +[0-9]+$/ { s += $NF }' "$doc")
    if [ -n "$total" ] && [ "$sum" = "$total" ]; then
        pass "$n ($total)"
    else
        fail "$n" "the rows sum to ${sum:-nothing}, the total line says ${total:-nothing}"
    fi
}

# expect NAME FILE REGEX...: every extended REGEX matches a line of FILE;
# on the first that does not, the case fails (status 1).
expect() {
    local n=$1 f=$2 re
    shift 2
    for re in "$@"; do
        if ! grep -qE -e "$re" "$f"; then
            fail "$n" "no line matching /$re/ in ${f#"$TOP"/}"
            show_log "$f" 8
            return 1
        fi
    done
}
