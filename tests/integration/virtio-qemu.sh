#!/usr/bin/env bash
# guestkit's virtio drivers against QEMU's own virtio-mmio devices on the
# microvm machine (plain QEMU, no hv): the reference the hv device side is
# judged by.  The guests are vblk, vcon, diskcat and vbench
# (guestkit/tests/); their disks are real image files, and real qemu-img
# looks at them afterwards:
#   - vblk writes a pattern over a qcow2 disk (polling, I/O APIC and 8259
#     interrupts, found by probing and by the command line): every verdict
#     passes, `qemu-img check` is clean and `qemu-img convert -O raw` gives
#     exactly the pattern, built here independently (perl);
#   - on a readonly=on disk writes fail with IOERR and the image is unchanged;
#   - a machine that crashes right after vblk's flush leaves a clean file
#     with the whole pattern (flush means durable);
#   - vcon's text arrives byte for byte through virtio-console;
#   - diskcat prints a file put into a compressed qcow2 image by bin/imgtool;
#   - vbench reports its throughput;
#   - under hv (on QEMU+SVM), once bin/hvrun has -drive: the same guests on
#     the same kinds of files give plain QEMU's verdicts (lib/guests.bash's
#     rules) and, for diskcat and vcon, the same output; the files written
#     pass qemu-img check and hold the pattern; vbench counts exits.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/guests.bash"

W=$IT_WORK
G=$BUILD/guestkit
QG=("$TOP/bin/qemu-guest" --timeout 120)

for tool in qemu-system-x86_64 qemu-img perl; do
    if ! command -v $tool >/dev/null; then
        skip virtio-qemu "$tool is not installed (bash mk/deps.sh test)"
        exit 0
    fi
done
for g in vblk vcon diskcat vbench; do
    if [ ! -f "$G/$g.elf" ]; then
        skip virtio-qemu "$G/$g.elf is not built (make -C guestkit)"
        exit 0
    fi
done

# expected_pattern SECTORS FILE: the raw disk vblk leaves, written by perl
# from the rule in guestkit/tests/vblk.c (32 lines "sector %08x\n" each).
expected_pattern() {
    perl -e 'for my $s (0 .. $ARGV[0] - 1) { print sprintf("sector %08x\n", $s) x 32 }' "$1" >"$2"
}

# all_pass OUT: every verdict is PASS or SKIP, there is at least one, and
# the SUMMARY says 0 failures.
all_pass() {
    grep -q '^PASS: ' "$1" && ! grep -q '^FAIL: ' "$1" &&
        grep -qE '^SUMMARY: .* 0 unexpected failures' "$1"
}

# image_is_pattern NAME IMG SECTORS: qemu-img check is clean and the raw
# contents are the pattern.
image_is_pattern() {
    local n=$1 img=$2 sectors=$3
    if ! qemu-img check "$img" >"$W/$n.check" 2>&1; then
        fail "$n: qemu-img check" "not clean"
        show_log "$W/$n.check"
        return
    fi
    pass "$n: qemu-img check is clean"
    expected_pattern "$sectors" "$W/$n.expected"
    qemu-img convert -O raw "$img" "$W/$n.raw"
    if cmp -s "$W/$n.raw" "$W/$n.expected"; then
        pass "$n: qemu-img convert -O raw shows the pattern on every sector"
    else
        fail "$n: qemu-img convert -O raw shows the pattern" "$(cmp "$W/$n.raw" "$W/$n.expected" 2>&1 | head -n 1)"
    fi
}

# blk_case NAME WAIT [QEMU-GUEST ARGS...]: vblk on a fresh 4 MiB qcow2 disk.
blk_case() {
    local n=$1 wait=$2
    shift 2
    local img=$W/$n.qcow2
    qemu-img create -q -f qcow2 "$img" 4M
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "$@" -kernel "$G/vblk.elf" \
        -append "sectors=8192 wait=$wait" -drive "file=$img,format=qcow2,if=virtio"
    if [ "$(cat "$W/$n.st")" = 0 ] && all_pass "$W/$n.out"; then
        pass "$n: vblk ($wait) passes on QEMU microvm"
        image_is_pattern "$n" "$img" 8192
    else
        fail "$n: vblk ($wait) on QEMU microvm" "status $(cat "$W/$n.st")"
        show_log "$W/$n.out"
        show_log "$W/$n.err" 5
    fi
}

