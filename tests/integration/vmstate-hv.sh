#!/usr/bin/env bash
# savevm, loadvm and delvm in hv (hv/core/vmsave.c, docs/vmstate.md), on
# QEMU+SVM, with the counter guest (a line "count N" every 20 ms) and a
# qcow2 virtio disk, driven by hvrun's --savevm/--loadvm/--delvm NAME@MS:
#   - one run: savevm s1 after 1 s, loadvm s1 after 2.5 s.  The first count
#     the guest prints after the loadvm is the one it printed first after
#     the savevm, the counts go on one by one from there, and the guest
#     ends normally; real `qemu-img snapshot -l` lists s1 with a VM SIZE
#     above 0 and today's date, `qemu-img check` finds the image clean;
#   - a second run boots the guest afresh and loads s1 at once: it counts
#     on from the saved value, from the file alone;
#   - loadvm of a snapshot that does not exist, and savevm without a qcow2
#     disk, are refused with QEMU 7.2's words and the guest counts on
#     untouched;
#   - on Bochs+VMX (when Bochs is here), a new run loads the snapshot
#     QEMU+SVM took and counts on from its value, and a snapshot taken
#     under VT-x loads under SVM: the state is vendor-neutral;
#   - delvm removes s1; qemu-img no longer lists it, the image is clean;
#   - save to a file (hvrun --save-file) twice: the second save writes
#     less than half of what the first did (only the pages the dirty log
#     saw written, and the small sections); a new run restores from the
#     file and counts on from the second save's value;
#   - over the control protocol (hvrun --control, bin/hvctl): x-savevm,
#     query-snapshots (QMP's SnapshotInfo), x-loadvm (the guest counts on
#     from the saved value), refusals in QEMU's words, x-delvm;
#   - a save file with one byte changed, and one cut short, are refused
#     with the section named, and the guest counts on as if nothing was
#     asked;
#   - the ACPI PM registers are in the state: the powerbtn guest enables
#     its power button and is saved while it waits; a new run of the
#     counter guest (which never touches ACPI) loads that snapshot, and
#     the power button pressed after the load reaches the restored guest,
#     which powers off -- without the restored PM1a registers the press
#     would raise no SCI and the run would end at its time limit;
#   - XCR0 and the upper halves of the YMM registers are in the state: the
#     avxkeep guest (AVX enabled, a pattern in YMM15) is saved while it
#     counts and loaded into a counter guest's boot, where XCR0 is x87
#     only and YMM15 zero: it counts on with its pattern whole (without
#     the restored XCR0 its next AVX instruction would be #UD);
#   - the paravirtual interface's state is in it (sections pv and
#     pv-balloon): the pvkeep guest, which counts through the PV console
#     and writes and reads its counts through the PV block ring, with the
#     PV clock, a loopback event channel and 16 pages given back, is saved
#     and loaded in one run (its counts go on from the saved one, each
#     check of the guest's passes: the sector it wrote before the save
#     reads back, the clock never goes back, the loopback interrupt
#     arrives, the balloon's pages can be taken back), and its snapshot
#     is loaded into a counter guest's boot, which never used the
#     interface, where all of it must come from the state (and the PV
#     clock from a younger hv's clock must not go back); its save file
#     is refused by a counter guest whose disk has another size, naming
#     the PV block ring, and that guest counts on untouched;
#   - the CD-ROM drive's state is in it (section cdrom): the cdkeep guest
#     locks its disc in and reads it all the time (a save falls in the
#     middle of a READ), and its snapshot loaded into a counter guest's
#     boot with the same disc reads on with every checksum right and the
#     drive still locked; loaded where the drive holds another disc, it
#     is refused naming the media, and the counter counts on untouched.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/counter.elf
PV=$BUILD/guestkit/pvkeep.elf
CASES=("savevm then loadvm in one run" "loadvm from the file in a new run"
    "loadvm of a missing snapshot, savevm without a disk" "Bochs+VMX loads the SVM snapshot"
    "a VMX snapshot loads under SVM" "delvm" "a second save to a file writes little"
    "restore from the file in a new run" "a corrupted save file is refused"
    "a cut save file is refused" "a PV guest counts on after savevm and loadvm"
    "over the control protocol" "the ACPI power button survives a loadvm"
    "XCR0 and the YMM registers survive a loadvm"
    "a PV guest's snapshot loads into a guest that never used the interface"
    "a PV guest's save file is refused where its PV disk differs"
    "a guest reading its CD survives a loadvm" "a CD snapshot is refused with another disc")
