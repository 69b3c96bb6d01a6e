#!/usr/bin/env bash
# grade.sh: the grader of lab 04 (paravirtual drivers).
#
#   grade.sh SRC OUT
#
# Builds hv, the guestkit guests pvcon and pvclock and the hosted unit-test
# program hv_pv from the tree SRC (a student's work/ or the repository
# itself) into OUT, and prints one line per exercise, "PASS: N name" or
# "FAIL: N name: why", then the score.  Exit status 0 only when both
# exercises pass.
#
# Exercise 1 (hv's consumer of the PV console ring) is judged by the unit
# tests of the console ring and by pvcon under the student's hv: the 64
# lines it prints through the ring must arrive, the same as the 64 it
# prints through the UART.  Exercise 2 (guestkit's pvclock read loop) is
# judged by pvclock under the student's hv: registration, no exits,
# monotonic, and within 1% of the PIT.  The environment it reads
# (GRADE_MAX_EXITS, GRADE_TIMEOUT, GRADE_JOBS) and the helpers are in
# labs/tools/grade-lib.bash.
set -uo pipefail

LAB=04
NAMES=(console-ring pvclock-read)
. "$(dirname "$0")/../tools/grade-lib.bash"

command -v qemu-system-x86_64 >/dev/null || {
    echo "lab 04: qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)" >&2
    exit 2
}

# 1. Build.
grade_build_hv
grade_build_guests pvcon pvclock
grade_build_units hv_pv

# all_pass ID: the guest ended with 0, and its verdicts are all PASS with a
# SUMMARY of 0 failures and nothing skipped.
all_pass() {
    ended "$1" && ! grep -q '^FAIL: ' "$logs/$1.out" &&
        grep -q -E '^SUMMARY: [0-9]+ tests, 0 unexpected failures, 0 skipped' "$logs/$1.out"
}

# first_fail ID: the guest's first FAIL line, or its last line.
first_fail() {
    grep -m1 '^FAIL: ' "$logs/$1.out" || echo "its last line: $(tail -n 1 "$logs/$1.out")"
}

# 2. The guests under the student's hv.
if [ "$built" = 1 ]; then
    run_guest pvcon pvcon bytes=4096
    run_guest pvclock pvclock -
fi

# 3. The exercises.
# Exercise 1, console-ring: the consumer alone (unit tests), then pvcon:
# its lines through the ring (the second 64 "pvcon N" lines on the
# console) must be the ones it printed through the UART (the first 64).
for t in console_lines console_broken_indices; do
    unit hv_pv "console ring" "$t" || fail console-ring "unit test $t fails (see $logs/unit-$t.log)"
done
if [ "$built" = 1 ]; then
    grep -E '^pvcon [0-9]{8} ' "$logs/pvcon.out" >"$logs/pvcon.lines"
    n=$(grep -c . "$logs/pvcon.lines")
    if stuck pvcon; then
        fail console-ring "pvcon under your hv never finished ($(stuck_why pvcon)) (see $logs/pvcon.out)"
    elif ! all_pass pvcon; then
        fail console-ring "pvcon under your hv: $(first_fail pvcon) (see $logs/pvcon.out)"
    elif [ "$n" != 128 ]; then
        fail console-ring "pvcon printed 64 lines through the UART and 64 through the ring, but $n arrived: does hv print what the ring holds? (see $logs/pvcon.out)"
    elif ! cmp -s <(head -n 64 "$logs/pvcon.lines") <(tail -n 64 "$logs/pvcon.lines"); then
        fail console-ring "the lines that came through the ring differ from the ones through the UART (see $logs/pvcon.out)"
    fi
fi

# Exercise 2, pvclock-read: pvclock's four verdicts under the student's hv.
if [ "$built" = 1 ]; then
    if stuck pvclock; then
        fail pvclock-read "pvclock under your hv never finished ($(stuck_why pvclock)): does the read loop ever leave? (see $logs/pvclock.out)"
    elif ! all_pass pvclock; then
        fail pvclock-read "pvclock under your hv: $(first_fail pvclock) (see $logs/pvclock.out)"
    fi
fi

# 4. The verdict.
grade_verdict