# The device found through the command line that qemu-guest writes, with
# the I/O APIC's interrupt (GSI 47, on microvm's second I/O APIC, which the
# guest finds in the ACPI MADT), and with polling.
run_case blk-ioapic blk_case blk-ioapic ioapic "${QG[@]}"
run_case blk-poll blk_case blk-poll poll "${QG[@]}"

# The 8259: microvm without ACPI and the second I/O APIC puts transport T
# on ISA line 5 + T (the first device is on transport 7: IRQ 12), and the
# guest must route LINT0 itself.  Found by probing the transports, then
# named on the command line for its IRQ; QEMU called directly.
pic_case() {
    local n=blk-pic img=$W/blk-pic.qcow2
    qemu-img create -q -f qcow2 "$img" 4M
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" timeout 120 qemu-system-x86_64 \
        -M microvm,ioapic2=off,acpi=off -global virtio-mmio.force-legacy=false \
        -accel tcg -cpu max -m 128 -nodefaults -display none -no-reboot -serial stdio \
        -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$G/vblk.elf" \
        -append "sectors=8192 wait=pic id=hvkit-pic virtio_mmio.device=512@0xfeb00e00:12" \
        -drive "file=$img,format=qcow2,if=none,id=d0" -device virtio-blk-device,drive=d0,serial=hvkit-pic
    # isa-debug-exit: status (0 << 1) | 1.
    if [ "$(cat "$W/$n.st")" = 1 ] && all_pass "$W/$n.out" && grep -q '^PASS: GET_ID returns "hvkit-pic"' "$W/$n.out"; then
        pass "$n: vblk (8259, GET_ID) passes on QEMU microvm"
        image_is_pattern "$n" "$img" 8192
    else
        fail "$n: vblk (8259, GET_ID) on QEMU microvm" "status $(cat "$W/$n.st")"
        show_log "$W/$n.out"
    fi
}
run_case blk-pic pic_case

# Flush means durable: vblk flushes, then the machine dies (a triple
# fault); the file holds every flushed sector and is clean.
# crash_case NAME LAUNCHER...: the run must end as a crash (status 127).
crash_case() {
    local n=$1 img=$W/$1.qcow2
    shift
    qemu-img create -q -f qcow2 "$img" 4M
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "$@" --timeout 300 -kernel "$G/vblk.elf" \
        -append "sectors=8192 crash" -drive "file=$img,format=qcow2"
    if [ "$(cat "$W/$n.st")" = 127 ] && grep -q '^PASS: flush: OK' "$W/$n.out" &&
        grep -q '^vblk: crashing on purpose after the flush' "$W/$n.out"; then
        pass "$n: vblk flushes, then the machine crashes"
        image_is_pattern "$n" "$img" 8192
    else
        fail "$n: vblk flushes, then the machine crashes" "status $(cat "$W/$n.st")"
        show_log "$W/$n.out"
        show_log "$W/$n.err" 5
    fi
}
run_case blk-crash crash_case blk-crash "$TOP/bin/qemu-guest"

# Read-only: writes fail with IOERR and the image file does not change.
ro_case() {
    local n=blk-ro img=$W/blk-ro.qcow2
    qemu-img create -q -f qcow2 "$img" 4M
    qemu-img convert -O qcow2 "$img" "$W/$n.before.qcow2"
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${QG[@]}" -kernel "$G/vblk.elf" \
        -append "sectors=8192 ro" -drive "file=$img,format=qcow2,readonly=on"
    if [ "$(cat "$W/$n.st")" = 0 ] && all_pass "$W/$n.out" &&
        grep -q '^PASS: write to the read-only disk fails with IOERR' "$W/$n.out"; then
        pass "$n: writes to a readonly=on disk fail with IOERR"
    else
        fail "$n: writes to a readonly=on disk fail with IOERR" "status $(cat "$W/$n.st")"
        show_log "$W/$n.out"
    fi
    if qemu-img compare -q "$W/$n.before.qcow2" "$img" && qemu-img check -q "$img"; then
        pass "$n: the read-only image is unchanged and clean"
    else
        fail "$n: the read-only image is unchanged and clean" "qemu-img compare/check disagree"
    fi
}
run_case blk-ro ro_case

