#!/usr/bin/env bash
# The CD-ROM drive (hv/dev/ide_cd.h, atapi.c) against QEMU's: the cdrom
# guest (guestkit/tests/cdrom.c) reads two ISO 9660 images made here with
# xorriso -- the capacity, the primary volume descriptor, README.TXT -- and
# the drive's sense data for a read past the end and an unknown command.
#   - read:   plain QEMU -cdrom a.iso, and bin/hvrun -cdrom a.iso on
#             QEMU+SVM and Bochs+VMX: the same lines, exit 0;
#   - empty:  a drive without a medium (-drive if=ide,media=cdrom): the same
#             NOT READY / MEDIUM NOT PRESENT on both, exit 1;
#   - change: plain QEMU with its monitor, `eject ide1-cd0` once the guest
#             says "ready for eject" and `change ide1-cd0 b.iso` once it
#             says "ready for change": the guest sees no medium, then the
#             unit attention, then disc B;
#   - errors: hvrun's messages for a missing or empty medium, two drives,
#             a CD-ROM that is not on IDE.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/cdrom.elf
TIMEOUT=${GUEST_TIMEOUT:-240}
CASES=(cdrom-iso cdrom-qemu-read cdrom-svm-read cdrom-bochs-vmx-read cdrom-empty cdrom-qemu-change
    cdrom-hvrun-errors)
skip_all_if "$(built_missing "$HV" "$G")" "${CASES[@]}"
command -v xorriso >/dev/null || skip_all_if "xorriso is not installed (mk/deps.sh test)" "${CASES[@]}"

# Two discs: level-1 ISO 9660 images, each with a README.TXT (disc B also
# with a filler file, so that the two differ in size).
mkdir -p "$W/a" "$W/b"
printf 'This is disc A.\nIt has two lines.\n' >"$W/a/README.TXT"
printf 'Disc B here.\n' >"$W/b/README.TXT"
head -c 300000 /dev/zero | tr '\0' 'B' >"$W/b/FILL.BIN"
if xorriso -as mkisofs -quiet -V DISC_A -o "$W/a.iso" "$W/a" 2>"$W/iso.err" &&
    xorriso -as mkisofs -quiet -V DISC_B -o "$W/b.iso" "$W/b" 2>>"$W/iso.err"; then
    pass cdrom-iso
else
    fail cdrom-iso "xorriso failed"
    show_log "$W/iso.err"
    exit 0
fi

# --- Reading a disc ------------------------------------------------------------
run_logged "$W/q.out" "$W/q.err" "$W/q.st" "$TOP/bin/qemu-guest" --timeout "$TIMEOUT" -kernel "$G" \
    -cdrom "$W/a.iso"
if [ "$(cat "$W/q.st")" = 0 ] && grep -qx 'cdrom: volume DISC_A, [0-9]* sectors' "$W/q.out" &&
    grep -qx 'cdrom: README.TXT: It has two lines.' "$W/q.out"; then
    pass cdrom-qemu-read
else
    fail cdrom-qemu-read "status $(cat "$W/q.st") (want 0), disc A's volume and README.TXT"
    show_log "$W/q.out"
    show_log "$W/q.err"
fi

# hv_read ID EMULATOR VENDOR: the same under hv, the same lines.
hv_read() {
    local id=$1
    run_logged "$W/$id.out" "$W/$id.err" "$W/$id.st" "$TOP/bin/hvrun" --emulator "$2" \
        --vendor "$3" --hv "$HV" --timeout "$TIMEOUT" -kernel "$G" -cdrom "$W/a.iso"
    if [ "$(cat "$W/$id.st")" = 0 ] && cmp -s "$W/$id.out" "$W/q.out" &&
        grep -q '^\[hv\] ide1-cd0 at 0x170/0x376 irq 15: .*a.iso, read-only$' "$W/$id.err"; then
        pass "$id"
    else
        fail "$id" "status $(cat "$W/$id.st") (want 0) and the lines plain QEMU printed"
        diff "$W/q.out" "$W/$id.out" | head -n 20
        show_log "$W/$id.err"
    fi
}
hv_read cdrom-svm-read qemu svm
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip cdrom-bochs-vmx-read "$why"
else
    hv_read cdrom-bochs-vmx-read bochs vmx
fi

# --- An empty drive --------------------------------------------------------------
run_logged "$W/qe.out" "$W/qe.err" "$W/qe.st" "$TOP/bin/qemu-guest" --timeout "$TIMEOUT" -kernel "$G" \
    -drive if=ide,media=cdrom
