#!/usr/bin/env bash
# bin/hvrun's error handling: every mistake a user (or a broken guest image)
# can make ends with a clear message and the exit status include/hvkit/abi.h
# promises, and nothing is left running.
#   125  missing guest file, unknown option, missing hv
#   126  hv refuses the image: not an ELF, no Multiboot header, truncated
#   124  a guest that never ends, killed at --timeout
#   127  a guest looping through VM exits, stopped by --max-exits at once
# plus --trace: hv logs each exit and prints its statistics table.
. "$(dirname "$0")/lib.bash"

HVRUN=(env "$TOP/bin/hvrun" --hv "$HV")
W=$IT_WORK

# expect_status NAME WANT OUTFILE ERRFILE STATUSFILE: PASS/FAIL on the status.
# Prints nothing and returns 1 on a mismatch after reporting it.
expect_status() {
    local name=$1 want=$2 err=$4 got
    got=$(cat "$5")
    if [ "$got" != "$want" ]; then
        fail "$name" "exit status $got, expected $want"
        show_log "$err"
        return 1
    fi
}

# expect_msg NAME ERRFILE REGEX WHAT: stderr must match the extended REGEX.
expect_msg() {
    if ! grep -qiE -e "$3" "$2"; then
        fail "$1" "no message about $4 on stderr"
        show_log "$2"
        return 1
    fi
}

# ---- Usage errors: no emulator needed. -------------------------------------
case_missing_guest() {
    local n=missing-guest-file
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" -kernel "$W/no-such-guest.elf"
    expect_status $n 125 "$W/$n.out" "$W/$n.err" "$W/$n.st" &&
        expect_msg $n "$W/$n.err" "no-such-guest.elf.*(does not exist|no such file)" "the missing file" &&
        pass $n
}

case_unknown_option() {
    local n=unknown-option
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" --frobnicate -kernel "$TOP/bin/hvrun"
    expect_status $n 125 "$W/$n.out" "$W/$n.err" "$W/$n.st" &&
        expect_msg $n "$W/$n.err" "unknown option.*--frobnicate" "the unknown option" &&
        expect_msg $n "$W/$n.err" "--help" "where to get help" &&
        pass $n
}

case_missing_hv() {
    local n=missing-hv
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" --hv "$W/no-hv.elf" -kernel "$TOP/bin/hvrun"
    expect_status $n 125 "$W/$n.out" "$W/$n.err" "$W/$n.st" &&
        expect_msg $n "$W/$n.err" "no-hv.elf.*does not exist" "the missing hv image" &&
        pass $n
}

case_bad_memory() {
    local n=bad-memory-size
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" -m 12X -kernel "$TOP/bin/hvrun"
    expect_status $n 125 "$W/$n.out" "$W/$n.err" "$W/$n.st" &&
        expect_msg $n "$W/$n.err" "memory size.*12X" "the bad size" &&
        pass $n
}

# --control: a socket where none can be made, or over a file that is not a
# socket, is refused before anything starts, and the file is left alone.
case_control_usage() {
    local n=control-usage
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" --control "$W/no-dir/x.sock" \
        -kernel "$TOP/bin/hvrun"
    expect_status $n 125 "$W/$n.out" "$W/$n.err" "$W/$n.st" &&
        expect_msg $n "$W/$n.err" "--control: the directory of .*no-dir/x.sock' does not exist" \
            "the missing directory" || return
    echo keep >"$W/$n.file"
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" --control "$W/$n.file" \
        -kernel "$TOP/bin/hvrun"
    expect_status $n 125 "$W/$n.out" "$W/$n.err" "$W/$n.st" &&
        expect_msg $n "$W/$n.err" "--control: '.*$n.file' exists and is not a socket" \
            "the file in the way" || return
    if [ "$(cat "$W/$n.file")" != keep ]; then
        fail $n "the file in the socket's place was changed"
    else
        pass $n
    fi
}

# ---- Images hv must refuse (126, with hv's reason). -----------------------