# virtio-console: the text of guestkit/tests/vcon.c arrives as written.
con_case() {
    local n=console
    : >"$W/$n.text"
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" timeout 120 qemu-system-x86_64 \
        -M microvm -global virtio-mmio.force-legacy=false -accel tcg -cpu max -m 128 \
        -nodefaults -display none -no-reboot -serial stdio \
        -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$G/vcon.elf" \
        -append "wait=ioapic virtio_mmio.device=512@0xfeb02e00:47" \
        -device virtio-serial-device -device virtconsole,chardev=vcon \
        -chardev "file,id=vcon,path=$W/$n.text"
    {
        echo "vcon: written with virtio_console_write"
        for i in 1 2 3; do echo "vcon: printf line $i of 3"; done
        printf 'vcon: long line '
        perl -e 'print join("", map { chr(97 + $_ % 26) } 0 .. 282), "\n"'
    } >"$W/$n.expected"
    if [ "$(cat "$W/$n.st")" = 1 ] && all_pass "$W/$n.out" && cmp -s "$W/$n.text" "$W/$n.expected"; then
        pass "$n: vcon's text arrives through virtio-console byte for byte"
    else
        fail "$n: vcon's text through virtio-console" "status $(cat "$W/$n.st"), $(cmp "$W/$n.text" "$W/$n.expected" 2>&1 | head -n 1)"
        show_log "$W/$n.out"
    fi
}
run_case console con_case

# The console's output on QEMU's stdout with COM1's (one multiplexed
# character device): the reference for the same guest under hv, whose
# virtio-console writes where COM1 does.  The long line stays below hv's
# 256-character console lines (see the hv cases).
con_stdout_case() {
    local n=console-stdout
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" timeout 120 qemu-system-x86_64 \
        -M microvm -global virtio-mmio.force-legacy=false -accel tcg -cpu max -m 128 \
        -nodefaults -display none -no-reboot -chardev stdio,id=con,mux=on -serial chardev:con \
        -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$G/vcon.elf" \
        -append "wait=ioapic long=200 virtio_mmio.device=512@0xfeb02e00:47" \
        -device virtio-serial-device -device virtconsole,chardev=con
    sed -i 's/\r$//' "$W/$n.out"
    if [ "$(cat "$W/$n.st")" = 1 ] && all_pass "$W/$n.out" &&
        grep -qx 'vcon: printf line 3 of 3' "$W/$n.out"; then
        pass "$n: vcon's text and verdicts on one stdout (QEMU's mux character device)"
    else
        fail "$n: vcon on one stdout" "status $(cat "$W/$n.st")"
        show_log "$W/$n.out"
    fi
}
run_case console-stdout con_stdout_case

