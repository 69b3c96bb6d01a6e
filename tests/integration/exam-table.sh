#!/usr/bin/env bash
# docs/exam/operations.md is what docs/exam/mktable.sh makes from
# operations.tsv and hvkit's front-ends' command tables: regenerated here
# and compared, so the page never claims a command hvkit lacks, nor misses
# one it has gained.
. "$(dirname "$0")/lib.bash"

skip_all_if "$(built_missing "$BUILD/mgmt/virsh" "$BUILD/mgmt/xl" "$BUILD/imgtool/imgtool")" exam-operations-table
if ! bash "$TOP/docs/exam/mktable.sh" >"$IT_WORK/operations.md" 2>"$IT_WORK/mktable.err"; then
    fail exam-operations-table "mktable.sh failed"
    show_log "$IT_WORK/mktable.err"
elif ! diff -u "$TOP/docs/exam/operations.md" "$IT_WORK/operations.md" >"$IT_WORK/diff"; then
    fail exam-operations-table "docs/exam/operations.md is stale: bash docs/exam/mktable.sh > docs/exam/operations.md"
    show_log "$IT_WORK/diff" 20
else
    pass exam-operations-table
fi
