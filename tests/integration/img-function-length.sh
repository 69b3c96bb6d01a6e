#!/usr/bin/env bash
# imgtool reads like hv: every function in imgtool/ (library and CLI) is
# short enough to hold in one's head, at most 100 lines of body; a longer
# one is split into named steps.  lib/function-length.pl says exactly how
# a function is measured.  The checker itself must catch a long function
# and pass one of exactly the limit.
. "$(dirname "$0")/lib.bash"

MAX=100
CHECK=(perl "$TOP/tests/integration/lib/function-length.pl")

# A probe: short() and edge() (exactly $MAX lines from brace to brace) pass,
# long() and wrapped(), whose definition spans two lines, fail.
probe=$IT_WORK/probe.c
body() { # N: N-2 statement lines, so that the braces make N lines
    local i
    for ((i = 0; i < $1 - 2; i++)); do echo "    x++;"; done
}
{
    printf 'static const int table[] = {\n    1,\n};\n\nint short(void)\n{\n    return 0;\n}\n\n'
    printf 'int edge(void)\n{\n'
    body "$MAX"
    printf '}\n\nstatic void long(int a)\n{\n'
    body $((MAX + 1))
    printf '}\n\nstatic void wrapped(int a,\n                    int b)\n{\n'
    body $((MAX + 5))
    printf '}\n'
} >"$probe"
out=$("${CHECK[@]}" "$MAX" "$probe")
status=$?
if [ "$status" -eq 1 ] && [ "$(grep -c . <<<"$out")" -eq 2 ] &&
    grep -qE ":[0-9]+: long\(\) is $((MAX + 1)) lines" <<<"$out" &&
    grep -q "wrapped() is $((MAX + 5)) lines" <<<"$out"; then
    pass "function length: the checker finds functions over $MAX lines"
else
    fail "function length: the checker finds functions over $MAX lines" \
        "status $status, output: $(tr '\n' '|' <<<"$out")"
fi

cd "$TOP" || exit 1
mapfile -t files < <(git ls-files 'imgtool/*.c' 'imgtool/*.h')
count=$("${CHECK[@]}" -l "$MAX" "${files[@]}" | grep -c .)
if [ "$count" -eq 0 ]; then
    fail "function length" "no function found in imgtool/ (is the checker broken?)"
elif out=$("${CHECK[@]}" "$MAX" "${files[@]}"); then
    pass "function length: all $count functions in imgtool/ are at most $MAX lines"
else
    fail "function length" "$(grep -c . <<<"$out") functions in imgtool/ are over $MAX lines"
    # shellcheck disable=SC2001  # indent every line
    sed 's/^/    /' <<<"$out"
fi
