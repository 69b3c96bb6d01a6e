#!/usr/bin/env bash
# Lesson 01 and the top README quote output; it must be what the commands
# print.  Every quoted output block of lessons/01-trap-and-emulate/README.md
# and of README.md's "What you see" is compared line by line with a fresh run
# of the command named in the comment above it, except for the numbers that
# comment says vary (lib/outputs.pl), and the quoted statistics table must
# add up.  Then the lesson's own command (lessons/01-trap-and-emulate/run)
# and the triple-fault example are checked for the lines the chapter
# explains (exit names and codes, the UART bytes, the verdicts).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/lessons.bash"

W=$IT_WORK
L=$TOP/lessons/01-trap-and-emulate

# The output checker itself: a true block passes, a changed line, lines
# quoted as consecutive that are not, and an unmarked output block fail;
# so does a wrong block indented inside a list item.
outputs_probe() {
    local n="lesson01: the output checker catches a wrong quote" probe=$W/probe.md out status
    cat >"$probe" <<'MD'
<!-- output of printf 'a\nb 12 0x1f\nc\nd\n' (stdout); vary: b # -->
```
a
b 99 0x1f
...
d
```
<!-- output of printf 'a\nb 12 0x1f\nc\nd\n' (stdout); vary: b # -->
```
b 12 0x2f
```
<!-- output of printf 'a\nb 12 0x1f\nc\nd\n' (stdout) -->
```
a
d
```
```
[hv] exit: guest code=0
```
1. In a list:

   <!-- output of printf 'a\nb 12 0x1f\nc\nd\n' (stdout) -->
   ```
   c
   a
   ```
MD
    out=$("${OUTPUTS[@]}" "$probe")
    status=$?
    if [ "$status" -eq 1 ] && [ "$(grep -c ': ok ' <<<"$out")" -eq 1 ] &&
        [ "$(grep -c ': MISMATCH' <<<"$out")" -eq 4 ] && grep -q 'printed: b 12 0x1f' <<<"$out" &&
        grep -q 'quoted:  a$' <<<"$out" &&
        grep -q 'without an' <<<"$out"; then
        pass "$n"
    else
        fail "$n" "status $status, output: $(tr '\n' '|' <<<"$out")"
    fi
}

outputs_probe
stats_add_up "$L/README.md" "lesson01: the quoted statistics add up"
why=$(hv_missing)
if [ -n "$why" ] || [ ! -f "$BUILD/guestkit/hello.elf" ]; then
    for n in "lesson01: run" "lesson01: triple fault" "lesson01: quoted output is a fresh run's" \
        "README: \"What you see\" is a fresh run's"; do
        skip "$n" "${why:-the guests are not built}"
    done
    exit 0
fi

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

# The Bochs (VT-x) blocks need Bochs (a run, and the instruction count of
# "What an exit costs"); without it those blocks alone are skipped.
nobochs=$(bochs_missing)

run_case run lesson_run
run_case triple lesson_triple
finish_cases
# One after the other: each runs emulators of its own.
quoted_blocks "$L/README.md" "lesson01: quoted output is a fresh run's" \
    ${nobochs:+"--emulator bochs|--bochs"} "$nobochs"
quoted_blocks "$TOP/README.md" "README: \"What you see\" is a fresh run's"