PB=$BUILD/guestkit/powerbtn.elf
CDK=$BUILD/guestkit/cdkeep.elf
AVX=$BUILD/guestkit/avxkeep.elf
skip_all_if "$(built_missing "$HV" "$G" "$PV" "$PB" "$AVX" "$CDK")" "${CASES[@]}"
command -v qemu-img >/dev/null || skip_all_if "qemu-img is not installed (qemu-utils)" "${CASES[@]}"

D=$W/disk.qcow2
qemu-img create -q -f qcow2 "$D" 16M

# hvrun_counter OUT LIMIT HVRUN-ARGS...: the counter guest on the disk, hv's
# lines and the guest's in one file, in the order they were printed.
hvrun_counter() {
    local out=$1 limit=$2
    shift 2
    "$TOP/bin/hvrun" --hv "$HV" --timeout 400 -kernel "$G" -append "$limit" \
        -drive "file=$D,format=qcow2" "$@" >"$out" 2>&1 </dev/null
    echo $? >"$out.st"
}

# first_count_after OUT PATTERN: the first "count N" line after the line
# matching PATTERN.
first_count_after() {
    awk -v p="$2" 'f && /^count [0-9]+$/ { print $2; exit } $0 ~ p { f = 1 }' "$1"
}

# counts_run_on OUT FROM: the count lines after the last hv snapshot line
# go FROM, FROM+1, ... without a gap up to the guest's limit.
counts_run_on() {
    awk -v from="$2" -v limit="$3" '
        /^\[hv\] (savevm|loadvm|restore from)/ { n = from; bad = 0; seen = 0; next }
        /^count [0-9]+$/ && n { if ($2 != n) bad = 1; n++; seen = 1 }
        END { exit !(seen && !bad && n == limit + 1) }' "$1"
}

# 1. savevm at 1 s, loadvm at 2.5 s, 200 counts (4 s).
O=$W/one.out
hvrun_counter "$O" 200 --savevm s1@1000 --loadvm s1@2500
saved=$(first_count_after "$O" "^\\[hv\\] savevm 's1': [0-9]+ bytes")
loaded=$(first_count_after "$O" "^\\[hv\\] loadvm 's1': [0-9]+ bytes")
c="${CASES[0]}"
if [ "$(cat "$O.st")" != 0 ]; then
    fail "$c" "hvrun status $(cat "$O.st")"
    show_log "$O" 30
elif [ -z "$saved" ] || [ "$saved" != "$loaded" ]; then
    fail "$c" "first count after savevm '$saved', after loadvm '$loaded'"
    show_log "$O" 30
elif ! counts_run_on "$O" "$loaded" 200; then
    fail "$c" "the counts after loadvm do not go on one by one from $loaded to 200"
    show_log "$O" 30
elif ! qemu-img snapshot -l "$D" >"$W/list" ||
    ! grep -qE "^1 +s1 +[1-9][0-9.]* [KM]iB $(date -u +%Y-%m-%d) " "$W/list"; then
    fail "$c" "qemu-img snapshot -l does not list s1 with a VM size and today's date"
    show_log "$W/list"
elif ! qemu-img check -q "$D"; then
    fail "$c" "qemu-img check finds the image damaged"
