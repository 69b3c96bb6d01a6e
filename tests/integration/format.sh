#!/usr/bin/env bash
# Every C source and header git tracks is formatted as the repo's
# .clang-format says, so that diffs show changes, not whitespace.
. "$(dirname "$0")/lib.bash"

if ! command -v clang-format >/dev/null 2>&1; then
    skip clang-format "clang-format is not installed (mk/deps.sh group test installs it)"
    exit 0
fi
cd "$TOP" || exit 1
# One clang-format for all the files (starting one per file took most of
# the time): it names each file it would change in its "FILE:LINE:COL:
# error:" lines, and fails without naming one only when it could not run.
out=$IT_WORK/clang-format.err
git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run -Werror 2>"$out" >/dev/null
st=$?
mapfile -t bad < <(sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: .*/\1/p' "$out" | awk '!seen[$0]++')
if [ ${#bad[@]} -gt 0 ]; then
    fail clang-format "not formatted (run clang-format -i): ${bad[*]}"
elif [ "$st" -ne 0 ]; then
    fail clang-format "clang-format failed (status $st)"
    show_log "$out"
else
    pass clang-format
fi
