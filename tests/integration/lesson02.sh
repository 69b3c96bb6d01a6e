#!/usr/bin/env bash
# Lesson 02 quotes output and shows a figure; both must be what hv does.
# Every quoted output block of lessons/02-second-level-paging/README.md is
# compared line by line with a fresh run of the command named in the
# comment above it, except for the numbers that comment says vary
# (lib/outputs.pl; the Bochs block is skipped without Bochs), and the
# quoted statistics table must add up.  The lesson's command and its two
# "things to try" are checked for their exit status and the lines the
# chapter explains.  The figure docs/diagrams/lesson02-slat.dot must be
# what a fresh run of the command that made it prints, host addresses aside
# (diagrams.sh checks that the SVG is that .dot's rendering).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/lessons.bash"

W=$IT_WORK
L=$TOP/lessons/02-second-level-paging
DOT=$TOP/docs/diagrams/lesson02-slat.dot

stats_add_up "$L/README.md" "lesson02: the quoted statistics add up"
skip_all_if "$(built_missing "$HV" "$BUILD/guestkit/memtour.elf")" "lesson02: run" \
    "lesson02: a read-only page" "lesson02: lazy mode" "lesson02: the figure is a fresh run's" \
    "lesson02: quoted output is a fresh run's"

# run_lesson ID ARGS...: the lesson's command with ARGS, logged as ID.*.
run_lesson() {
    local id=$1
    shift
    run_logged "$W/$id.out" "$W/$id.err" "$W/$id.st" "$L/run" "$@"
}

# status_is NAME ID WANT: the run ID ended with status WANT.
status_is() {
    if [ "$(cat "$W/$2.st")" != "$3" ]; then
        fail "$1" "lessons/02-second-level-paging/run exited with $(cat "$W/$2.st"), the chapter says $3"
        show_log "$W/$2.err"
        return 1
    fi
}

lesson_run() {
    local n="lesson02: run"
    run_lesson run
    status_is "$n" run 0 &&
        expect "$n" "$W/run.out" '^memtour:   0x0000100000-0x0007fdffff available$' \
            '^PASS: local APIC version register at 0xfee00030: 0x50014$' \
            '^PASS: dirty log: pages 1 3 4 of 8 written' '^SUMMARY: 5 tests, 0 unexpected failures' &&
        expect "$n" "$W/run.err" \
            '^\[hv\] exit [0-9]+: MEM_VIOLATION VMEXIT_NPF 0x400 rip 0x[0-9a-f]+ mmio local APIC read gpa 0xfee00030: emulated \(2 bytes\)$' \
            '^\[hv\] exit [0-9]+: MEM_VIOLATION VMEXIT_NPF 0x400 rip 0x[0-9a-f]+ mmio local APIC write gpa 0xfee00080: emulated ' \
            '^\[hv\] exit [0-9]+: MEM_VIOLATION VMEXIT_NPF 0x400 rip 0x[0-9a-f]+ gpa 0x1003064 write: first write, logged dirty page 0x1003000$' \
            '^\[hv\] dirty log: 3 of 8 pages from 0x1000000 written: 0x1001000 0x1003000 0x1004000$' \
            '^\[hv\] exit [0-9]+: HYPERCALL VMEXIT_VMMCALL 0x81 rip 0x[0-9a-f]+ nr 8 \(HC_MEM_PROTECT\) cpl 0 args 0x800000 0x1000 0x5 -> 0$' \
            '^\[hv\]   MEM_VIOLATION +[0-9]+$' '^\[hv\] exit: guest code=0$' &&
        no_ram_exit "$n" && pass "$n"
}

# no_ram_exit NAME: section 2's store and load at 0x800000 caused no exit.
no_ram_exit() {
    if grep -q ' gpa 0x800' "$W/run.err"; then
        fail "$1" "an exit at 0x800000 in an eager run: $(grep -m1 ' gpa 0x800' "$W/run.err")"
        return 1
    fi
}

read_only() {
    local n="lesson02: a read-only page"
    run_lesson write -append write
    status_is "$n" write 127 &&
        expect "$n" "$W/write.out" '^memtour: writing to the read-only page at 0x800000$' &&
        expect "$n" "$W/write.err" '^\[hv\]   last exit VMEXIT_NPF \(0x400\) exitinfo1 0x100000007 exitinfo2 0x800004 ' \
            '^\[hv\] exit: guest crashed \(wrote to guest-physical 0x800004 at rip 0x[0-9a-f]+: a RAM page that does not allow it, in the RAM range\)$' &&
        pass "$n"
}

lazy() {
    local n="lesson02: lazy mode"
    run_lesson lazy --npt lazy
    status_is "$n" lazy 0 &&
        expect "$n" "$W/lazy.err" \
            '^\[hv\] exit 1: MEM_VIOLATION VMEXIT_NPF 0x400 rip 0x10000c gpa 0x10000c fetch: first touch, mapped page 0x100000$' \
            '^\[hv\] exit [0-9]+: MEM_VIOLATION VMEXIT_NPF 0x400 rip 0x[0-9a-f]+ gpa 0x800000 write: first touch, mapped page 0x800000$' \
            '^\[hv\] npt=lazy: [0-9]+ pages mapped on first touch$' '^\[hv\] exit: guest code=0$' &&
        pass "$n"
}

# The committed graph with the host addresses masked: they move whenever
# hv's own allocations change, and the chapter says so.
masked() {
    sed -E 's/host 0x[0-9a-f]+-0x[0-9a-f]+/host #/' "$1"
}

figure() {
    local n="lesson02: the figure is a fresh run's"
    if ! bash "$TOP/docs/slatgraph.sh" "$W/slat.dot" -kernel "$BUILD/guestkit/memtour.elf" \
        -append tables >"$W/slat.log" 2>&1; then
        fail "$n" "docs/slatgraph.sh failed"
        show_log "$W/slat.log"
    elif ! diff <(masked "$DOT") <(masked "$W/slat.dot") >"$W/slat.diff"; then
        fail "$n" "docs/diagrams/lesson02-slat.dot differs from a fresh run (make -C docs lesson02-figure)"
        show_log "$W/slat.diff"
    else
        pass "$n ($(grep -c -- '->' "$DOT") runs of pages)"
    fi
}

run_case run lesson_run
run_case write read_only
run_case lazy lazy
run_case figure figure
finish_cases
# One after the other: each runs emulators of its own.
nobochs=$(bochs_missing)
quoted_blocks "$L/README.md" "lesson02: quoted output is a fresh run's" \
    ${nobochs:+--emulator bochs} "$nobochs"