else
    pass "$c"
    grep -E "^\[hv\] (savevm|loadvm) 's1'" "$O" | sed 's/^/    /'
    sed 's/^/    /' "$W/list"
fi

# 2. A new run: the guest starts over and s1 is loaded at once.
O=$W/two.out
hvrun_counter "$O" 200 --loadvm s1@0
again=$(first_count_after "$O" "^\\[hv\\] loadvm 's1': [0-9]+ bytes")
c="${CASES[1]}"
if [ "$(cat "$O.st")" != 0 ] || [ -z "$again" ] || [ "$again" != "$saved" ]; then
    fail "$c" "status $(cat "$O.st"), first count after loadvm '$again', saved '$saved'"
    show_log "$O" 30
elif ! counts_run_on "$O" "$again" 200 || ! qemu-img check -q "$D"; then
    fail "$c" "the counts do not go on from $again, or qemu-img check fails"
    show_log "$O" 30
else
    pass "$c"
fi

# 3. A snapshot that does not exist: refused, the guest untouched.
O=$W/three.out
hvrun_counter "$O" 40 --loadvm nope@100
c="${CASES[2]}"
if [ "$(cat "$O.st")" != 0 ] ||
    ! grep -qxF "[hv] loadvm 'nope': Snapshot 'nope' does not exist in one or more devices" "$O" ||
    [ "$(grep -c '^count' "$O")" != 40 ]; then
    fail "$c" "status $(cat "$O.st"), no refusal or not 40 counts"
    show_log "$O" 30
else
    O=$W/nodisk.out
    "$TOP/bin/hvrun" --hv "$HV" --timeout 400 -kernel "$G" -append 40 --savevm s1@100 \
        >"$O" 2>&1 </dev/null
    if [ $? != 0 ] || [ "$(grep -c '^count' "$O")" != 40 ] ||
        ! grep -qxF "[hv] savevm 's1': no block device can store vmstate for snapshot" "$O"; then
        fail "$c" "savevm without a disk: no refusal in QEMU's words, or not 40 counts"
        show_log "$O" 30
    else
        pass "$c"
    fi
fi

# 4. Across vendors, when Bochs can run hv with VT-x.
bochs_why=$(bochs_missing)
if [ -n "$bochs_why" ]; then
    skip "${CASES[3]}" "$bochs_why"
    skip "${CASES[4]}" "$bochs_why"
else
    O=$W/vmx-load.out
    hvrun_counter "$O" 200 --emulator bochs --vendor vmx --loadvm s1@0
    first=$(first_count_after "$O" "^\\[hv\\] loadvm 's1': [0-9]+ bytes")
    c="${CASES[3]}"
    if [ "$(cat "$O.st")" != 0 ] || [ "$first" != "$saved" ] || ! counts_run_on "$O" "$first" 200; then
        fail "$c" "status $(cat "$O.st"), first count after loadvm '$first', saved '$saved'"
        show_log "$O" 30
    else
        pass "$c"
    fi
    O=$W/vmx-save.out
    hvrun_counter "$O" 60 --emulator bochs --vendor vmx --savevm s2@500
    vmx_saved=$(first_count_after "$O" "^\\[hv\\] savevm 's2': [0-9]+ bytes")
    hvrun_counter "$O.svm" 60 --loadvm s2@0
    first=$(first_count_after "$O.svm" "^\\[hv\\] loadvm 's2': [0-9]+ bytes")
    c="${CASES[4]}"
    if [ "$(cat "$O.st")" != 0 ] || [ "$(cat "$O.svm.st")" != 0 ] || [ -z "$vmx_saved" ] ||
        [ "$first" != "$vmx_saved" ] || ! counts_run_on "$O.svm" "$first" 60; then
        fail "$c" "status $(cat "$O.st")/$(cat "$O.svm.st"), saved '$vmx_saved', loaded '$first'"
        show_log "$O" 20
        show_log "$O.svm" 20
    else
        pass "$c"
    fi
