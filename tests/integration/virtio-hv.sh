#!/usr/bin/env bash
# hv's virtio devices (hv/dev/virtio/, hv/core/vdev.c) with guestkit's
# virtio guests, under hv on QEMU+SVM, Bochs+VMX and Bochs+SVM, judged against the
# same guests on plain QEMU's microvm machine (bin/qemu-guest -drive), the
# reference: the verdicts must be the same (lib/guests.bash's rules).
# Every guest runs under QEMU+SVM; one representative run of each under
# Bochs+VMX and Bochs+SVM (Bochs boots a BIOS and GRUB first: it is the
# slow machine) goes through the same checks.
#   - vblk on a qcow2 disk, interrupts through the I/O APIC and through the
#     8259 (hv's IRQ 12, as microvm with ioapic2=off), and polling; on a raw
#     disk; on a qcow2 disk with lazy refcounts (the dirty bit hv's library
#     sets must be cleared when hv closes the image at the end):
#     afterwards `qemu-img check` is clean, `qemu-img convert -O raw`
#     gives exactly the pattern vblk writes (built here by perl from the
#     rule in guestkit/tests/vblk.c) and `qemu-img compare` finds the image
#     identical to that pattern; on a readonly=on disk (writes fail
#     with IOERR) and with -snapshot the file is unchanged;
#   - vcon's lines arrive on the console through virtio-console;
#   - vcon echo: a line sent to the console comes back (on plain QEMU
#     through the virtconsole's pipe character device, under hv from
#     hvrun --console-input's stdin through the outer machine's COM1);
#   - diskcat prints a file bin/imgtool put into a compressed qcow2 image
#     (hv's own deflate decoder reads it), and through an overlay whose
#     backing file it is (a relative name);
#   - hv has no zstd decoder: diskcat on an image qemu-img compressed with
#     zstd gets IOERR and hv says why in one "[hv]" line; an image whose
#     header says zstd but which holds no compressed cluster reads fine;
#   - vhostile breaks the rings' rules seven ways: each time the device needs
#     a reset (one "[hv]" line each), recovers after it, and hv goes on;
#     then it breaks virtio-blk's seg_max and size_max: each request fails
#     with IOERR (one "[hv]" line each) and the device needs no reset;
#   - vhostile durable writes and FLUSHes, then spins until the machine is
#     stopped from outside (SIGTERM to hvrun as soon as the guest says it
#     flushed): the flushed data is in the file, which qemu-img check
#     finds clean;
#   - with --domains 2 each domain has its own devices: both print a file
#     from one read-only disk, both write through their own virtio-console,
#     and every byte of their memory comes back; a writable disk is refused;
#   - bin/hvrun refuses bad -drive and -device options with a clear message.
# The image files are the real ones: bin/hvrun attaches them to the outer
# machine as disks and hv's imgtool library writes into them.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/guests.bash"

W=$IT_WORK
G=$BUILD/guestkit
BOCHS_CASES=(vmx-blk vmx-console vmx-backing vmx-hostile vmx-durable
    bochs-svm-blk bochs-svm-console bochs-svm-backing bochs-svm-hostile)
CASES=(svm-blk-ioapic svm-blk-lazy svm-blk-pic svm-blk-poll svm-blk-raw svm-blk-ro svm-blk-snapshot
    svm-console svm-echo svm-domains svm-diskcat svm-backing svm-zstd svm-hostile svm-durable usage "${BOCHS_CASES[@]}")
skip_all_if "$(built_missing "$HV" "$G/vblk.elf" "$G/vcon.elf" "$G/diskcat.elf" "$G/vhostile.elf")" \
    "${CASES[@]}"
for tool in qemu-system-x86_64 qemu-img perl; do
    command -v "$tool" >/dev/null || skip_all_if "$tool is not installed (bash mk/deps.sh test)" "${CASES[@]}"
done

HVRUN=("$TOP/bin/hvrun" --hv "$HV" --timeout 300)
QG=("$TOP/bin/qemu-guest" --timeout 120)

