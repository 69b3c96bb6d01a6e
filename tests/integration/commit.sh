#!/usr/bin/env bash
# The monitor's `commit` under hv against QEMU's own.  The same image chain
# (base.qcow2 <- top.qcow2, made by qemu-img, the base's known content
# written by qemu-io) for each machine, the diskwatch guest
# (guestkit/tests/diskwatch.c: writes the sector pattern over sectors that
# straddle the end of the base's data, then reads the whole disk again and
# again and prints a checksum per pass) on plain QEMU (microvm, a
# virtio-blk-device disk, `-monitor stdio`) and under hv (QEMU+SVM, hvkit's
# monitor), the same monitor commands on both (lib/hmp.bash).  Then:
#   - the monitors' outputs are the same text (commit, commit all, an
#     unknown device);
#   - the two bases are the same disk (`qemu-img compare`), and not the
#     base they were (the commit wrote into them);
#   - both tops are empty (`qemu-img map`: nothing at depth 0);
#   - `qemu-img check` is clean on all four images;
#   - the guest read the same checksum in every pass on both machines,
#     before and after the commit, and passes went on after it (its
#     counter, read with `xp`).
# A read-only base (chmod a-w, the machines run without the capability that
# lets root write it anyway): QEMU's `Permission denied` on both, and
# nothing changed: the base's bytes and time, the top's clusters.  With
# -snapshot: the overlay's changes go into the drive's file itself, on both.
# The first case again with hv on Bochs+VMX, and with a raw base.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/hmp.bash"

G=$BUILD/guestkit/diskwatch.elf
HMP_READY='^diskwatch: pass 1 '
MEM=32
CASES=("commit on QEMU and hv (QEMU+SVM)" "commit of a read-only base (QEMU+SVM)"
    "commit with -snapshot (QEMU+SVM)" "commit on QEMU and hv (Bochs+VMX)"
    "commit into a raw base (QEMU+SVM)")

skip_all_if "$(built_missing "$HV" "$G" "$HVMON")" "${CASES[@]}"
command -v qemu-system-x86_64 >/dev/null || skip_all_if "QEMU is not installed (bash mk/deps.sh test)" "${CASES[@]}"
# shellcheck source=../../bin/hvrun.d/drive.sh
. "$TOP/bin/hvrun.d/drive.sh"

# What the guest writes: sectors 1900-2199, across the end of the base's
# data at 1 MiB (sector 2048), so that the commit writes both over the
# base's own clusters and where it had none.
APPEND="from=1900 count=300 spin=16777216"

# chain DIR [FORMAT]: base.FORMAT (qcow2 or raw; 4 MiB, known bytes in its
# first MiB and at 2 MiB) and top.qcow2 over it, as qemu-img and qemu-io
# make them; base0.FORMAT is the base as it was.
chain() {
    local f=${2:-qcow2}
    mkdir -p "$1"
    qemu-img create -q -f "$f" "$1/base.$f" 4M &&
        qemu-io -f "$f" -c "write -P 0x11 0 1M" -c "write -P 0x22 2M 512k" "$1/base.$f" >/dev/null &&
        qemu-img create -q -f qcow2 -b "base.$f" -F "$f" "$1/top.qcow2" &&
        cp -p "$1/base.$f" "$1/base0.$f"
}

# session DIR DISK [DRIVE-OPTS [EMULATOR VENDOR]]: the commands of DIR/cmds
# on plain QEMU and under hv (QEMU+SVM unless said), the guest's disk
# DIR/q/DISK and DIR/h/DISK; transcripts DIR/q.out and DIR/h.out.  QEMU's
# disk is a virtio-blk-device on microvm (named virtio0, as hv's); the
# monitors run in the images' directories.
session() {
    local d=$1 disk=$2 opts=${3:-} emu=${4:-qemu} vendor=${5:-svm}
    # shellcheck disable=SC2054  # the commas belong to QEMU's options
    QEMU_EXTRA=(-M microvm -global virtio-mmio.force-legacy=false
        -drive "file=$disk,format=qcow2,if=none,id=virtio0$opts" -device virtio-blk-device,drive=virtio0
        -append "$APPEND $(hvkit_microvm_virtio_word 0)")
    HV_EXTRA=(-append "$APPEND" -drive "file=$disk,format=qcow2,if=virtio$opts")
    (cd "$d/q" && qemu_session "$d/cmds" "$d/q.out")
    (cd "$d/h" && hv_session "$d/cmds" "$d/h.out" "$emu" "$vendor")
}

# sums CONSOLE: the different checksums the guest printed, one a line.
sums() {
    sed -n 's/^diskwatch: pass [0-9]* sum //p' "$1" | sort -u
}