# hv_refuses NAME IMAGE REGEX WHAT: hvrun exits 126, hv's last line is
# "[hv] exit: error (REASON)" and REASON names the problem (REGEX).
hv_refuses() {
    local n=$1 img=$2 re=$3 what=$4 reason
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" --timeout 60 -kernel "$img"
    expect_status "$n" 126 "$W/$n.out" "$W/$n.err" "$W/$n.st" || return
    reason=$(grep '^\[hv\] exit: error (' "$W/$n.err" | tail -n 1)
    if [ -z "$reason" ]; then
        fail "$n" "hv printed no '[hv] exit: error (...)' line"
        show_log "$W/$n.err"
    elif ! grep -qiE "$re" <<<"$reason"; then
        fail "$n" "hv's reason does not name $what: $reason"
    elif ! grep -q 'hvrun: hv could not run the guest' "$W/$n.err"; then
        fail "$n" "hvrun did not say that hv could not run the guest"
        show_log "$W/$n.err"
    else
        pass "$n"
    fi
}

case_not_elf() {
    # Plain text: neither an ELF file nor carrying a Multiboot header.
    local img=$W/not-an-elf.txt
    hv_refuses not-an-elf "$img" "multiboot|elf|header" "the missing header"
}

case_no_multiboot() {
    # A well-formed 32-bit ELF executable without a Multiboot header.
    local n=elf-without-multiboot-header img=$W/plain.elf
    if ! printf '.globl _start\n_start: jmp _start\n' | as --32 -o "$W/plain.o" - 2>"$W/$n.as.err" ||
        ! ld -m elf_i386 -Ttext=0x100000 -o "$img" "$W/plain.o" 2>>"$W/$n.as.err"; then
        skip $n "cannot build a 32-bit ELF here (binutils without i386 support)"
        return
    fi
    hv_refuses $n "$img" "multiboot" "the missing Multiboot header"
}

case_truncated() {
    # A real guest cut short inside its last loadable segment: the Multiboot
    # header is intact but the image ends before the data it promises.
    local n=truncated-image src img=$W/truncated.elf end cut
    src=$BUILD/guestkit/hello.elf
    if [ ! -f "$src" ]; then
        skip $n "guest $src is not built"
        return
    fi
    # End of the last LOAD segment's bytes in the file (readelf -lW columns:
    # Type Offset VirtAddr PhysAddr FileSiz ...).
    local off size e
    end=0
    while read -r off size; do
        e=$((off + size))
        [ "$e" -gt "$end" ] && end=$e
    done < <(readelf -lW "$src" | awk '$1 == "LOAD" { print $2, $5 }')
    if [ "$end" -lt 2 ]; then
        skip $n "$src has no loadable segment to cut"
        return
    fi
    cut=$((end - (end > 8192 ? 4096 : end / 4)))
    head -c "$cut" "$src" >"$img"
    hv_refuses $n "$img" "truncat|past the end|beyond|end of (the )?(file|image)|too short|outside" \
        "the truncation"
}

# ---- A guest that never ends: 124 after --timeout, emulator gone. ---------

# make_spin FILE [CODE]: a guest that spins forever, by default without a
# single VM exit.  A 32-bit flat binary using the Multiboot a.out kludge
# (Multiboot spec 3.1.3, flags bit 16): the header gives the load and entry
# addresses itself.  magic, flags, checksum, header_addr, load_addr,
# load_end_addr (0 = whole file), bss_end_addr, entry_addr, then CODE as
# printf escapes (default "jmp .", EB FE).
make_spin() {
    # shellcheck disable=SC2059  # the format is built from hex digits only
    le32() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))\\x$(printf %02x $((($1 >> 16) & 255)))\\x$(printf %02x $((($1 >> 24) & 255)))"; }
    {
        le32 0x1BADB002
        le32 0x00010000
        le32 $(((-(0x1BADB002 + 0x00010000)) & 0xffffffff))
        le32 0x100000
        le32 0x100000
        le32 0
        le32 0
        le32 0x100020
        # shellcheck disable=SC2059  # CODE is escapes of our own choosing
        printf "${2:-\\xeb\\xfe}"
    } >"$1"
}

