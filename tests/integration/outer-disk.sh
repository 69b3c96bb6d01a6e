#!/usr/bin/env bash
# hv's own way to a file on the host: the launcher shows the file to the
# outer machine as an ATA disk with a trailer (bin/hvrun.d/outerdisk.sh) and
# hv's ATA PIO driver reads and writes it (hv/disk/).  With disk-test, hv
# reads a file through the same img_io imgtool's library uses, at odd
# offsets, and logs a checksum (FNV-1a 64) of its bytes; then it writes a
# known text inside the file and past its end, flushes, and logs the new
# length and checksum.  Checked under QEMU (SVM) and Bochs (VT-x):
#   - both checksums equal the host's own (perl) of the file before and of
#     the file expected after, and the file on the host is exactly that
#     (cut back to its new length: the extension and trailer are gone);
#   - a file attached read-only (:ro) is read but never changed;
#   - a file left extended by a killed run is cut back before the next one;
#   - the launcher refuses a missing file and a fourth file.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/hello.elf
why=$(hv_missing)
if [ -n "$why" ] || [ ! -f "$G" ]; then
    skip outer-disk "${why:-the guests are not built (make -C guestkit)}"
    exit 0
fi

# fnv FILE: FNV-1a 64 of a file, as hv/disk/outer.c computes it.
fnv() {
    perl -e 'no warnings "portable"; local $/; open(my $f, "<", $ARGV[0]) or die; binmode $f;
        my $d = <$f>; my $h = 0xcbf29ce484222325;
        { use integer; $h = ($h ^ $_) * 0x100000001b3 for unpack("C*", $d) }
        printf "%016x\n", $h' "$1"
}

# expected ORIG OUT: the file after disk-test's writes: 3000 bytes of
# "hvkit outer disk test\n" at offset 1000, then 100 zero bytes past the old
# end and the first 600 bytes of the same text.
expected() {
    perl -e 'local $/; open(my $f, "<", $ARGV[0]) or die; binmode $f; my $d = <$f>;
        my $t = substr("hvkit outer disk test\n" x 200, 0, 3000);
        substr($d, 1000, 3000) = $t; $d .= ("\0" x 100) . substr($t, 0, 600);
        open(my $o, ">", $ARGV[1]) or die; binmode $o; print $o $d' "$1" "$2"
}

# disk_case NAME HVRUN-ARGS...: disk-test on a 300000-byte random file.
disk_case() {
    local n=$1
    shift
    local f=$W/$n.raw
    head -c 300000 /dev/urandom >"$W/$n.orig"
    cp "$W/$n.orig" "$f"
    expected "$W/$n.orig" "$W/$n.expected"
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "$TOP/bin/hvrun" --hv "$HV" --timeout 300 \
        "$@" --outer-disk "$f" --disk-test -kernel "$G"
    local before after
    before="[hv] disk-test: disk 0: length 300000 fnv1a64 $(fnv "$W/$n.orig")"
    after="[hv] disk-test: disk 0: written, flushed: length 300700 fnv1a64 $(fnv "$W/$n.expected")"
    if [ "$(cat "$W/$n.st")" != 0 ]; then
        fail "$n: disk-test" "hvrun status $(cat "$W/$n.st")"
        show_log "$W/$n.err"
    elif ! grep -qxF "$before" "$W/$n.err"; then
        fail "$n: hv reads the file" "no line '$before'"
        show_log "$W/$n.err"
    elif ! grep -qxF "$after" "$W/$n.err"; then
        fail "$n: hv writes and grows the file" "no line '$after'"
        show_log "$W/$n.err"
    elif ! cmp -s "$f" "$W/$n.expected"; then
        fail "$n: the host file holds hv's writes" "$(cmp "$f" "$W/$n.expected" 2>&1 | head -n 1)"
    else
        pass "$n: hv reads, writes, grows and flushes a host file through the outer ATA disk"
    fi
}

# ro_case NAME HVRUN-ARGS...: a read-only file is read, not written, and
# stays as it was.
ro_case() {
    local n=$1
    shift
    local f=$W/$n.raw
    head -c 100000 /dev/urandom >"$f"
    cp "$f" "$W/$n.orig"
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "$TOP/bin/hvrun" --hv "$HV" --timeout 300 \
        "$@" --outer-disk "$f:ro" --disk-test -kernel "$G"
    if [ "$(cat "$W/$n.st")" = 0 ] &&
        grep -qxF "[hv] disk-test: disk 0: length 100000 fnv1a64 $(fnv "$f")" "$W/$n.err" &&
        ! grep -q 'written, flushed' "$W/$n.err" && cmp -s "$f" "$W/$n.orig"; then
        pass "$n: a file attached read-only is read and left unchanged"
    else
        fail "$n: a file attached read-only" "status $(cat "$W/$n.st")"
        show_log "$W/$n.err"
    fi
}