fi

# 5. delvm: gone for qemu-img too, no clusters leaked.
O=$W/four.out
hvrun_counter "$O" 10 --delvm s1@0
c="${CASES[5]}"
if [ "$(cat "$O.st")" != 0 ] || ! grep -qxF "[hv] delvm 's1': done" "$O"; then
    fail "$c" "status $(cat "$O.st"), no 'delvm done' line"
    show_log "$O" 30
elif qemu-img snapshot -l "$D" | grep -q ' s1 '; then
    fail "$c" "qemu-img still lists s1"
elif ! qemu-img check -q "$D"; then
    fail "$c" "qemu-img check finds the image damaged"
else
    pass "$c"
fi

# 6. Save to a file twice, 1 s apart: the second save is incremental.
F=$W/counter.save
O=$W/save.out
hvrun_counter "$O" 150 --save-file "$F@1000" --save-file "$F@2000"
first=$(sed -n 's/^\[hv\] save to outer disk [0-9]*: \([0-9]*\) bytes of state, \([0-9]*\) written (full).*/\2/p' "$O")
second=$(sed -n 's/^\[hv\] save to outer disk [0-9]*: [0-9]* bytes of state, \([0-9]*\) written (incremental).*/\1/p' "$O")
file_saved=$(first_count_after "$O" "^\\[hv\\] save to outer disk [0-9]+: [0-9]+ bytes of state, [0-9]+ written \\(incremental")
c="${CASES[6]}"
if [ "$(cat "$O.st")" != 0 ] || [ -z "$first" ] || [ -z "$second" ] || [ "$second" -ge $((first / 2)) ]; then
    fail "$c" "status $(cat "$O.st"), first save wrote '$first' bytes, the second '$second'"
    show_log "$O" 30
else
    pass "$c"
    grep -E "^\[hv\] save to" "$O" | sed 's/^/    /'
fi

# 7. A new run restores the file at once.
O=$W/restore.out
hvrun_counter "$O" 20 --restore-file "$F@0"
first=$(first_count_after "$O" "^\\[hv\\] restore from outer disk [0-9]+: [0-9]+ bytes")
c="${CASES[7]}"
if [ "$(cat "$O.st")" != 0 ] || [ -z "$first" ] || [ "$first" != "$file_saved" ] ||
    ! counts_run_on "$O" "$first" 150; then
    fail "$c" "status $(cat "$O.st"), first count after restore '$first', saved '$file_saved'"
    show_log "$O" 30
else
    pass "$c"
fi

# 8, 9. A changed byte in guest RAM's section, and a cut file: refused,
# the guest's own 20 counts untouched.
refused_case() {
    local c=$1 file=$2 want=$3
    local O=$W/refused-$(basename "$file").out
    hvrun_counter "$O" 20 --restore-file "$file@100"
    if [ "$(cat "$O.st")" != 0 ] || ! grep -qE "^\[hv\] restore from outer disk [0-9]+: vmstate: .*$want" "$O" ||
        ! counts_run_on_from_start "$O" 20; then
        fail "$c" "status $(cat "$O.st"), no refusal naming '$want', or the guest's counts changed"
        show_log "$O" 30
    else
        pass "$c"
        grep -E "^\[hv\] restore" "$O" | sed 's/^/    /'
    fi
}
# counts_run_on_from_start OUT LIMIT: count 1 .. LIMIT, nothing else.
counts_run_on_from_start() {
    [ "$(grep -E '^count [0-9]+$' "$1" | awk '{ print $2 }' | tr '\n' ' ')" = "$(seq -s ' ' 1 "$2") " ]
}
cp "$F" "$W/corrupt.save"
size=$(stat -c %s "$F")
printf '\x55' | dd of="$W/corrupt.save" bs=1 seek=$((size - 5000)) conv=notrunc status=none
refused_case "${CASES[8]}" "$W/corrupt.save" "section 'ram' \\(instance 0\\): checksum mismatch"
head -c $((size / 2)) "$F" >"$W/cut.save"
refused_case "${CASES[9]}" "$W/cut.save" "truncated"