case_timeout() {
    local n=timeout-spinning-guest img=$W/spin.bin start took
    start=$SECONDS
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" --timeout 4 -kernel "$img"
    took=$((SECONDS - start))
    expect_status $n 124 "$W/$n.out" "$W/$n.err" "$W/$n.st" || return
    expect_msg $n "$W/$n.err" "timeout" "the timeout" || return
    # The emulator must be gone: hvrun returned within the limit plus the
    # kill grace time, and no QEMU of ours still holds the image open.
    if [ "$took" -gt 12 ]; then
        fail $n "hvrun took $took s to give up after a 4 s timeout"
    elif pgrep -f -- "-initrd $img" >/dev/null; then
        fail $n "the emulator is still running after hvrun returned"
    else
        pass $n
    fi
}

# ---- A guest looping through exits: --max-exits ends it at once. ----------
case_max_exits() {
    local n=max-exits-looping-guest
    # "cpuid; jmp back to it" (0F A2, EB FC): one VM exit per round, forever.
    make_spin "$W/cpuid-loop.bin" '\x0f\xa2\xeb\xfc'
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" --max-exits 1000 -kernel "$W/cpuid-loop.bin"
    expect_status $n 127 "$W/$n.out" "$W/$n.err" "$W/$n.st" &&
        expect_msg $n "$W/$n.err" '^\[hv\] exit: guest crashed \(exit budget spent: 1001 VM exits \(max-exits=1000\), the last a CPUID at rip 0x100020' "the spent budget" &&
        expect_msg $n "$W/$n.err" '^\[hv\]   CPUID +1001$' "1001 CPUID exits in the statistics" &&
        pass $n
}

case_max_exits_usage() {
    local n=max-exits-bad-count
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" --max-exits 10k -kernel "$TOP/bin/hvrun"
    expect_status $n 125 "$W/$n.out" "$W/$n.err" "$W/$n.st" &&
        expect_msg $n "$W/$n.err" "bad --max-exits '10k'" "the bad count" &&
        pass $n
}

case_npt_usage() {
    local n=npt-bad-mode
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" --npt sloppy -kernel "$TOP/bin/hvrun"
    expect_status $n 125 "$W/$n.out" "$W/$n.err" "$W/$n.st" &&
        expect_msg $n "$W/$n.err" "unknown --npt mode 'sloppy' \\(eager or lazy\\)" "the bad mode" &&
        pass $n
}

# -monitor takes QEMU's stdio and unix:PATH,server,nowait; anything else is
# refused before an emulator starts.
case_monitor_usage() {
    local n=monitor-bad-spec spec
    for spec in vc unix:/tmp/m.sock unix:/tmp/m.sock,server unix:,server,nowait; do
        run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" -monitor "$spec" \
            -kernel "$TOP/bin/hvrun"
        expect_status $n 125 "$W/$n.out" "$W/$n.err" "$W/$n.st" &&
            expect_msg $n "$W/$n.err" "-monitor '$spec'" "the refused -monitor" || return
    done
    pass $n
}

# ---- bin/qemu-guest follows the same conventions. -------------------------
case_qemu_guest_timeout() {
    local n=qemu-guest-timeout
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "$TOP/bin/qemu-guest" --timeout 2 -kernel "$W/spin.bin"
    expect_status $n 124 "$W/$n.out" "$W/$n.err" "$W/$n.st" &&
        expect_msg $n "$W/$n.err" "timeout" "the timeout" &&
        pass $n
}