run_case qemu disk_case qemu-svm
run_case qemu-ro ro_case qemu-svm-ro
bochs_why=$(bochs_missing)
if [ -z "$bochs_why" ]; then
    run_case bochs disk_case bochs-vmx --emulator bochs --vendor vmx
    run_case bochs-ro ro_case bochs-vmx-ro --emulator bochs --vendor vmx
fi
finish_cases
[ -z "$bochs_why" ] || skip "bochs-vmx: disk-test under Bochs" "$bochs_why"

# A killed run leaves the file extended with its trailer: the next run
# cuts it back first (and says so), and the file is as it was.
n=recover
head -c 5000 /dev/urandom >"$W/$n.raw"
cp "$W/$n.raw" "$W/$n.orig"
(
    HVKIT_PROG=test HVRUN_TMP=$W
    . "$TOP/bin/hvrun.d/common.sh"
    . "$TOP/bin/hvrun.d/outerdisk.sh"
    outerdisk_attach "$W/$n.raw" 0
)
grown=$(stat -c %s "$W/$n.raw")
run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "$TOP/bin/hvrun" --hv "$HV" --timeout 120 \
    --outer-disk "$W/$n.raw" -kernel "$G"
if [ "$grown" -gt 5000 ] && [ "$(cat "$W/$n.st")" = 0 ] && grep -q 'cutting it back to 5000 bytes' "$W/$n.err" &&
    cmp -s "$W/$n.raw" "$W/$n.orig"; then
    pass "$n: a file left extended by a killed run is cut back to its length"
else
    fail "$n: a file left extended by a killed run is cut back" "extended to $grown, status $(cat "$W/$n.st")"
    show_log "$W/$n.err"
fi

# An image with a backing file: both are attached, the backing file
# read-only under the name imgtool's library opens it by (relative to the
# image naming it), and only the top image is written.
n=chain
mkdir -p "$W/$n/sub"
qemu-img create -q -f qcow2 "$W/$n/base.qcow2" 1M
qemu-img create -q -f qcow2 -b ../base.qcow2 -F qcow2 "$W/$n/sub/top.qcow2"
cp "$W/$n/base.qcow2" "$W/$n/base.orig"
(cd "$W/$n" && "$TOP/bin/hvrun" --hv "$HV" --timeout 120 --outer-disk sub/top.qcow2 --disk-test \
    -kernel "$G" >"$W/$n.out" 2>"$W/$n.err")
st=$?
if [ "$st" = 0 ] && grep -q "^\[hv\] outer disk 0 at ata0 slave: 'sub/top.qcow2'" "$W/$n.err" &&
    grep -q "^\[hv\] outer disk 1 at ata1 master: 'sub/../base.qcow2', .*, read-only$" "$W/$n.err" &&
    grep -q '^\[hv\] disk-test: disk 0: written' "$W/$n.err" &&
    ! grep -q '^\[hv\] disk-test: disk 1: written' "$W/$n.err" &&
    cmp -s "$W/$n/base.qcow2" "$W/$n/base.orig"; then
    pass "$n: an image's backing file is attached read-only under the name its image gives"
else
    fail "$n: an image's backing file is attached read-only" "status $st"
    show_log "$W/$n.err"
fi

# Refusals, before any emulator starts.
n=refuse
"$TOP/bin/hvrun" --hv "$HV" --outer-disk "$W/none.raw" -kernel "$G" >"$W/$n.out" 2>"$W/$n.err"
st=$?
: >"$W/a" && : >"$W/b" && : >"$W/c" && : >"$W/d"
"$TOP/bin/hvrun" --hv "$HV" --outer-disk "$W/a" --outer-disk "$W/b" --outer-disk "$W/c" \
    --outer-disk "$W/d" -kernel "$G" >"$W/$n.out2" 2>"$W/$n.err2"
st2=$?
if [ "$st" = 125 ] && grep -q "is not a readable file" "$W/$n.err" && [ "$st2" = 125 ] &&
    grep -q "room for 3 files" "$W/$n.err2" && [ ! -s "$W/a" ] && [ ! -s "$W/c" ]; then
    pass "$n: a missing file and a fourth file are refused, the others left as they were"
else
    fail "$n: refusals" "status $st / $st2"
    show_log "$W/$n.err"
    show_log "$W/$n.err2"
fi
