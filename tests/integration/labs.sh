#!/usr/bin/env bash
# The labs framework and lab 01 (labs/README.md): the reference tree must
# pass lab 01's grader, and the skeleton made from it must compile yet fail
# the grader on EVERY exercise, which proves that each exercise's checks test
# the code the skeleton removed.  Also: the skeleton holds no marker and none
# of the removed code, and mkskeleton.sh refuses broken markers with the
# file and line.
#
# Everything is built under $BUILD/labs/test (never the main build, never a
# student's labs/*/work/), once per tree, and reused by the next run: only
# the files mkskeleton.sh rewrote are compiled again.
. "$(dirname "$0")/lib.bash"

LAB=$TOP/labs/01-trap-and-emulate
T=$BUILD/labs/test
SK=$T/skeleton-src
mkdir -p "$T"

# mkskeleton.sh's refusals need no emulator: a file with a BEGIN and no END,
# an END without BEGIN, and a nested BEGIN.
bad=$IT_WORK/bad
mkdir -p "$bad/src"
printf 'int f(void)\n{\n    /* LAB 01: BEGIN open */\n    return 1;\n}\n' >"$bad/src/noend.c"
printf 'int g(void)\n{\n    return 1;\n    /* LAB 01: END */\n}\n' >"$bad/src/nobegin.c"
printf '/* LAB 01: BEGIN a */\n/* LAB 01: BEGIN b */\n/* LAB 01: END */\n' >"$bad/src/nested.c"
for c in "noend.c:3:.*has no END" "nobegin.c:4:.*END without a BEGIN" "nested.c:2:.*BEGIN inside"; do
    f=${c%%:*}
    LAB_SRC_TOP=$bad/src bash "$TOP/labs/tools/mkskeleton.sh" 01 "$bad/out-$f" "$f" >/dev/null \
        2>"$bad/$f.err"
    st=$?
    if [ "$st" -ne 0 ] && grep -qE "^[^ ]*${c}" "$bad/$f.err" && [ ! -e "$bad/out-$f" ]; then
        pass "labs: mkskeleton refuses ${f%.c} markers with file and line"
    else
        fail "labs: mkskeleton refuses ${f%.c} markers with file and line" \
            "status $st, no skeleton expected; stderr: $(head -c 300 "$bad/$f.err")"
    fi
done

if ! command -v qemu-system-x86_64 >/dev/null; then
    skip "labs: lab 01 reference passes the grader" "qemu-system-x86_64 is not installed"
    skip "labs: lab 01 skeleton fails every exercise" "qemu-system-x86_64 is not installed"
    exit 0
fi

# The skeleton, made exactly as `make skeleton` makes it (same tool, same
# path list, read from the lab's Makefile) but into our own directory.
paths=$(make --no-print-directory -s -C "$LAB" -f Makefile -f - print-paths <<'MK'
print-paths: ; @echo $(LAB_PATHS)
MK
)
# shellcheck disable=SC2086 # the path list is words
if bash "$TOP/labs/tools/mkskeleton.sh" 01 "$SK" $paths >/dev/null 2>"$IT_WORK/mkskeleton.err"; then
    pass "labs: lab 01 skeleton generated"
else
    fail "labs: lab 01 skeleton generated" "mkskeleton.sh failed"
    show_log "$IT_WORK/mkskeleton.err"
    exit 1