# 10. A guest that uses the paravirtual interface: saved at 1 s, loaded at
# 2.5 s, it counts on (through the PV console) from the saved count, and
# every check it makes after each count passes.
O=$W/pv.out
PV_OK='SUMMARY: 3 tests, 0 unexpected failures, 0 skipped'
"$TOP/bin/hvrun" --hv "$HV" --timeout 400 -kernel "$PV" -append 200 \
    -drive "file=$D,format=qcow2" --savevm pv@1000 --loadvm pv@2500 >"$O" 2>&1 </dev/null
echo $? >"$O.st"
pv_saved=$(first_count_after "$O" "^\\[hv\\] savevm 'pv': [0-9]+ bytes")
pv_loaded=$(first_count_after "$O" "^\\[hv\\] loadvm 'pv': [0-9]+ bytes")
c="${CASES[10]}"
if [ "$(cat "$O.st")" != 0 ] || ! grep -qxF "$PV_OK" "$O" || grep -q '^pvkeep: FAIL' "$O"; then
    fail "$c" "status $(cat "$O.st"), or a check of the guest failed"
    show_log "$O" 30
elif [ -z "$pv_saved" ] || [ "$pv_saved" != "$pv_loaded" ] || ! counts_run_on "$O" "$pv_loaded" 200; then
    fail "$c" "first count after savevm '$pv_saved', after loadvm '$pv_loaded', or a gap after it"
    show_log "$O" 30
else
    pass "$c"
    grep -E "^\[hv\] (savevm|loadvm) 'pv'" "$O" | sed 's/^/    /'
fi

# 11. The same through the control protocol, as a front-end sends it.
O=$W/ctl.out
S=$W/ctl.sock
C=$W/ctl.qcow2
qemu-img create -q -f qcow2 "$C" 16M
c="${CASES[11]}"
"$TOP/bin/hvrun" --hv "$HV" --timeout 400 --control "$S" -kernel "$G" -append 100000 \
    -drive "file=$C,format=qcow2" >"$O" 2>&1 </dev/null &
run=$!
for _ in $(seq 600); do
    grep -q '^count 20$' "$O" && break
    kill -0 "$run" 2>/dev/null || break
    sleep 0.2
done
H=("$BUILD/mgmt/hvctl" -s "$S" --timeout 120)
{
    "${H[@]}" x-savevm name=s1
    sleep 1
    "${H[@]}" query-snapshots
    "${H[@]}" x-loadvm name=s1
    sleep 0.5
    "${H[@]}" x-loadvm name=nope
    "${H[@]}" x-delvm name=s1
    "${H[@]}" query-snapshots
    "${H[@]}" quit
} >"$W/ctl.replies" 2>&1
wait "$run"
ctl_saved=$(first_count_after "$O" "^\\[hv\\] savevm 's1': [0-9]+ bytes")
ctl_loaded=$(first_count_after "$O" "^\\[hv\\] loadvm 's1': [0-9]+ bytes")
mapfile -t R <"$W/ctl.replies"
if [ "${R[0]:-}" != '{"return": {}}' ] || [ "${R[2]:-}" != '{"return": {}}' ] ||
    [[ ${R[1]:-} != '{"return": [{"id": "1", "name": "s1", "vm-state-size": '[1-9]*', "date-sec": '* ]] ||
    [ "${R[3]:-}" != '{"error": {"class": "GenericError", "desc": "Snapshot '"'nope'"' does not exist in one or more devices"}}' ] ||
    [ "${R[4]:-}" != '{"return": {}}' ] || [ "${R[5]:-}" != '{"return": []}' ]; then
    fail "$c" "unexpected replies"
    show_log "$W/ctl.replies"
