#!/usr/bin/env bash
# Lesson 04 quotes output, numbers and a figure; all must be what the code
# does.  Every quoted output block of lessons/04-paravirtual-drivers/
# README.md is compared line by line with a fresh run of the command named
# in the comment above it, except for the numbers that comment says vary
# (lib/outputs.pl): the lesson's run (its guests' output on stdout, hv's
# lines on stderr), the benchmark's table (whose exit counts are compared,
# its times not), and pvcon under VT-x on Bochs (skipped without Bochs).
# The quoted statistics table must add up.  The lesson's command is checked
# for its exit status, every guest's summary and the image file it leaves
# (qemu-img check clean).  The figure is docs/diagrams/lesson04-*.dot
# (diagrams.sh checks its SVG).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/lessons.bash"

W=$IT_WORK
L=$TOP/lessons/04-paravirtual-drivers
DISK=$BUILD/lesson04/disk.qcow2
CASES=("lesson04: run" "lesson04: quoted output is a fresh run's")

stats_add_up "$L/README.md" "lesson04: the quoted statistics add up"
for f in lesson04-console-ring; do
    if grep -qF "docs/diagrams/$f.svg" "$L/README.md" && [ -f "$TOP/docs/diagrams/$f.dot" ]; then
        pass "lesson04: the chapter shows docs/diagrams/$f.svg"
    else
        fail "lesson04: the chapter shows docs/diagrams/$f.svg" "not referenced, or no $f.dot"
    fi
done
skip_all_if "$(built_missing "$HV" "$BUILD/guestkit/pvcon.elf" "$BUILD/guestkit/pvclock.elf" \
    "$BUILD/guestkit/pvballoon.elf" "$BUILD/guestkit/pvblk.elf" "$BUILD/guestkit/vbench.elf")" \
    "${CASES[@]}"
for tool in qemu-system-x86_64 qemu-img; do
    command -v "$tool" >/dev/null || skip_all_if "$tool is not installed (bash mk/deps.sh test)" "${CASES[@]}"
done

lesson_run() {
    local n="lesson04: run"
    run_logged "$W/run.out" "$W/run.err" "$W/run.st" "$L/run"
    if [ "$(cat "$W/run.st")" != 0 ]; then
        fail "$n" "lessons/04-paravirtual-drivers/run exited with $(cat "$W/run.st"), the chapter says 0"
        show_log "$W/run.err"
        return
    fi
    if [ "$(grep -c '^SUMMARY: .* 0 unexpected failures, 0 skipped$' "$W/run.out")" != 4 ]; then
        fail "$n" "not four guests passing with nothing skipped"
        show_log "$W/run.out" 20
        return
    fi
    expect "$n" "$W/run.out" '^SUMMARY: 10 tests, 0 unexpected failures' \
        '^No errors were found on the image\.$' &&
        expect "$n" "$W/run.err" '^\[hv\] pv: hypercall page at 0x[0-9a-f]+ \(0f 01 d9, svm\)$' \
            '^\[hv\] pv-balloon: 16384 KiB given back of 32768 KiB, target 16384 KiB$' &&
        if qemu-img check -q "$DISK"; then
            pass "$n (four guests pass; qemu-img check is clean)"
        else
            fail "$n" "build/lesson04/disk.qcow2 is not clean"
        fi
}

lesson_run
# The Bochs block (VT-x) is skipped without Bochs.
nobochs=$(bochs_missing)
quoted_blocks "$L/README.md" "lesson04: quoted output is a fresh run's" \
    ${nobochs:+--emulator bochs} "$nobochs"
