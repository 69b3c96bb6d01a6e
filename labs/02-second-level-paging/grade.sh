#!/usr/bin/env bash
# grade.sh: the grader of lab 02 (second-level paging).
#
#   grade.sh SRC OUT
#
# Builds hv, four guestkit guests and three hosted unit-test programs from
# the tree SRC (a student's work/ or the repository itself) into OUT, runs
# the guests under the student's hv with bin/hvrun --hv, and prints one line
# per exercise, "PASS: N name" or "FAIL: N name: why", then the score.  Exit
# status 0 only when all four exercises pass.  The environment it reads
# (GRADE_MAX_EXITS, GRADE_TIMEOUT, GRADE_JOBS) and the helpers are in
# labs/tools/grade-lib.bash.
set -uo pipefail

LAB=02
NAMES=(npt-entry slat-walk sib lapic-eoi)
. "$(dirname "$0")/../tools/grade-lib.bash"

# 1. Build.
grade_build_hv
grade_build_guests hello memtour mmio apic
grade_build_units hv_slat hv_emu hv_apic

# 2. The guests, under the student's hv.  hello first: without NPT entries
# no guest gets past its first instruction fetch, so the others are not run.
if [ "$built" = 1 ]; then
    run_guest hello hello lab
    if stuck hello || ! grep -q -F 'Hello, lab!' "$logs/hello.out"; then
        fail npt-entry "hello did not run ($(grep -m1 -o -E '^\[hv\] exit: .*' "$logs/hello.err" || stuck_why hello)): does every NPT entry hv makes let the guest reach its RAM? (see $logs/hello.err)"
        fail slat-walk "the memtour guest was not run: hello did not run"
        fail sib "the mmio guest was not run: hello did not run"
        fail lapic-eoi "the apic guest was not run: hello did not run"
    else
        # memtour with the tables printed at its end (slat_walk() reads them).
        run_guest memtour memtour - --slat-dot
        run_guest mmio mmio -
        run_guest apic apic xapic
    fi
fi

# 3. The exercises.
# Exercise 1, npt-entry: the format's bits in the unit test; hello must run
# to its end under the student's NPT entries.
unit hv_slat "raw entries" npt_format_bits ||
    fail npt-entry "unit test npt_format_bits fails (see $logs/unit-npt_format_bits.log)"
if [ "$built" = 1 ] && [ -z "${why[npt-entry]:-}" ]; then
    ended hello || fail npt-entry "hello ended with status ${status[hello]} instead of 0 (see $logs/hello.err)"
    grep -q -E '^SUMMARY: [0-9]+ tests, 0 unexpected failures' "$logs/hello.out" ||
        fail npt-entry "hello's SUMMARY line is missing or reports failures"
fi
# Exercise 2, slat-walk: tables built and walked hosted, in both formats;
# then memtour, whose dirty log needs the walk, and the table graph hv
# prints at its end, which is made by walking every RAM page.
for t in map_uses_2m_pages_when_aligned protect_splits_a_2m_page; do
    unit hv_slat "both formats" "$t" || fail slat-walk "unit test $t fails (see $logs/unit-$t.log)"
done
if [ "$built" = 1 ] && [ -n "${status[memtour]:-}" ]; then
    has memtour 'dirty log: pages 1 3 4 of 8 written' ||
        fail slat-walk "the memtour guest's dirty log did not report pages 1 3 4 (see $logs/memtour.out and $logs/memtour.err)"
    grep -q -E '^\[hv\] dot: .*RAM, available\\n([0-9]+) of \1 KiB mapped' "$logs/memtour.err" ||
        fail slat-walk "hv's table graph (--slat-dot) does not show the guest's RAM mapped (see $logs/memtour.err)"
    ended memtour || fail slat-walk "the memtour guest ended with status ${status[memtour]} instead of 0"
fi
# Exercise 3, sib: every addressing form against the CPU (unit test), then
# the mmio guest's store through [base + index*8 + disp8] to the APIC.
unit hv_emu emu every_addressing_form ||
    fail sib "unit test every_addressing_form fails (see $logs/unit-every_addressing_form.log)"
if [ "$built" = 1 ] && [ -n "${status[mmio]:-}" ]; then
    has mmio 'mov to [base + index*8 + 0x40]' ||
        fail sib "the mmio guest's store through a SIB byte went wrong (see $logs/mmio.out and $logs/mmio.err)"
    ended mmio || fail sib "the mmio guest ended with status ${status[mmio]} instead of 0"
fi
# Exercise 4, lapic-eoi: the APIC model alone (unit tests), then the apic
# guest, whose handlers end every interrupt with an EOI.
for t in nested_eoi_order level_eoi_message; do
    unit hv_apic lapic "$t" || fail lapic-eoi "unit test $t fails (see $logs/unit-$t.log)"
done
if [ "$built" = 1 ] && [ -n "${status[apic]:-}" ]; then
    has apic 'EOI: nothing left in service' ||
        fail lapic-eoi "the apic guest still had its interrupt in service after EOI (see $logs/apic.out)"
    ended apic || fail lapic-eoi "the apic guest ended with status ${status[apic]} instead of 0 (see $logs/apic.out)"
fi

# 4. The verdict.
grade_verdict