fi
# No marker may survive, and none of the removed reference lines.
left=$(grep -rn -e 'LAB 01:' "$SK" | head -n 3)
gone=()
# advance() must be the only place that moves RIP: no handler may skip an
# instruction by hand, or it would keep working in the student's copy.
grep -q -E 'rip \+=' "$SK/hv/core/dispatch.c" && gone+=("a RIP update outside advance()")
grep -q -F 'HVKIT_CPUID_SIG_EBX' "$SK/hv/core/cpuid.c" && gone+=("the signature")
grep -q -F 'u->scr' "$SK/hv/dev/uart16550.c" && gone+=("the scratch register")
if [ -z "$left" ] && [ ${#gone[@]} -eq 0 ] && grep -q 'TODO (lab 01, advance-rip)' "$SK/hv/core/dispatch.c"; then
    pass "labs: lab 01 skeleton has TODOs, no markers and no removed code"
else
    fail "labs: lab 01 skeleton has TODOs, no markers and no removed code" \
        "markers left: ${left:-none}; answers left: ${gone[*]:-none}"
fi

# Grade both trees (one after the other: the machine is shared).
bash "$LAB/grade.sh" "$TOP" "$T/reference" >"$IT_WORK/reference.out" 2>"$IT_WORK/reference.err"
ref=$?
if [ "$ref" -eq 0 ] && [ "$(grep -c '^PASS: ' "$IT_WORK/reference.out")" -eq 3 ]; then
    pass "labs: lab 01 reference passes the grader (3/3)"
else
    fail "labs: lab 01 reference passes the grader (3/3)" "grader status $ref"
    show_log "$IT_WORK/reference.out"
    show_log "$IT_WORK/reference.err"
fi
# A skeleton that never advances RIP traps on the same CPUID forever: the
# grader's exit budget must end it, not the (much later) timeout.
bash "$LAB/grade.sh" "$SK" "$T/skeleton" >"$IT_WORK/skeleton.out" 2>"$IT_WORK/skeleton.err"
sk=$?
if [ -f "$T/skeleton/hv/hv.elf" ] && [ -x "$T/skeleton/tests/unit/hv_core" ] &&
    [ -x "$T/skeleton/tests/unit/hv_dev" ] && [ -f "$T/skeleton/guestkit/hello.elf" ]; then
    pass "labs: lab 01 skeleton compiles (hv, guests, unit tests)"
else
    fail "labs: lab 01 skeleton compiles (hv, guests, unit tests)" "see $T/skeleton/logs/build-*.log"
    show_log "$IT_WORK/skeleton.err"
fi
i=0
for n in advance-rip cpuid-signature uart-scratch; do
    i=$((i + 1))
    if [ "$sk" -ne 0 ] && grep -q "^FAIL: $i $n: " "$IT_WORK/skeleton.out" &&
        ! grep -q "hv does not build\|guests do not build" "$IT_WORK/skeleton.out" &&
        { [ $i != 1 ] || grep -q "^FAIL: 1 advance-rip: hello did not finish (exit budget spent: " "$IT_WORK/skeleton.out"; }; then
        pass "labs: lab 01 skeleton fails exercise $i ($n)"
    else
        fail "labs: lab 01 skeleton fails exercise $i ($n)" "grader status $sk"
        show_log "$IT_WORK/skeleton.out"
    fi
done

# The skeleton with exercise 1 solved (the reference's advance(), whole file)
# runs every guest to its end: exercises 2 and 3 must then fail in the guests
# too, not only in the unit tests, and exercise 1 must pass on its own.
S1=$T/solved1-src
rm -rf "$S1"
cp -a "$SK" "$S1"
cp "$TOP/hv/core/dispatch.c" "$S1/hv/core/dispatch.c"
bash "$LAB/grade.sh" "$S1" "$T/solved1" >"$IT_WORK/solved1.out" 2>"$IT_WORK/solved1.err"
if grep -q '^PASS: 1 advance-rip$' "$IT_WORK/solved1.out" &&
    grep -q '^FAIL: 2 cpuid-signature: .*the cpuid guest did not find the signature' "$IT_WORK/solved1.out" &&
    grep -q "^FAIL: 3 uart-scratch: .*the portio guest's scratch register did not keep" "$IT_WORK/solved1.out"; then
    pass "labs: lab 01 with only exercise 1 solved scores exactly it, the guests catch 2 and 3"
else
    fail "labs: lab 01 with only exercise 1 solved scores exactly it, the guests catch 2 and 3" \
        "unexpected grade"
    show_log "$IT_WORK/solved1.out"
fi