elif [ -z "$ctl_saved" ] || [ "$ctl_saved" != "$ctl_loaded" ] || ! qemu-img check -q "$C"; then
    fail "$c" "first count after savevm '$ctl_saved', after loadvm '$ctl_loaded', or the image is damaged"
    show_log "$O" 30
else
    pass "$c"
fi

# carried ID NAME GUEST ARGS SEEN SAVE_MS LOAD_MS CHECK [HVRUN-ARGS...]:
# GUEST (with ARGS) on a disk of its own, snapshot NAME taken at SAVE_MS
# while it runs; a new run boots the counter guest, which never touches
# what the case is about, and loads NAME at LOAD_MS (HVRUN-ARGS go to both
# runs).  The loaded guest must end with status 0 having printed the line
# SEEN.  CHECK is a line the first run prints when the machine lacks what
# the case needs: the case is then skipped.
carried() {
    local c=$1 name=$2 guest=$3 args=$4 seen=$5 save=$6 load=$7 lack=$8 disk=$W/$2.qcow2 O
    shift 8
    qemu-img create -q -f qcow2 "$disk" 16M
    O=$W/$name-save.out
    "$TOP/bin/hvrun" --hv "$HV" --timeout 120 -kernel "$guest" -append "$args" \
        -drive "file=$disk,format=qcow2" --savevm "$name@$save" "$@" >"$O" 2>&1 </dev/null
    echo $? >"$O.st"
    if grep -qx "$lack" "$O"; then
        skip "$c" "the outer machine lacks it: $lack"
        return
    elif [ "$(cat "$O.st")" != 0 ] || ! grep -qE "^\[hv\] savevm '$name': [0-9]+ bytes" "$O"; then
        fail "$c" "$(basename "$guest") was not saved while it ran, or did not end well (status $(cat "$O.st"))"
        show_log "$O" 30
        return
    fi
    O=$W/$name-load.out
    "$TOP/bin/hvrun" --hv "$HV" --timeout 120 -kernel "$G" -append 100000 \
        -drive "file=$disk,format=qcow2" --loadvm "$name@$load" "$@" >"$O" 2>&1 </dev/null
    echo $? >"$O.st"
    if [ "$(cat "$O.st")" != 0 ] || ! grep -qE "^\[hv\] loadvm '$name': [0-9]+ bytes" "$O" ||
        ! grep -qx "$seen" "$O"; then
        fail "$c" "after the load: status $(cat "$O.st"), no line '$seen'"
        show_log "$O" 30
    else
        pass "$c"
    fi
}

# 12. The ACPI PM registers travel with the state: the button pressed
# after the load reaches the powerbtn guest, which enabled it before the
# save.
carried "${CASES[12]}" pb "$PB" "" 'powerbtn: the power button was pressed: powering off' 1500 500 \
    'powerbtn: no ACPI power button (no FADT, or ACPI mode refused)' --powerdown-after 2500

# 13. XCR0 and the YMM registers' upper halves travel with the state:
# avxkeep counts on to its end with YMM15 whole (it exits 1 when it is not).
carried "${CASES[13]}" ax "$AVX" "" 'avx 100 kept' 1000 300 'avxkeep: no XSAVE or AVX on this CPU'

# 14. The PV guest's snapshot into a counter guest's boot: nothing of the
# interface was set up there, so the bindings, the rings, the grants, the
# balloon's bitmap and the clock all come from the state; the guest's own
# checks say whether they did.
carried "${CASES[14]}" pk "$PV" 150 "$PV_OK" 1000 300 'pvkeep: never printed'

