#!/usr/bin/env bash
# Lesson 01 shows output; the output must still look like that.  Runs the
# lesson's own command (lessons/01-trap-and-emulate/run) and the triple-fault
# example, and checks the lines the chapter quotes and explains (exit names
# and codes, the UART bytes, the statistics, the verdicts).  Addresses and
# counts are not compared: the chapter says they may differ.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
L=$TOP/lessons/01-trap-and-emulate
why=$(hv_missing)
if [ -n "$why" ] || [ ! -f "$BUILD/guestkit/hello.elf" ]; then
    for n in "lesson01: run" "lesson01: triple fault"; do
        skip "$n" "${why:-the guests are not built}"
    done
    exit 0
fi

# expect NAME FILE REGEX...: every extended REGEX matches a line of FILE.
expect() {
    local n=$1 f=$2 re
    shift 2
    for re in "$@"; do
        if ! grep -qE -e "$re" "$f"; then
            fail "$n" "no line matching /$re/ in ${f#"$TOP"/}"
            show_log "$f" 8
            return 1
        fi
    done
}

lesson_run() {
    local n="lesson01: run"
    run_logged "$W/run.out" "$W/run.err" "$W/run.st" "$L/run"
    if [ "$(cat "$W/run.st")" != 0 ]; then
        fail "$n" "lessons/01-trap-and-emulate/run exited with $(cat "$W/run.st")"
        show_log "$W/run.err"
        return
    fi
    expect "$n" "$W/run.out" '^Hello, lesson!$' "^Running under hvkit's hypervisor\.$" \
        '^SUMMARY: [0-9]+ tests, 0 unexpected failures' &&
        expect "$n" "$W/run.err" '^hvrun: running: qemu-system-x86_64 .*-initrd .build/guestkit/hello.elf lesson.' \
            '^\[hv\] backend svm, guest RAM 128 MiB, tracing every exit$' \
            '^\[hv\] exit [0-9]+: CPUID VMEXIT_CPUID 0x72 rip 0x[0-9a-f]+ leaf 0x80000000 ' \
            '^\[hv\] exit [0-9]+: MSR_READ VMEXIT_MSR 0x7c rip 0x[0-9a-f]+ msr 0xc0000080 read ' \
            '^\[hv\] exit [0-9]+: MSR_WRITE VMEXIT_MSR 0x7c rip 0x[0-9a-f]+ msr 0xc0000080 write ' \
            '^\[hv\] exit [0-9]+: IO VMEXIT_IOIO 0x7b rip 0x[0-9a-f]+ port 0x3f8 out size 1 value 0x48$' \
            '^\[hv\] exit [0-9]+: IO VMEXIT_IOIO 0x7b rip 0x[0-9a-f]+ port 0x3fd in size 1 value 0x60$' \
            '^\[hv\] exit [0-9]+: IO VMEXIT_IOIO 0x7b rip 0x[0-9a-f]+ port 0xf4 out size 4 value 0$' \
            '^\[hv\] exit statistics \(reason, count\):$' '^\[hv\]   IO +[0-9]+$' \
            '^\[hv\]   total +[0-9]+$' '^\[hv\] exit: guest code=0$' &&
        pass "$n"
}

lesson_triple() {
    local n="lesson01: triple fault"
    run_logged "$W/triple.out" "$W/triple.err" "$W/triple.st" "$TOP/bin/hvrun" --hv "$HV" \
        -kernel "$BUILD/guestkit/triple.elf"
    if [ "$(cat "$W/triple.st")" != 127 ]; then
        fail "$n" "bin/hvrun exited with $(cat "$W/triple.st"), the chapter says 127"
        show_log "$W/triple.err"
        return
    fi
    expect "$n" "$W/triple.err" '^\[hv\] guest state \(SVM\):$' '^\[hv\]   rip [0-9a-f]{16} ' \
        '^\[hv\]   idtr .* limit 00000000 ' \
        '^\[hv\]   last exit VMEXIT_SHUTDOWN \(0x7f\) .*exitintinfo 0x80000306$' \
        '^\[hv\] exit: guest crashed \(triple fault: the guest shut down\)$' \
        '^hvrun: the guest crashed: triple fault: the guest shut down' &&
        pass "$n"
}

run_case run lesson_run
run_case triple lesson_triple
finish_cases