case_qemu_guest_usage() {
    local n=qemu-guest-usage-errors
    run_logged "$W/$n.1.out" "$W/$n.1.err" "$W/$n.1.st" "$TOP/bin/qemu-guest" -kernel "$W/nothing.elf"
    run_logged "$W/$n.2.out" "$W/$n.2.err" "$W/$n.2.st" "$TOP/bin/qemu-guest" --vendor svm -kernel "$W/spin.bin"
    expect_status $n 125 "$W/$n.1.out" "$W/$n.1.err" "$W/$n.1.st" &&
        expect_msg $n "$W/$n.1.err" "nothing.elf.*does not exist" "the missing file" &&
        expect_status $n 125 "$W/$n.2.out" "$W/$n.2.err" "$W/$n.2.st" &&
        expect_msg $n "$W/$n.2.err" "unknown option.*--vendor" "the unknown option" &&
        pass $n
}

case_qemu_guest_not_multiboot() {
    # QEMU itself refuses the image: 126, with QEMU's own message shown.
    local n=qemu-guest-refused-image
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "$TOP/bin/qemu-guest" --timeout 30 -kernel "$W/not-an-elf.txt"
    expect_status $n 126 "$W/$n.out" "$W/$n.err" "$W/$n.st" &&
        expect_msg $n "$W/$n.err" "^qemu(-system-x86_64)?: " "QEMU's own error" &&
        pass $n
}

# ---- --trace: every exit logged, statistics at the end. -------------------
case_trace() {
    local n=trace-exits-and-statistics g=$BUILD/guestkit/hello.elf
    if [ ! -f "$g" ]; then
        skip $n "guest $g is not built"
        return
    fi
    # Once without --trace, once with: the per-exit lines ("[hv] exit 5: IO
    # VMEXIT_IOIO 0x7b rip ... port 0x3f8 ...") must appear only when asked.
    run_logged "$W/$n.quiet.out" "$W/$n.quiet.err" "$W/$n.quiet.st" "${HVRUN[@]}" --timeout 60 \
        -kernel "$g" -append world
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" --trace --timeout 60 -kernel "$g" -append world
    expect_status $n 0 "$W/$n.out" "$W/$n.err" "$W/$n.st" || return
    expect_status $n 0 "$W/$n.quiet.out" "$W/$n.quiet.err" "$W/$n.quiet.st" || return
    if grep -q '^\[hv\] ' "$W/$n.out"; then
        fail $n "hv lines leaked into stdout"
    elif grep -qE '^\[hv\] exit [0-9]+: ' "$W/$n.quiet.err"; then
        fail $n "hv traced exits without --trace"
    elif ! grep -qE '^\[hv\] exit [0-9]+: IO .*port 0x3f8' "$W/$n.err"; then
        fail $n "no per-exit trace line for the guest's OUT to COM1 on stderr"
        show_log "$W/$n.err"
    elif ! diff -q "$W/$n.quiet.out" "$W/$n.out" >/dev/null; then
        fail $n "--trace changed the guest's own output"
    elif ! grep -qiE '^\[hv\] .*statistic' "$W/$n.err"; then
        fail $n "no statistics table on stderr"
        show_log "$W/$n.err"
    else
        pass $n
    fi
}

make_spin "$W/spin.bin"
for _ in $(seq 200); do echo "this is not a kernel, just some text"; done >"$W/not-an-elf.txt"
run_case missing_guest case_missing_guest
run_case unknown_option case_unknown_option
run_case missing_hv case_missing_hv
run_case bad_memory case_bad_memory
run_case max_exits_usage case_max_exits_usage
run_case npt_usage case_npt_usage
run_case control_usage case_control_usage
run_case monitor_usage case_monitor_usage
run_case qemu_guest_timeout case_qemu_guest_timeout
run_case qemu_guest_usage case_qemu_guest_usage
run_case qemu_guest_refused case_qemu_guest_not_multiboot
finish_cases
why=$(hv_missing)
if [ -n "$why" ]; then
    for n in not-an-elf elf-without-multiboot-header truncated-image timeout-spinning-guest \
        max-exits-looping-guest trace-exits-and-statistics; do
        skip $n "$why"
    done
    exit 0
fi
run_case not_elf case_not_elf
run_case no_multiboot case_no_multiboot
run_case truncated case_truncated
run_case timeout case_timeout
run_case max_exits case_max_exits
run_case trace case_trace
finish_cases
