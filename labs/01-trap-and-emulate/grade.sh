#!/usr/bin/env bash
# grade.sh: the grader of lab 01 (trap and emulate).
#
#   grade.sh SRC OUT
#
# Builds hv, three guestkit guests and two hosted unit-test programs from the
# tree SRC (a student's work/ or the repository itself) into OUT, runs the
# guests under the student's hv with bin/hvrun --hv, and prints one line per
# exercise, "PASS: N name" or "FAIL: N name: why", then the score.  Exit
# status 0 only when all three exercises pass.
#
# Environment: TOP (the repository, for bin/hvrun), GRADE_MAX_EXITS (VM exits
# a guest may cause, default 100000, about a hundred times what each guest
# needs: a guest whose instructions are never skipped traps on the same one
# forever, and hv ends it after that many exits, in a second or two),
# GRADE_TIMEOUT (seconds a guest may run, default 20, for a guest that hangs
# without exits), GRADE_JOBS (make -j, default 2).
set -uo pipefail

src=${1:?usage: grade.sh SRC OUT}
out=${2:?usage: grade.sh SRC OUT}
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
timeout=${GRADE_TIMEOUT:-20}
max_exits=${GRADE_MAX_EXITS:-100000}
jobs=${GRADE_JOBS:-2}
logs=$out/logs
mkdir -p "$logs"
rm -f "$logs"/*

names=(advance-rip cpuid-signature uart-scratch)
declare -A why=()
fail() { # exercise reason: every reason is shown, in the order found
    why[$1]=${why[$1]:+${why[$1]}; }$2
}

# 1. Build.  Everything goes into OUT (BUILD=OUT): the student's tree
# contains its own mk/config.mk, so SRC's Makefiles compile SRC's sources.
echo "lab 01: building $src into $out" >&2
built=1
if ! make -j"$jobs" -C "$src/hv" BUILD="$out" >"$logs/build-hv.log" 2>&1; then
    built=0
    echo "lab 01: hv does not build; the compiler said (full log $logs/build-hv.log):" >&2
    grep -E ': (fatal )?error:|undefined reference|\*\*\*' "$logs/build-hv.log" | head -n 20 |
        sed 's/^/    /' >&2
    for n in "${names[@]}"; do fail "$n" "hv does not build"; done
fi
guest_elfs=("$out/guestkit/hello.elf" "$out/guestkit/cpuid.elf" "$out/guestkit/portio.elf")
if ! make -j"$jobs" -C "$src/guestkit" BUILD="$out" "${guest_elfs[@]}" \
    >/dev/null 2>"$logs/build-guests.log"; then
    echo "lab 01: the guests do not build (log $logs/build-guests.log)" >&2
    for n in "${names[@]}"; do fail "$n" "the guests do not build"; done
    built=0
fi
units_ok=1
if ! make -j"$jobs" -C "$src/tests" BUILD="$out" "$out/tests/unit/hv_core" \
    "$out/tests/unit/hv_dev" >"$logs/build-units.log" 2>&1; then
    units_ok=0
    echo "lab 01: the unit tests do not build (log $logs/build-units.log)" >&2
fi

# 2. The guests, under the student's hv, with hv's exit budget (max-exits).
# hello first: when it does not end, no guest will (every guest starts with
# a CPUID), so the others are not run.
declare -A status=()
run_guest() { # name append
    local name=$1 append=$2
    "$TOP/bin/hvrun" --hv "$out/hv/hv.elf" --timeout "$timeout" --max-exits "$max_exits" \
        -kernel "$out/guestkit/$name.elf" -append "$append" >"$logs/$name.out" 2>"$logs/$name.err"
    status[$name]=$?
}
# stuck GUEST: the guest never finished: killed at the timeout, or ended by
# hv when it used up its exit budget.
stuck() {
    [ "${status[$1]}" = 124 ] || grep -q '^\[hv\] exit: guest crashed (exit budget spent' "$logs/$1.err"
}
if [ "$built" = 1 ]; then
    run_guest hello lab
    if stuck hello; then
        fail advance-rip "hello did not finish ($(grep -o -m1 -E 'exit budget spent: [0-9]+ VM exits|timeout' "$logs/hello.err" || echo "status ${status[hello]}")): is the guest's RIP moved past each emulated instruction? (see $logs/hello.err)"
        fail cpuid-signature "the cpuid guest was not run: hello did not finish"
        fail uart-scratch "the portio guest was not run: hello did not finish"
    else
        run_guest cpuid -
        run_guest portio -
    fi
fi

# has GUEST TEXT: the guest reported "PASS: TEXT..." on its console.
has() { grep -q -F "PASS: $2" "$logs/$1.out" 2>/dev/null; }
# ended GUEST: hvrun's status 0 (the guest's own exit code 0).
ended() { [ "${status[$1]:-x}" = 0 ]; }
# unit PROGRAM TCASE TEST: the Check test TEST of test case TCASE passed.
# Check's normal output names each failing test (FILE:LINE:F:TCASE:TEST:0:
# message, E for a crash); the summary line proves the program ran at all.
unit() {
    local log=$logs/unit-$3.log
    if [ "$units_ok" != 1 ]; then
        echo "not run: the unit tests did not build (see $logs/build-units.log)" >"$log"
        return 1
    fi
    CK_FORK=yes CK_RUN_CASE=$2 "$out/tests/unit/$1" >"$log" 2>&1
    grep -q -E '^[0-9]+%: Checks: [1-9][0-9]*, ' "$log" &&
        ! grep -q -E "^[^:]+:[0-9]+:[FE]:$2:$3:" "$log"
}

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
score=0 i=0
for n in "${names[@]}"; do
    i=$((i + 1))
    if [ -z "${why[$n]:-}" ]; then
        echo "PASS: $i $n"
        score=$((score + 1))
    else
        echo "FAIL: $i $n: ${why[$n]}"
    fi
done
echo "lab 01 score: $score/${#names[@]} (logs in $logs)"
[ "$score" = "${#names[@]}" ]