# same_reads ID DIR: the guest read one checksum in every pass, the same
# on both machines.
same_reads() {
    local q h
    q=$(sums "$2/q.out.console") h=$(sums "$2/h.out.console")
    if [ -z "$q" ] || [ "$(wc -l <<<"$q")" != 1 ] || [ "$q" != "$h" ]; then
        fail "$1" "every pass must read one checksum, QEMU's: QEMU read '${q//$'\n'/ }', hv '${h//$'\n'/ }'"
        show_log "$2/h.out.console"
        show_log "$2/h.out.err"
        return 1
    fi
}

# moved TRANSCRIPT N: the pass counter (xp /1dg) read by command N and by
# command N + 2 (after a commit and a wait) differ by at least two: a whole
# pass ran after the commit.
moved() {
    local a b
    a=$(block "$1" "$2" | sed -n 's/^[0-9a-f]*: //p') b=$(block "$1" $(($2 + 2)) | sed -n 's/^[0-9a-f]*: //p')
    [ -n "$a" ] && [ -n "$b" ] && [ "$b" -ge $((a + 2)) ]
}

# checked FILE...: qemu-img check is clean on every one.
checked() {
    local f
    for f in "$@"; do
        qemu-img check -q "$f" >/dev/null 2>&1 || return 1
    done
}

# empty_top FILE: nothing in the image itself (qemu-img map's depth 0).
empty_top() {
    ! qemu-img map --output=json "$1" | grep -q '"depth": 0'
}

# commit_case ID DIR [EMULATOR VENDOR WAIT FORMAT]: the chain on both
# machines (its base a FORMAT file, qcow2 by default), the commands, the
# images and the guest's reads judged; after the commit, until the guest
# finished three more passes, at most WAIT seconds (30) for it to read on
# (a pass takes a second or two under hv on an idle host, many more on a
# loaded one).
commit_case() {
    local id=$1 d=$W/$2 emu=${3:-qemu} vendor=${4:-svm} wait=${5:-30} f=${6:-qcow2}
    local base=base.$f images=("$d/q/top.qcow2" "$d/h/top.qcow2")
    chain "$d/q" "$f" && chain "$d/h" "$f" ||
        { fail "$id" "qemu-img could not make the images"; return; }
    # qemu-img check has nothing to check in a raw file.
    [ "$f" = raw ] || images+=("$d/q/$base" "$d/h/$base")
    printf '%s\n' 'commit foo' 'xp /1dg COUNTER' 'commit virtio0' "until 3 $wait ^diskwatch: pass" 'xp /1dg COUNTER' \
        'commit all' >"$d/cmds"
    local mode
    mode=$(stat -c %a "$d/h/$base")
    session "$d" top.qcow2 "" "$emu" "$vendor"
    if ! grep -q '^diskwatch: pass' "$d/q.out.console"; then
        fail "$id" "QEMU's session did not run"
        show_log "$d/q.out.console"
        return
    fi
    # Commands 1, 3 and 5: commit foo, commit virtio0, commit all.
    local n
    for n in 1 3 5; do
        if [ "$(block "$d/q.out" $n)" = "$(block "$d/h.out" $n)" ]; then
            pass "$id: same output as QEMU: $(grep -Ev '^(sleep|until) ' "$d/cmds" | sed -n "${n}p")"
        else
            fail "$id: same output as QEMU: $(grep -Ev '^(sleep|until) ' "$d/cmds" | sed -n "${n}p")" "outputs differ"
            diff <(block "$d/q.out" $n) <(block "$d/h.out" $n) | sed 's/^/    /' | head
        fi
    done
    same_reads "$id: the guest reads the same disk throughout" "$d" &&
        pass "$id: the guest reads the same disk throughout"
    if ! moved "$d/h.out" 2 || ! moved "$d/q.out" 2; then
        fail "$id: the guest read on after the commit" "want two passes or more between the reads of its counter"
        show_log "$d/h.out"
    else
        pass "$id: the guest read on after the commit"
    fi
    if ! qemu-img compare -q "$d/q/$base" "$d/h/$base"; then
        fail "$id: the base as QEMU's" "qemu-img compare: the bases differ"
    elif qemu-img compare -q "$d/h/base0.$f" "$d/h/$base" >/dev/null 2>&1; then
        fail "$id: the base as QEMU's" "the base is what it was: nothing was committed"
    elif [ "$(stat -c %a "$d/h/$base")" != "$mode" ]; then
        fail "$id: the base as QEMU's" "its mode changed from $mode"
    else
        pass "$id: the base as QEMU's (qemu-img compare)"
    fi
    if empty_top "$d/q/top.qcow2" && empty_top "$d/h/top.qcow2"; then
        pass "$id: the top is empty on both (qemu-img map)"
    else
        fail "$id: the top is empty on both" "qemu-img map shows data in a top image"
        qemu-img map "$d/h/top.qcow2" | sed 's/^/    /'
    fi
    if checked "${images[@]}"; then
        pass "$id: qemu-img check is clean on the images"
    else
        fail "$id: qemu-img check" "an image has errors"
    fi
}

