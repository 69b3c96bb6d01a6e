#!/usr/bin/env bash
# grade.sh: the grader of lab 01 (trap and emulate).
#
#   grade.sh SRC OUT
#
# Builds hv, three guestkit guests and two hosted unit-test programs from the
# tree SRC (a student's work/ or the repository itself) into OUT, runs the
# guests under the student's hv with bin/hvrun --hv, and prints one line per
# exercise, "PASS: N name" or "FAIL: N name: why", then the score.  Exit
# status 0 only when all three exercises pass.  The environment it reads
# (GRADE_MAX_EXITS, GRADE_TIMEOUT, GRADE_JOBS) and the helpers are in
# labs/tools/grade-lib.bash.
set -uo pipefail

LAB=01
NAMES=(advance-rip cpuid-signature uart-scratch)
. "$(dirname "$0")/../tools/grade-lib.bash"

# 1. Build.
grade_build_hv
grade_build_guests hello cpuid portio
grade_build_units hv_core hv_dev

# 2. The guests, under the student's hv, with hv's exit budget (max-exits).
# hello first: when it does not end, no guest will (every guest starts with
# a CPUID), so the others are not run.
if [ "$built" = 1 ]; then
    run_guest hello hello lab
    if stuck hello; then
        fail advance-rip "hello did not finish ($(stuck_why hello)): is the guest's RIP moved past each emulated instruction? (see $logs/hello.err)"
        fail cpuid-signature "the cpuid guest was not run: hello did not finish"
        fail uart-scratch "the portio guest was not run: hello did not finish"
    else
        run_guest cpuid cpuid -
        run_guest portio portio -
    fi
fi

# 3. The exercises.
# Exercise 1, advance-rip: every guest needs it; hello must run to its end,
# print its greeting and its summary with no failure.
if [ "$built" = 1 ] && [ -z "${why[advance-rip]:-}" ]; then
    ended hello || fail advance-rip "hello ended with status ${status[hello]} instead of 0 (see $logs/hello.err)"
    grep -q -F 'Hello, lab!' "$logs/hello.out" || fail advance-rip "hello did not print 'Hello, lab!'"
    grep -q -E '^SUMMARY: [0-9]+ tests, 0 unexpected failures' "$logs/hello.out" ||
        fail advance-rip "hello's SUMMARY line is missing or reports failures"
fi
# Exercise 2, cpuid-signature: cpuid_policy() in the unit test, and the cpuid
# guest, which only checks the hypervisor leaves when it finds the signature.
unit hv_core cpuid cpuid_hypervisor_leaves ||
    fail cpuid-signature "unit test cpuid_hypervisor_leaves fails (see $logs/unit-cpuid_hypervisor_leaves.log)"
if [ "$built" = 1 ] && [ -n "${status[cpuid]:-}" ]; then
    has cpuid 'hypervisor signature: leaf 0x40000000 says "hvkithvkithv"' ||
        fail cpuid-signature "the cpuid guest did not find the signature \"hvkithvkithv\" at leaf 0x40000000 (see $logs/cpuid.out)"
    has cpuid 'hvkit ABI version' ||
        fail cpuid-signature "the cpuid guest did not see the ABI version at leaf 0x40000001 (see $logs/cpuid.out)"
    ended cpuid || fail cpuid-signature "the cpuid guest ended with status ${status[cpuid]} instead of 0"
fi
# Exercise 3, uart-scratch: the device model alone (unit test), then the
# portio guest's byte-by-byte and REP INSB checks through the whole path.
unit hv_dev devices uart_lsr_msr_scratch ||
    fail uart-scratch "unit test uart_lsr_msr_scratch fails (see $logs/unit-uart_lsr_msr_scratch.log)"
if [ "$built" = 1 ] && [ -n "${status[portio]:-}" ]; then
    has portio 'UART scratch register keeps 0x5a and 0xa5' ||
        fail uart-scratch "the portio guest's scratch register did not keep 0x5a and 0xa5 (see $logs/portio.out)"
    has portio 'rep insb read the scratch register 8 times' ||
        fail uart-scratch "the portio guest's REP INSB did not read the scratch register back (see $logs/portio.out)"
    ended portio || fail uart-scratch "the portio guest ended with status ${status[portio]} instead of 0"
fi

# 4. The verdict.
grade_verdict