# 15. A save file of the PV guest, restored where its PV block ring's disk
# has another size (8 MiB, not 16): refused by the 'pv' section, and the
# counter guest there counts 1 to 20 as if nothing was asked.
c="${CASES[15]}"
O=$W/pvsave.out
"$TOP/bin/hvrun" --hv "$HV" --timeout 400 -kernel "$PV" -append 100 \
    -drive "file=$D,format=qcow2" --save-file "$W/pv.save@1000" >"$O" 2>&1 </dev/null
echo $? >"$O.st"
E=$W/small.qcow2
qemu-img create -q -f qcow2 "$E" 8M
R=$W/pvrefused.out
"$TOP/bin/hvrun" --hv "$HV" --timeout 400 -kernel "$G" -append 20 \
    -drive "file=$E,format=qcow2" --restore-file "$W/pv.save@100" >"$R" 2>&1 </dev/null
echo $? >"$R.st"
want="vmstate: section 'pv' (instance 0): the guest's PV block ring is on a writable disk 0 of 32768 sectors; this domain's disk 0 is writable with 16384"
if [ "$(cat "$O.st")" != 0 ] || ! grep -qE '^\[hv\] save to outer disk [0-9]+: [0-9]+ bytes' "$O"; then
    fail "$c" "the PV guest was not saved to a file (status $(cat "$O.st"))"
    show_log "$O" 30
elif [ "$(cat "$R.st")" != 0 ] || ! grep -E '^\[hv\] restore from outer disk [0-9]+: ' "$R" | grep -qF ": $want" ||
    ! counts_run_on_from_start "$R" 20; then
    fail "$c" "status $(cat "$R.st"), no refusal naming the PV block ring, or the guest's counts changed"
    show_log "$R" 30
else
    pass "$c"
    grep -E "^\[hv\] restore from" "$R" | sed 's/^/    /'
fi

# 16, 17. The CD-ROM drive: two discs of different sizes; cdkeep saved
# while it reads disc A, loaded into a counter guest's boot with disc A
# (it reads on, every checksum right, and its lock still holds), then with
# disc B (refused: the drive holds another medium).
c="${CASES[16]}"
if ! command -v xorriso >/dev/null; then
    skip "$c" "xorriso is not installed (mk/deps.sh test)"
    skip "${CASES[17]}" "xorriso is not installed (mk/deps.sh test)"
else
    mkdir -p "$W/cda" "$W/cdb"
    printf 'Disc A.\n' >"$W/cda/README.TXT"
    head -c 300000 /dev/zero | tr '\0' 'B' >"$W/cdb/FILL.BIN"
    xorriso -as mkisofs -quiet -V DISC_A -o "$W/a.iso" "$W/cda" 2>/dev/null
    xorriso -as mkisofs -quiet -V DISC_B -o "$W/b.iso" "$W/cdb" 2>/dev/null
    carried "$c" cd "$CDK" 60 'SUMMARY: 3 tests, 0 unexpected failures, 0 skipped' 1000 300 \
        'cdkeep: never printed' -cdrom "$W/a.iso"
    c="${CASES[17]}"
    O=$W/cd-other.out
    "$TOP/bin/hvrun" --hv "$HV" --timeout 400 -kernel "$G" -append 20 -cdrom "$W/b.iso" \
        -drive "file=$W/cd.qcow2,format=qcow2" --loadvm "cd@100" >"$O" 2>&1 </dev/null
    echo $? >"$O.st"
    want="\[hv\] loadvm 'cd': vmstate: section 'cdrom' \(instance 0\): the state's CD-ROM drive held a medium of [0-9]+ sectors, this one holds a medium of [0-9]+ sectors: put the same medium in first"
    if [ "$(cat "$O.st")" != 0 ] || ! grep -qE "^$want\$" "$O" || ! counts_run_on_from_start "$O" 20; then
        fail "$c" "status $(cat "$O.st"), no refusal naming the media, or the guest's counts changed"
        show_log "$O" 30
    else
        pass "$c"
        grep -E "^\[hv\] loadvm" "$O" | sed 's/^/    /'
    fi
fi