# Root writes a file whatever its mode; without CAP_DAC_OVERRIDE (and the
# others that pass over a file's mode) it cannot, as any user cannot.
# shellcheck disable=SC2054  # the commas belong to setpriv's list
NO_OVERRIDE=(setpriv --bounding-set=-dac_override,-dac_read_search,-fowner --)

readonly_case() {
    local id=${CASES[1]} d=$W/ro
    if ! "${NO_OVERRIDE[@]}" true 2>/dev/null; then
        skip "$id" "setpriv cannot drop CAP_DAC_OVERRIDE here"
        return
    fi
    chain "$d/q" && chain "$d/h" || { fail "$id" "qemu-img could not make the images"; return; }
    chmod a-w "$d"/[qh]/base.qcow2
    printf '%s\n' 'sleep 2' 'commit virtio0' 'commit all' >"$d/cmds"
    local before
    before=$(stat -c '%Y %s' "$d/h/base.qcow2")
    HMP_WRAP=("${NO_OVERRIDE[@]}")
    session "$d" top.qcow2
    HMP_WRAP=()
    if ! grep -q "Permission denied" "$d/q.out"; then
        fail "$id" "QEMU's session did not refuse"
        show_log "$d/q.out"
        return
    fi
    compare_same "$d/q.out" "$d/h.out" "$d/cmds" 2 "read-only base: same output as QEMU"
    if ! cmp -s "$d/h/base.qcow2" "$d/h/base0.qcow2" ||
        [ "$before" != "$(stat -c '%Y %s' "$d/h/base.qcow2")" ]; then
        fail "$id: nothing changed" "the base's bytes or time changed"
    elif empty_top "$d/h/top.qcow2" || ! qemu-img compare -q "$d/q/top.qcow2" "$d/h/top.qcow2"; then
        fail "$id: nothing changed" "the top must keep the guest's writes, as QEMU's does"
    else
        pass "$id: nothing changed (the base's bytes and time, the top's clusters)"
    fi
    chmod u+w "$d"/[qh]/base.qcow2
}

# -snapshot: QEMU's commit writes the temporary overlay's changes into the
# drive's file; hv's overlay (bin/hvrun) is committed the same way.
snapshot_case() {
    local id=${CASES[2]} d=$W/snap
    mkdir -p "$d/q" "$d/h"
    for m in q h; do
        qemu-img create -q -f qcow2 "$d/$m/disk.qcow2" 4M &&
            qemu-io -c "write -P 0x33 0 1M" "$d/$m/disk.qcow2" >/dev/null &&
            cp "$d/$m/disk.qcow2" "$d/$m/disk0.qcow2" ||
            { fail "$id" "qemu-img could not make the images"; return; }
    done
    printf '%s\n' 'sleep 2' 'commit virtio0' 'sleep 3' >"$d/cmds"
    session "$d" disk.qcow2 ",snapshot=on"
    compare_same "$d/q.out" "$d/h.out" "$d/cmds" 1 "-snapshot: same output as QEMU"
    if ! qemu-img compare -q "$d/q/disk.qcow2" "$d/h/disk.qcow2"; then
        fail "$id: the file as QEMU's" "qemu-img compare: the files differ"
    elif qemu-img compare -q "$d/h/disk0.qcow2" "$d/h/disk.qcow2" >/dev/null 2>&1; then
        fail "$id: the file as QEMU's" "the file is what it was: nothing was committed"
    elif ! checked "$d"/[qh]/disk.qcow2; then
        fail "$id: the file as QEMU's" "qemu-img check finds errors"
    else
        pass "$id: the file as QEMU's (qemu-img compare, check)"
    fi
    same_reads "$id: the guest reads the same disk throughout" "$d" &&
        pass "$id: the guest reads the same disk throughout"
}

run_case commit commit_case "${CASES[0]}" commit
run_case ro readonly_case
run_case snap snapshot_case
run_case raw commit_case "${CASES[4]}" raw qemu svm 30 raw
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip "${CASES[3]}" "$why"
else
    run_case bochs commit_case "${CASES[3]}" bochs bochs vmx 60
fi
finish_cases