run_logged "$W/he.out" "$W/he.err" "$W/he.st" "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" \
    -kernel "$G" -drive if=ide,media=cdrom
if [ "$(cat "$W/qe.st")" = 1 ] && [ "$(cat "$W/he.st")" = 1 ] && cmp -s "$W/qe.out" "$W/he.out" &&
    grep -qx 'cdrom: READ CAPACITY: sense 2/3a' "$W/he.out"; then
    pass cdrom-empty
else
    fail cdrom-empty "statuses $(cat "$W/qe.st") and $(cat "$W/he.st") (want 1), the same lines"
    diff "$W/qe.out" "$W/he.out" | head -n 20
    show_log "$W/he.err"
fi

# --- Eject and change --------------------------------------------------------------
# wait_line FILE TEXT: until the guest printed TEXT (at most TIMEOUT s).
wait_line() {
    local i
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        grep -qx "$2" "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# The lines the change must bring, after disc A's: no medium, the unit
# attention, disc B.
expect_change() {
    grep -qx 'cdrom: no medium: sense 2/3a' "$1" &&
        grep -qx 'cdrom: medium changed: sense 6/28' "$1" &&
        grep -qx 'cdrom: volume DISC_B, [0-9]* sectors' "$1" &&
        grep -qx 'cdrom: README.TXT: Disc B here.' "$1" && grep -qx 'cdrom: done' "$1"
}

# plain QEMU (bin/hvrun.d/qemu.sh's machine) with its monitor on a FIFO.
qemu_change() {
    local fifo=$W/monitor.in a args=()
    # shellcheck source=../../bin/hvrun.d/qemu.sh
    . "$TOP/bin/hvrun.d/qemu.sh"
    qemu_machine_args
    for a in "${QEMU_ARGS[@]}"; do
        [ "$a" = stdio ] && a=file:$W/qc.out
        args+=("$a")
    done
    rm -f "$fifo"
    mkfifo "$fifo"
    : >"$W/qc.out"
    timeout -k 5 "$TIMEOUT" "$HVRUN_QEMU" "${args[@]}" -m 128M -monitor stdio -kernel "$G" \
        -append change -cdrom "$W/a.iso" <"$fifo" >"$W/qc.mon" 2>&1 &
    local pid=$!
    exec 3>"$fifo"
    wait_line "$W/qc.out" 'cdrom: ready for eject' && echo 'eject ide1-cd0' >&3
    wait_line "$W/qc.out" 'cdrom: ready for change' && echo "change ide1-cd0 $W/b.iso" >&3
    wait "$pid"
    echo $? >"$W/qc.st"
    exec 3>&-
    tr -d '\r' <"$W/qc.out" >"$W/qc.lines"
}
qemu_change
# QEMU's status 1 is the guest's exit code 0 ((0 << 1) | 1).
if [ "$(cat "$W/qc.st")" = 1 ] && expect_change "$W/qc.lines"; then
    pass cdrom-qemu-change
else
    fail cdrom-qemu-change "QEMU status $(cat "$W/qc.st") (want 1), no medium, the unit attention, disc B"
    show_log "$W/qc.lines"
    show_log "$W/qc.mon"
fi

# --- hvrun's refusals ----------------------------------------------------------------
# refused EXPECTED-MESSAGE ARGS...: hvrun must stop with status 125 and say so.
errors=''
refused() {
    local want=$1 out st
    shift
    out=$("$TOP/bin/hvrun" --hv "$HV" --timeout 30 -kernel "$G" "$@" 2>&1 </dev/null)
    st=$?
    if [ "$st" != 125 ] || ! grep -qF -- "$want" <<<"$out"; then
        errors+=" [$* -> status $st: $out]"
    fi
}
: >"$W/empty.iso"
refused "'$W/missing.iso' does not exist" -cdrom "$W/missing.iso"
refused "is empty: a CD-ROM's medium needs at least one sector" -cdrom "$W/empty.iso"
refused "2 CD-ROM drives: hv has one (ide1-cd0)" -cdrom "$W/a.iso" -cdrom "$W/b.iso"
refused "a CD-ROM is on if=ide" -drive "file=$W/a.iso,media=cdrom,if=virtio"
refused "a CD-ROM's medium is a raw image" -drive "file=$W/a.iso,media=cdrom,format=qcow2"
refused "if=ide is for a CD-ROM only" -drive "file=$W/a.iso,if=ide"
if [ -z "$errors" ]; then
    pass cdrom-hvrun-errors
else
    fail cdrom-hvrun-errors "$errors"
fi