# same_verdicts NAME PLAIN HVRUN: both runs ended with 0 and give the same
# verdicts; the image files they used are judged by the caller.
same_verdicts() {
    local n=$1 plain=$2 hv=$3 diff
    guests_verdicts "$plain.out" >"$plain.v"
    guests_verdicts "$hv.out" >"$hv.v"
    diff=$(guests_compare_verdicts "$plain.v" "$hv.v")
    if [ "$(cat "$plain.st")" = 0 ] && [ "$(cat "$hv.st")" = 0 ] && [ -s "$hv.v" ] && [ -z "$diff" ]; then
        pass "$n: the same verdicts as on plain QEMU microvm"
        return 0
    fi
    fail "$n: the same verdicts as on plain QEMU microvm" \
        "status $(cat "$plain.st") on QEMU, $(cat "$hv.st") under hv: ${diff:-see the log}"
    show_log "$hv.out"
    show_log "$hv.err" 8
    return 1
}

# unchanged NAME IMG COPY: the image file is as it was before the run.
unchanged() {
    if cmp -s "$2" "$3"; then
        pass "$1: the image file is unchanged"
    else
        fail "$1: the image file is unchanged" "$(cmp "$2" "$3" 2>&1 | head -n 1)"
    fi
}

# has_pattern NAME IMG FORMAT: qemu-img check is clean (qcow2) and the raw
# contents are vblk's pattern: every sector 32 lines "sector %08x\n".
has_pattern() {
    local n=$1 img=$2 fmt=$3
    if [ "$fmt" = qcow2 ] && ! qemu-img check "$img" >"$W/$n.check" 2>&1; then
        fail "$n: qemu-img check" "not clean"
        show_log "$W/$n.check"
        return
    fi
    perl -e 'for my $s (0 .. 8191) { print sprintf("sector %08x\n", $s) x 32 }' >"$W/$n.expected"
    qemu-img convert -f "$fmt" -O raw "$img" "$W/$n.raw"
    if ! cmp -s "$W/$n.raw" "$W/$n.expected"; then
        fail "$n: the pattern in the image file" "$(cmp "$W/$n.raw" "$W/$n.expected" 2>&1 | head -n 1)"
    elif ! qemu-img compare -q -f raw -F "$fmt" "$W/$n.expected" "$img"; then
        fail "$n: qemu-img compare with the pattern" "the image differs (status $?)"
    else
        pass "$n: qemu-img check is clean, convert -O raw and compare show the pattern on every sector"
    fi
}