# A file put on a disk on the host with bin/imgtool (compressed qcow2),
# printed by the guest: 600 lines of text, about 60 KiB (more than one of
# the guest's 32 KiB reads), no line as long as the 256 characters at
# which hv cuts console lines.
cat_text() {
    perl -e 'for my $i (1 .. 600) { my $w = join(" ", map { "word$_" } 1 .. ($i * 37) % 25);
        print "line $i of the file imgtool put on the disk: $w\n" }'
}
cat_case() {
    local n=diskcat file=$W/diskcat.txt
    local size
    cat_text >"$file"
    size=$(stat -c %s "$file")
    cp "$file" "$W/$n.raw"
    truncate -s 1M "$W/$n.raw"
    if ! "$TOP/bin/imgtool" convert -c -f raw -O qcow2 "$W/$n.raw" "$W/$n.qcow2" >"$W/$n.img" 2>&1; then
        fail "$n: bin/imgtool convert -c" "failed"
        show_log "$W/$n.img"
        return
    fi
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${QG[@]}" -kernel "$G/diskcat.elf" \
        -append "bytes=$size" -drive "file=$W/$n.qcow2,format=qcow2,readonly=on"
    sed -n '/^diskcat: begin$/,/^diskcat: end$/p' "$W/$n.out" | sed '1d;$d' >"$W/$n.printed"
    if [ "$(cat "$W/$n.st")" = 0 ] && cmp -s "$W/$n.printed" "$file"; then
        pass "$n: the guest prints a file from a compressed qcow2 image imgtool made"
    else
        fail "$n: the guest prints the file imgtool put on the disk" "status $(cat "$W/$n.st"), $(cmp "$W/$n.printed" "$file" 2>&1 | head -n 1)"
        show_log "$W/$n.err" 5
    fi
}
run_case diskcat cat_case

bench_case() {
    local n=vbench img=$W/vbench.qcow2
    qemu-img create -q -f qcow2 "$img" 8M
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${QG[@]}" -kernel "$G/vbench.elf" \
        -append "mib=4" -drive "file=$img,format=qcow2"
    if [ "$(cat "$W/$n.st")" = 0 ] && all_pass "$W/$n.out" &&
        grep -qE '^    disk read: [0-9]+ bytes in [0-9]+ ms, [0-9]+\.[0-9]+ MB/s$' "$W/$n.out"; then
        pass "$n: vbench measures the disk on QEMU microvm"
    else
        fail "$n: vbench on QEMU microvm" "status $(cat "$W/$n.st")"
        show_log "$W/$n.out"
    fi
}
run_case vbench bench_case
finish_cases

# ---- Under hv: the same guests, the same kinds of disks, compared with the
# runs above (lib/guests.bash's rules for verdicts; whole outputs where the
# guest prints data).  Known difference: hv cuts console lines at 256
# characters (COM1's and virtio-console's alike), QEMU does not, so the
# console is compared with a 200-byte long line.

# hv_run NAME HVRUN-ARGS...: run under hv on QEMU+SVM.
hv_run() {
    local n=$1
    shift
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "$TOP/bin/hvrun" --hv "$HV" --timeout 300 "$@"
}

# same_verdicts NAME PLAIN-OUT: hv's verdicts are plain QEMU's.
same_verdicts() {
    local n=$1 plain=$2 diff
    guests_verdicts "$plain" | grep -v $'\tGET_ID returns' >"$W/$n.plain.v"
    guests_verdicts "$W/$n.out" >"$W/$n.hv.v"
    diff=$(guests_compare_verdicts "$W/$n.plain.v" "$W/$n.hv.v")
    if [ "$(cat "$W/$n.st")" != 0 ] || [ -n "$diff" ]; then
        fail "$n: the same verdicts under hv as on plain QEMU" "status $(cat "$W/$n.st"): ${diff:-see the log}"
        show_log "$W/$n.out"
        show_log "$W/$n.err" 5
        return 1
    fi
    pass "$n: the same verdicts under hv as on plain QEMU"
}

# The block test with each way of waiting, on fresh qcow2 files; the files
# then hold the pattern.
hv_blk_case() {
    local n=$1 wait=$2 plain=$3
    qemu-img create -q -f qcow2 "$W/$n.qcow2" 4M
    hv_run "$n" -kernel "$G/vblk.elf" -append "sectors=8192 wait=$wait" \
        -drive "file=$W/$n.qcow2,format=qcow2,if=virtio"
    same_verdicts "$n" "$plain" && image_is_pattern "$n" "$W/$n.qcow2" 8192
}

