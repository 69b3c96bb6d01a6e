# shellcheck shell=bash
# Running a benchmark in its smallest configuration and checking the shape
# of its table (sourced by bench-pv.sh and bench-virtio.sh after lib.bash).
# Only the shape: the numbers are the benchmark's business, never a test's.

# bench_quick SCRIPT: run bench/SCRIPT --quick; the case is named
# "bench/SCRIPT --quick" ($n), its output is in $W/out, its error output in
# $W/err and its exit status in $W/st.  Every case is skipped, with the
# reason, when hv or the vbench guest is not built or QEMU is not installed.
bench_quick() {
    W=$IT_WORK
    n="bench/$1 --quick"
    skip_all_if "$(built_missing "$HV" "$BUILD/guestkit/vbench.elf")" "$n"
    for tool in qemu-system-x86_64 qemu-img; do
        command -v "$tool" >/dev/null || skip_all_if "$tool is not installed (bash mk/deps.sh test)" "$n"
    done
    run_logged "$W/out" "$W/err" "$W/st" "$TOP/bench/$1" --quick
}

# bench_table_failed LINES PARTS REGEX...: report the case failed and
# return 0 when the benchmark did not end with status 0, when no line of
# its output matches one of the extended REGEXes, or when its table does
# not have LINES lines (PARTS says which: "a head, a rule, N rows");
# otherwise return 1 and say nothing.
bench_table_failed() {
    local lines=$1 parts=$2 re missing=
    shift 2
    for re in "$@"; do
        grep -qE -e "$re" "$W/out" || { missing=$re; break; }
    done
    if [ "$(cat "$W/st")" != 0 ]; then
        fail "$n" "status $(cat "$W/st")"
        show_log "$W/err"
    elif [ -n "$missing" ]; then
        fail "$n" "no table row matching /$missing/"
        show_log "$W/out"
    elif [ "$(grep -c '^|' "$W/out")" != "$lines" ]; then
        fail "$n" "the table has $(grep -c '^|' "$W/out") lines, not $lines ($parts)"
        show_log "$W/out"
    else
        return 1
    fi
}
