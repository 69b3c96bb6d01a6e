#!/usr/bin/env bash
# The prose must not drift from the code: every `file: function()` citation
# in the lesson chapters and in docs/ must name a function that file still
# defines (lessons/check-citations.sh).  A chapter must cite some code, and
# the checker itself must catch a false citation.
. "$(dirname "$0")/lib.bash"

CHECK=$TOP/lessons/check-citations.sh

# The checker catches a missing function, a missing file and a citation
# wrapped across lines, and accepts a true one.
probe=$IT_WORK/probe.md
cat >"$probe" <<'MD'
True: `lessons/check-citations.sh: defines()`.
False: `lessons/check-citations.sh: no_such_function()`, and
`lessons/no-such-file.c: main()`, and wrapped over a line: `lessons/check-citations.sh:
also_missing()`.
MD
out=$("$CHECK" "$probe")
status=$?
if [ "$status" -eq 1 ] && [ "$(grep -c . <<<"$out")" -eq 3 ] &&
    grep -q 'no_such_function' <<<"$out" && grep -q 'no-such-file.c does not exist' <<<"$out" &&
    grep -q 'also_missing' <<<"$out"; then
    pass "check-citations finds false citations"
else
    fail "check-citations finds false citations" "status $status, output: $(tr '\n' '|' <<<"$out")"
fi

shopt -s nullglob
for doc in "$TOP"/lessons/*/README.md "$TOP"/docs/*.md; do
    name=${doc#"$TOP"/}
    n=$("$CHECK" -v "$doc" | grep -c ': ok$')
    if ! out=$("$CHECK" "$doc"); then
        fail "citations in $name" "$(grep -c . <<<"$out") false: $(head -n 3 <<<"$out" | tr '\n' ' ')"
        # shellcheck disable=SC2001  # indent every line
        sed 's/^/    /' <<<"$out" | head -n 20
    elif [[ $name == lessons/* ]] && [ "$n" -eq 0 ]; then
        fail "citations in $name" "the chapter cites no code (\`file: function()\`)"
    else
        pass "citations in $name ($n)"
    fi
done