hv_ro_case() {
    local n=hv-blk-ro img=$W/hv-blk-ro.qcow2
    qemu-img create -q -f qcow2 "$img" 4M
    cp "$img" "$W/$n.before"
    hv_run "$n" -kernel "$G/vblk.elf" -append "sectors=8192 ro" \
        -drive "file=$img,format=qcow2,if=virtio,readonly=on"
    same_verdicts "$n" "$W/blk-ro.out" && if cmp -s "$img" "$W/$n.before"; then
        pass "$n: the read-only file is unchanged"
    else
        fail "$n: the read-only file is unchanged" "it changed"
    fi
}

# diskcat and vcon print data: everything but the indented notes (addresses
# and counters differ) must be the same as on QEMU.
same_output() {
    local n=$1 plain=$2
    diff <(grep -v '^    ' "$plain") <(grep -v '^    ' "$W/$n.out") >"$W/$n.diff"
    if [ "$(cat "$W/$n.st")" = 0 ] && [ ! -s "$W/$n.diff" ]; then
        pass "$n: the same output under hv as on plain QEMU"
    else
        fail "$n: the same output under hv as on plain QEMU" "status $(cat "$W/$n.st") (- QEMU, + hv)"
        sed 's/^/    /' "$W/$n.diff" | head -n 20
        show_log "$W/$n.err" 5
    fi
}

# diskcat on the same file in a plain qcow2 image, and in the compressed
# one plain QEMU read (hv's imgtool library inflates its clusters).
hv_cat_case() {
    local kind=$1 n=hv-diskcat-$1 img=$W/diskcat.qcow2
    if [ "$kind" = plain ]; then
        img=$W/diskcat-plain.qcow2
        "$TOP/bin/imgtool" convert -f raw -O qcow2 "$W/diskcat.raw" "$img"
    fi
    hv_run "$n" -kernel "$G/diskcat.elf" -append "bytes=$(stat -c %s "$W/diskcat.txt")" \
        -drive "file=$img,format=qcow2,readonly=on"
    same_output "$n" "$W/diskcat.out"
}

hv_con_case() {
    local n=hv-console
    hv_run "$n" -kernel "$G/vcon.elf" -append "wait=ioapic long=200" -device virtio-serial-device
    same_output "$n" "$W/console-stdout.out"
}

hv_bench_case() {
    local n=hv-vbench
    qemu-img create -q -f qcow2 "$W/$n.qcow2" 8M
    hv_run "$n" -kernel "$G/vbench.elf" -append "mib=4" -drive "file=$W/$n.qcow2,format=qcow2" \
        -device virtio-serial-device
    if same_verdicts "$n" "$W/vbench.out" >"$W/$n.v" && grep -qE '^    disk write\+flush: [0-9]+ exits, [0-9]+ bytes per exit$' "$W/$n.out" &&
        grep -qE '^    console: [0-9]+ exits per KiB through the UART, [0-9]+ through virtio-console$' "$W/$n.out"; then
        pass "$n: vbench counts hv's exits per byte of disk and console"
    else
        fail "$n: vbench under hv" "status $(cat "$W/$n.st")"
        cat "$W/$n.v"
        show_log "$W/$n.out"
    fi
}

why=$(hv_missing)
if [ -n "$why" ]; then
    skip "hv: the virtio guests under hv" "$why"
elif ! "$TOP/bin/hvrun" --help 2>/dev/null | grep -q -- '-drive'; then
    skip "hv: the virtio guests under hv" "bin/hvrun has no -drive yet (hv's virtio devices)"
else
    run_case hv-blk-ioapic hv_blk_case hv-blk-ioapic ioapic "$W/blk-ioapic.out"
    run_case hv-blk-pic hv_blk_case hv-blk-pic pic "$W/blk-pic.out"
    run_case hv-blk-poll hv_blk_case hv-blk-poll poll "$W/blk-poll.out"
    run_case hv-blk-ro hv_ro_case
    run_case hv-blk-crash crash_case hv-blk-crash "$TOP/bin/hvrun" --hv "$HV"
    run_case hv-diskcat-plain hv_cat_case plain
    run_case hv-diskcat-compressed hv_cat_case compressed
    run_case hv-console hv_con_case
    run_case hv-vbench hv_bench_case
    finish_cases
fi