# blk_case NAME EMU-ARGS FORMAT WAIT [DRIVE-OPTS]: vblk on a fresh 4 MiB
# disk, on plain QEMU and under hv.
blk_case() {
    local n=$1 emu=$2 fmt=$3 wait=$4 opts=${5:-} args
    read -r -a args <<<"$emu"
    args+=(-kernel "$G/vblk.elf")
    local app="sectors=8192 wait=$wait" snap=()
    [[ $opts == *readonly=on* ]] && app="sectors=8192 ro"
    if [ "$opts" = snapshot ]; then
        opts='' snap=(-snapshot)
    fi
    local copts=()
    [ "$opts" = lazy ] && opts='' copts=(-o lazy_refcounts=on)
    qemu-img create -q -f "$fmt" "${copts[@]}" "$W/$n.plain.img" 4M
    qemu-img create -q -f "$fmt" "${copts[@]}" "$W/$n.hv.img" 4M
    cp "$W/$n.hv.img" "$W/$n.before"
    # wait=pic on QEMU needs microvm's 8259 layout, which qemu-guest does
    # not give: the reference then is the I/O APIC run.
    local papp=$app
    [ "$wait" = pic ] && papp="sectors=8192 wait=ioapic"
    run_logged "$W/$n.plain.out" "$W/$n.plain.err" "$W/$n.plain.st" "${QG[@]}" \
        -kernel "$G/vblk.elf" -append "$papp" -drive "file=$W/$n.plain.img,format=$fmt$opts"
    run_logged "$W/$n.hv.out" "$W/$n.hv.err" "$W/$n.hv.st" "${HVRUN[@]}" "${args[@]}" \
        -append "$app" -drive "file=$W/$n.hv.img,format=$fmt,if=virtio$opts" "${snap[@]}"
    if [ "$wait" = pic ]; then
        # The interrupt verdict names the mechanism: compare the rest.
        sed -i 's/interrupts arrived (pic)/interrupts arrived (ioapic)/' "$W/$n.hv.out"
    fi
    same_verdicts "$n" "$W/$n.plain" "$W/$n.hv" || return
    if [[ $opts == *readonly=on* ]] || [ ${#snap[@]} -gt 0 ]; then
        unchanged "$n" "$W/$n.hv.img" "$W/$n.before"
    else
        has_pattern "$n" "$W/$n.hv.img" "$fmt"
    fi
    # Incompatible feature bit 0 of a qcow2 header (bytes 72-79, big
    # endian) is the dirty bit (qcow2.txt "Header").
    if [ ${#copts[@]} -gt 0 ]; then
        if [ "$(od -An -tu1 -j79 -N1 "$W/$n.hv.img" | tr -d ' ')" = 0 ]; then
            pass "$n: the image is not left dirty (hv closed it)"
        else
            fail "$n: the image is not left dirty" "incompatible feature bit 0 is set"
        fi
    fi
}

# con_case NAME EMU-ARGS: vcon's lines on the console, as vcon.c writes them.
con_case() {
    local n=$1 args
    read -r -a args <<<"$2"
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" "${args[@]}" \
        -kernel "$G/vcon.elf" -append "wait=ioapic" -device virtio-serial-device
    {
        echo "vcon: written with virtio_console_write"
        for i in 1 2 3; do echo "vcon: printf line $i of 3"; done
    } >"$W/$n.expected"
    # hv passes console lines on as COM1's: at most 256 bytes a piece.
    local long
    long="vcon: long line $(perl -e 'print join("", map { chr(97 + $_ % 26) } 0 .. 282)')"
    if [ "$(cat "$W/$n.st")" = 0 ] && grep -q '^SUMMARY: .* 0 unexpected failures' "$W/$n.out" &&
        grep -vE '^(PASS|FAIL|SKIP|SUMMARY|    )' "$W/$n.out" | head -n 4 | cmp -s - "$W/$n.expected" &&
        [ "$(grep -A1 '^vcon: long line' "$W/$n.out" | tr -d '\n')" = "$long" ]; then
        pass "$n: vcon's lines arrive through virtio-console"
    else
        fail "$n: vcon's lines through virtio-console" "status $(cat "$W/$n.st")"
        show_log "$W/$n.out"
        show_log "$W/$n.err" 8
    fi
}

# echo_case NAME: vcon echoes a line of 150 bytes (more than one of the
# driver's 64-byte receive buffers and of hv's 64-byte holding buffer)
# sent to its console: on plain QEMU microvm through a pipe character
# device (NAME.pipe.in/.out), under hv through bin/hvrun --console-input.
echo_case() {
    local n=$1 line
    line="vcon echo test: $(perl -e 'print join("", map { chr(65 + $_ % 26) } 0 .. 132)')"
    printf '%s\n' "$line" >"$W/$n.in"
    rm -f "$W/$n.pipe.in" "$W/$n.pipe.out"
    mkfifo "$W/$n.pipe.in" "$W/$n.pipe.out"
    # QEMU opens both ends read-write: the writer and the reader here
    # never block on it for good, and the reader ends when QEMU does.
    cat "$W/$n.pipe.out" >"$W/$n.text" &
    local reader=$!
    cat "$W/$n.in" >"$W/$n.pipe.in" &
    run_logged "$W/$n.plain.out" "$W/$n.plain.err" "$W/$n.plain.st" timeout 120 \
        qemu-system-x86_64 -M microvm -global virtio-mmio.force-legacy=false -accel tcg -cpu max \
        -m 128 -nodefaults -display none -no-reboot -serial stdio \
        -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$G/vcon.elf" \
        -append "wait=ioapic echo virtio_mmio.device=512@0xfeb02e00:47" \
        -device virtio-serial-device -device virtconsole,chardev=vcon \
        -chardev "pipe,id=vcon,path=$W/$n.pipe"
    wait "$reader"
    # isa-debug-exit: code 0 is QEMU's status 1.
    [ "$(cat "$W/$n.plain.st")" = 1 ] && echo 0 >"$W/$n.plain.st"
    tr -d '\r' <"$W/$n.plain.out" >"$W/$n.plain.tmp" && mv "$W/$n.plain.tmp" "$W/$n.plain.out"
    "${HVRUN[@]}" --console-input -kernel "$G/vcon.elf" -append "wait=ioapic echo" \
        -device virtio-serial-device <"$W/$n.in" >"$W/$n.hv.out" 2>"$W/$n.hv.err"
    echo $? >"$W/$n.hv.st"
    same_verdicts "$n" "$W/$n.plain" "$W/$n.hv" || return
    if grep -qxF "vcon: echo: $line" "$W/$n.text" && grep -qxF "vcon: echo: $line" "$W/$n.hv.out"; then
        pass "$n: the line sent to the console comes back, on plain QEMU and under hv"
    else
        fail "$n: the echoed line" "on QEMU: $(grep -c 'vcon: echo:' "$W/$n.text"), under hv: $(grep 'vcon: echo:' "$W/$n.hv.out" | head -c 80)"
    fi
}

# domains_case NAME: --domains 2 with a read-only disk, then with a
# virtio-console: each domain's guest works on its own devices (domain 1's
# lines start with "[d1] "), and the heap gets every byte back.
domains_case() {
    local n=$1 file=$TOP/hv/dev/virtio/virtq.h size d ok=1
    size=$(stat -c %s "$file")
    cp "$file" "$W/$n.raw"
    truncate -s 1M "$W/$n.raw"
    qemu-img convert -c -f raw -O qcow2 "$W/$n.raw" "$W/$n.qcow2"
    run_logged "$W/$n.cat.out" "$W/$n.cat.err" "$W/$n.cat.st" "${HVRUN[@]}" --domains 2 \
        -kernel "$G/diskcat.elf" -append "bytes=$size" -drive "file=$W/$n.qcow2,format=qcow2,readonly=on"
    for d in 0 1; do
        if [ "$d" = 0 ]; then grep -v '^\[d1\] ' "$W/$n.cat.out"; else sed -n 's/^\[d1\] //p' "$W/$n.cat.out"; fi |
            sed -n '/^diskcat: begin$/,/^diskcat: end$/p' | sed '1d;$d' >"$W/$n.d$d.printed"
        cmp -s "$W/$n.d$d.printed" "$file" || ok=0
    done
    if [ "$(cat "$W/$n.cat.st")" = 0 ] && [ "$ok" = 1 ] && heap_back "$W/$n.cat.err"; then
        pass "$n: two domains print the file from one read-only disk; all their memory comes back"
    else
        fail "$n: two domains on one read-only disk" "status $(cat "$W/$n.cat.st")"
        show_log "$W/$n.cat.err" 8
    fi
    run_logged "$W/$n.con.out" "$W/$n.con.err" "$W/$n.con.st" "${HVRUN[@]}" --domains 2 \
        -kernel "$G/vcon.elf" -append "wait=ioapic long=200" -device virtio-serial-device
    if [ "$(cat "$W/$n.con.st")" = 0 ] && grep -qx 'vcon: printf line 3 of 3' "$W/$n.con.out" &&
        grep -qx '\[d1\] vcon: printf line 3 of 3' "$W/$n.con.out" &&
        [ "$(grep -c '^\(\[d1\] \)\?SUMMARY: 6 tests, 0 unexpected failures' "$W/$n.con.out")" = 2 ] &&
        heap_back "$W/$n.con.err"; then
        pass "$n: two domains write through their own virtio-consoles"
    else
        fail "$n: two domains' virtio-consoles" "status $(cat "$W/$n.con.st")"
        show_log "$W/$n.con.out"
    fi
}

# heap_back ERR: hv's last heap line says every byte came back.
heap_back() {
    local line
    line=$(grep '^\[hv\] heap: ' "$1" | tail -n 1)
    [[ $line =~ ([0-9]+)\ KiB\ free\ after\ teardown,\ ([0-9]+)\ KiB\ before ]] &&
        [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
}

# cat_case NAME EMU-ARGS [overlay]: a file put into a compressed qcow2
# image by bin/imgtool, read directly or through an overlay made by
# bin/imgtool.
cat_case() {
    # A file of short lines: hv passes a console line of more than 256
    # bytes on in pieces (hv/dev/uart16550.h), plain QEMU whole.
    local n=$1 emu=$2 how=${3:-} file=$TOP/hv/dev/virtio/virtq.h size args
    read -r -a args <<<"$emu"
    size=$(stat -c %s "$file")
    cp "$file" "$W/$n.raw"
    truncate -s 1M "$W/$n.raw"
    "$TOP/bin/imgtool" convert -c -f raw -O qcow2 "$W/$n.raw" "$W/$n.qcow2"
    local disk=$W/$n.qcow2 opt=,readonly=on
    if [ "$how" = overlay ]; then
        (cd "$W" && "$TOP/bin/imgtool" create -q -f qcow2 -b "$n.qcow2" -F qcow2 "$n.top.qcow2")
        disk=$W/$n.top.qcow2 opt=
    fi
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" "${args[@]}" \
        -kernel "$G/diskcat.elf" -append "bytes=$size" -drive "file=$disk,format=qcow2$opt"
    sed -n '/^diskcat: begin$/,/^diskcat: end$/p' "$W/$n.out" | sed '1d;$d' >"$W/$n.printed"
    if [ "$(cat "$W/$n.st")" = 0 ] && cmp -s "$W/$n.printed" "$file"; then
        pass "$n: the guest prints hv/dev/virtio/virtq.h from a qcow2 image imgtool compressed${how:+ (through an overlay)}"
    else
        fail "$n: the guest prints the file imgtool put on the disk" \
            "status $(cat "$W/$n.st"), $(cmp "$W/$n.printed" "$file" 2>&1 | head -n 1)"
        show_log "$W/$n.err" 8
    fi
}

# zstd_case NAME: hv refuses zstd-compressed clusters with a clear
# message (and reads a zstd-typed image that has none); qemu-img makes both.
zstd_case() {
    local n=$1 file=$TOP/hv/dev/virtio/virtq.h size
    size=$(stat -c %s "$file")
    cp "$file" "$W/$n.raw"
    truncate -s 1M "$W/$n.raw"
    qemu-img convert -c -f raw -O qcow2 -o compression_type=zstd "$W/$n.raw" "$W/$n.c.qcow2"
    qemu-img convert -f raw -O qcow2 -o compression_type=zstd "$W/$n.raw" "$W/$n.u.qcow2"
    cp "$W/$n.c.qcow2" "$W/$n.before"
    run_logged "$W/$n.c.out" "$W/$n.c.err" "$W/$n.c.st" "${HVRUN[@]}" -kernel "$G/diskcat.elf" \
        -append "bytes=$size" -drive "file=$W/$n.c.qcow2,format=qcow2,readonly=on"
    local want="\\[hv\\] virtio-blk0: read at sector 0 failed: Compressed cluster at offset"
    want="$want 0x[0-9a-f]* of '$W/$n.c.qcow2' is zstd, which this program cannot decompress"
    if grep -q '^diskcat: read at sector 0: IOERR$' "$W/$n.c.out" &&
        [ "$(grep -c "^$want\$" "$W/$n.c.err")" = 1 ] && cmp -s "$W/$n.c.qcow2" "$W/$n.before"; then
        pass "$n: a zstd-compressed cluster fails with IOERR and one [hv] line saying why"
    else
        fail "$n: a zstd-compressed cluster is refused clearly" "status $(cat "$W/$n.c.st")"
        show_log "$W/$n.c.out"
        show_log "$W/$n.c.err" 8
    fi
    run_logged "$W/$n.u.out" "$W/$n.u.err" "$W/$n.u.st" "${HVRUN[@]}" -kernel "$G/diskcat.elf" \
        -append "bytes=$size" -drive "file=$W/$n.u.qcow2,format=qcow2,readonly=on"
    sed -n '/^diskcat: begin$/,/^diskcat: end$/p' "$W/$n.u.out" | sed '1d;$d' >"$W/$n.printed"
    if [ "$(cat "$W/$n.u.st")" = 0 ] && cmp -s "$W/$n.printed" "$file"; then
        pass "$n: an image of compression type zstd without compressed clusters reads"
    else
        fail "$n: a zstd-typed image without compressed clusters" "status $(cat "$W/$n.u.st")"
        show_log "$W/$n.u.err" 8
    fi
}

# hostile_case NAME EMU-ARGS: vhostile's verdicts all pass, hv logged one
# "device needs reset" line for each of its seven broken cases and one
# IOERR line for each broken limit, the guest ended normally, and the disk
# file is unchanged (vhostile only reads).
hostile_case() {
    local n=$1 args
    read -r -a args <<<"$2"
    qemu-img create -q -f raw "$W/$n.raw" 1M
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "${HVRUN[@]}" "${args[@]}" \
        -kernel "$G/vhostile.elf" -drive "file=$W/$n.raw,format=raw"
    local resets limits
    resets=$(grep -c '^\[hv\] virtio-blk0: .*; device needs reset$' "$W/$n.err")
    limits=$(grep -cE '^\[hv\] virtio-blk0: read at sector 0 (in 127 data segments \(seg_max 126\)|with a data segment of 66048 bytes \(size_max 65536\)) refused with VIRTIO_BLK_S_IOERR$' "$W/$n.err")
    if [ "$(cat "$W/$n.st")" = 0 ] && grep -q '^SUMMARY: 22 tests, 0 unexpected failures' "$W/$n.out" &&
        [ "$resets" = 7 ] && [ "$limits" = 2 ] && ! grep -q '^FAIL' "$W/$n.out" &&
        [ "$(stat -c %s "$W/$n.raw")" = 1048576 ]; then
        pass "$n: seven broken rings, seven resets, seg_max and size_max broken, two IOERRs, one [hv] line each, the device recovers"
    else
        fail "$n: vhostile under hv" "status $(cat "$W/$n.st"), $resets reset lines, $limits limit lines"
        show_log "$W/$n.out"
        show_log "$W/$n.err" 12
    fi
}

# durable_case NAME SECONDS EMU-ARGS: what a FLUSH acknowledged survives
# the machine's end; the guest spins after the flush, and once it says so
# hvrun gets SIGTERM, stops the emulator at once (QEMU gets SIGTERM, Bochs
# SIGINT, as at hvrun's time limit) and exits 143.  SECONDS is the time
# limit for a guest that never gets there.
durable_case() {
    local n=$1 secs=$2 args pid
    read -r -a args <<<"$3"
    qemu-img create -q -f qcow2 "$W/$n.qcow2" 1M
    "$TOP/bin/hvrun" --hv "$HV" --timeout "$secs" "${args[@]}" -kernel "$G/vhostile.elf" \
        -append durable -drive "file=$W/$n.qcow2,format=qcow2" >"$W/$n.out" 2>"$W/$n.err" </dev/null &
    pid=$!
    ! wait_for_nth "$W/$n.out" '^vhostile: flushed$' 1 "$secs" "$pid" || kill -TERM "$pid"
    wait "$pid"
    echo $? >"$W/$n.st"
    perl -e 'printf("durable %08x", $_) for 0 .. 255' >"$W/$n.expected"
    qemu-img convert -O raw "$W/$n.qcow2" "$W/$n.raw"
    if [ "$(cat "$W/$n.st")" = 143 ] && grep -q '^vhostile: flushed$' "$W/$n.out" &&
        qemu-img check -q "$W/$n.qcow2" && cmp -s -n 4096 "$W/$n.raw" "$W/$n.expected"; then
        pass "$n: flushed writes are in the file after the machine was stopped; qemu-img check is clean"
    else
        fail "$n: flushed writes survive" "status $(cat "$W/$n.st"), $(cmp -n 4096 "$W/$n.raw" "$W/$n.expected" 2>&1 | head -n 1)"
        show_log "$W/$n.out"
    fi
}

# usage_case: bin/hvrun's refusals, each with status 125 and its reason.
usage_case() {
    local n=usage img=$W/usage.qcow2 out st
    qemu-img create -q -f qcow2 "$img" 1M
    check_usage() {
        local want=$1
        shift
        out=$("${HVRUN[@]}" -kernel "$G/vblk.elf" "$@" 2>&1)
        st=$?
        if [ "$st" = 125 ] && grep -qF -- "$want" <<<"$out"; then
            pass "$n: $want"
        else
            fail "$n: $want" "status $st: $(head -n 2 <<<"$out" | tr '\n' ' ')"
        fi
    }
    check_usage "does not exist" -drive "file=$W/none.qcow2"
    check_usage "format 'vmdk' is not supported" -drive "file=$img,format=vmdk"
    check_usage "if=ide is for a CD-ROM only (add media=cdrom; disks are if=virtio)" -drive "file=$img,if=ide"
    check_usage "unknown option 'cache'" -drive "file=$img,cache=none"
    check_usage "a writable disk needs --domains 1" --domains 2 -drive "file=$img"
    check_usage "-device 'e1000' is not supported" -device e1000
    check_usage "--console-input needs -device virtio-serial-device" --console-input
    check_usage "--console-input needs --emulator qemu" --console-input --emulator bochs \
        -device virtio-serial-device
    local many=()
    for _ in 1 2 3 4; do many+=(-drive "file=$img,readonly=on"); done
    check_usage "4 -drive disks: hv has room for 3" "${many[@]}"
}

run_case svm-blk-ioapic blk_case svm-blk-ioapic "" qcow2 ioapic
run_case svm-blk-lazy blk_case svm-blk-lazy "" qcow2 ioapic lazy
run_case svm-blk-pic blk_case svm-blk-pic "" qcow2 pic
run_case svm-blk-poll blk_case svm-blk-poll "" qcow2 poll
run_case svm-blk-raw blk_case svm-blk-raw "" raw ioapic
run_case svm-blk-ro blk_case svm-blk-ro "" qcow2 poll ",readonly=on"
run_case svm-blk-snapshot blk_case svm-blk-snapshot "" qcow2 ioapic snapshot
run_case svm-console con_case svm-console ""
run_case svm-echo echo_case svm-echo
run_case svm-domains domains_case svm-domains
run_case svm-diskcat cat_case svm-diskcat ""
run_case svm-backing cat_case svm-backing "" overlay
run_case svm-zstd zstd_case svm-zstd
run_case svm-hostile hostile_case svm-hostile ""
run_case svm-durable durable_case svm-durable 20 ""
run_case usage usage_case
finish_cases

# Bochs with VT-x and with SVM: the same device models behind the other
# backend, and the outer disks on Bochs's ATA model instead of QEMU's.
why=$(bochs_missing)
if [ -n "$why" ]; then
    for c in "${BOCHS_CASES[@]}"; do skip "$c" "$why"; done
    exit 0
fi
VMX="--emulator bochs --vendor vmx -m 32M"
BSVM="--emulator bochs --vendor svm -m 32M"
run_case vmx-blk blk_case vmx-blk "$VMX" qcow2 ioapic
run_case vmx-console con_case vmx-console "$VMX"
run_case vmx-backing cat_case vmx-backing "$VMX" overlay
run_case vmx-hostile hostile_case vmx-hostile "$VMX"
# Bochs takes a few seconds to boot before the guest writes and flushes.
run_case vmx-durable durable_case vmx-durable 40 "$VMX"
run_case bochs-svm-blk blk_case bochs-svm-blk "$BSVM" qcow2 ioapic
run_case bochs-svm-console con_case bochs-svm-console "$BSVM"
run_case bochs-svm-backing cat_case bochs-svm-backing "$BSVM" overlay
run_case bochs-svm-hostile hostile_case bochs-svm-hostile "$BSVM"
finish_cases
