#!/usr/bin/env bash
# The CD-ROM drive (hv/dev/ide_cd.h, atapi.c) against QEMU's: the cdrom
# guest (guestkit/tests/cdrom.c) reads two ISO 9660 images made here with
# xorriso -- the capacity, the primary volume descriptor, README.TXT -- and
# the drive's sense data for a read past the end and an unknown command.
#   - read:   plain QEMU -cdrom a.iso, and bin/hvrun -cdrom a.iso on
#             QEMU+SVM and Bochs+VMX: the same lines, exit 0, with every
#             byte of the drive's answers to READ TOC, READ DISC
#             INFORMATION, MODE SENSE and GET CONFIGURATION (one difference
#             allowed, said below);
#   - empty:  a drive without a medium (-drive if=ide,media=cdrom): the same
#             NOT READY / MEDIUM NOT PRESENT on both, exit 1;
#   - change: the guest locks the medium in; plain QEMU with its monitor
#             and hv with hvkit's (build/mgmt/hvmon on bin/hvrun --control)
#             get the same commands once the guest says "ready for eject"
#             (info block, eject of an unknown device, a plain eject the
#             lock refuses, eject -f, ...) and once it says "ready for
#             change" (change to a missing file, to a wrong format, of an
#             unknown device, info block, to b.iso): the guest's lines must
#             be the same on both (no medium, then the unit attention, then
#             disc B), and so must the monitors' answers (QEMU's "Attached
#             to" and "Cache mode" lines, which hvkit's info block leaves
#             out, and the #blockN numbers aside); the guest's lines also
#             on Bochs+VMX;
#   - qmp:    the protocol itself (bin/hvctl): query-block's drive with its
#             tray and medium, eject and blockdev-change-medium (in hv's
#             form, naming an --outer-disk file), and the
#             manager's refusals (a relative path, a medium larger than a
#             slot of the staging disk's media region);
#   - xl:     a domain made from an xl.cfg with a CD ('FILE,,hdc,cdrom'),
#             then `xl cd-eject` and `xl cd-insert` (and their refusals);
#             xl-save: with the drive empty, and again with disc B put in
#             while the guest is paused, `xl save` and `xl restore FILE`
#             (the configuration the file holds must have the drive as it
#             was), `xl list -l` naming disc B, the restored guest reading
#             it;
#   - virsh:  a domain defined with <disk type='file' device='cdrom'> and
#             started, then `virsh change-media --eject` and `--update`
#             (and virsh's messages for what it refuses); both must bring
#             the guest the same lines as QEMU's eject and change, and
#             `dumpxml` and `domblklist` the drive's medium after each
#             (`dumpxml --inactive` the definition's, as libvirt keeps the
#             live XML apart);
#             virsh-save: disc B put in while the guest is paused, `virsh
#             save` and `virsh restore FILE`, the image's domain XML naming
#             disc B, the restored guest reading it;
#   - errors: hvrun's messages for a missing or empty medium, two drives,
#             a CD-ROM that is not on IDE.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/cdrom.elf
TIMEOUT=${GUEST_TIMEOUT:-240}
CASES=(cdrom-iso cdrom-qemu-read cdrom-svm-read cdrom-bochs-vmx-read cdrom-empty cdrom-qemu-change
    cdrom-svm-change cdrom-monitor cdrom-bochs-vmx-change cdrom-qmp cdrom-xl cdrom-xl-save
    cdrom-virsh cdrom-virsh-save cdrom-hvrun-errors)
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
# With `describe` the guest also prints the whole answer to each command a
# CD driver asks before it mounts a disc (READ TOC, READ DISC INFORMATION,
# MODE SENSE, GET CONFIGURATION, and some each drive refuses); with `lock`
# the capabilities page once more after it locked the medium in.  hv's
# answers are QEMU's byte for byte but one: QEMU's session information
# (READ TOC format 1) leaves the track descriptor's CONTROL and track number
# 0, where hv gives the first track's own, 14h and 1, as MMC-3 asks
# (hv/dev/atapi_disc.c: read_toc_session()).  q.expect is QEMU's lines
# with that one difference put in.
run_logged "$W/q.out" "$W/q.err" "$W/q.st" "$TOP/bin/qemu-guest" --timeout "$TIMEOUT" -kernel "$G" \
    -cdrom "$W/a.iso" -append "describe lock"
session='cdrom: READ TOC (session) +00: 00 0a 01 01 00'
sed "s/^$session 00 00 /$session 14 01 /" "$W/q.out" >"$W/q.expect"
if [ "$(cat "$W/q.st")" = 0 ] && grep -qx 'cdrom: volume DISC_A, [0-9]* sectors' "$W/q.out" &&
    grep -qx 'cdrom: README.TXT: It has two lines.' "$W/q.out" &&
    grep -qx 'cdrom: READ TOC: 20 bytes' "$W/q.out" &&
    grep -qx "$session 14 01 00 00 00 00 00" "$W/q.expect"; then
    pass cdrom-qemu-read
else
    fail cdrom-qemu-read "status $(cat "$W/q.st") (want 0), disc A's volume, README.TXT, its TOC and session"
    show_log "$W/q.out"
    show_log "$W/q.err"
fi

# hv_read ID EMULATOR VENDOR: the same under hv, the same lines.
hv_read() {
    local id=$1
    run_logged "$W/$id.out" "$W/$id.err" "$W/$id.st" "$TOP/bin/hvrun" --emulator "$2" \
        --vendor "$3" --hv "$HV" --timeout "$TIMEOUT" -kernel "$G" -cdrom "$W/a.iso" \
        -append "describe lock"
    if [ "$(cat "$W/$id.st")" = 0 ] && cmp -s "$W/$id.out" "$W/q.expect" &&
        grep -q '^\[hv\] ide1-cd0 at 0x170/0x376 irq 15: .*a.iso, read-only$' "$W/$id.err"; then
        pass "$id"
    else
        fail "$id" "status $(cat "$W/$id.st") (want 0) and the lines plain QEMU printed"
        diff "$W/q.expect" "$W/$id.out" | head -n 20
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
# The descriptive commands too: those about the disc fail NOT READY, the
# drive's pages and GET CONFIGURATION (no current profile) still answer.
run_logged "$W/qe.out" "$W/qe.err" "$W/qe.st" "$TOP/bin/qemu-guest" --timeout "$TIMEOUT" -kernel "$G" \
    -drive if=ide,media=cdrom -append describe
run_logged "$W/he.out" "$W/he.err" "$W/he.st" "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" \
    -kernel "$G" -drive if=ide,media=cdrom -append describe
if [ "$(cat "$W/qe.st")" = 1 ] && [ "$(cat "$W/he.st")" = 1 ] && cmp -s "$W/qe.out" "$W/he.out" &&
    grep -qx 'cdrom: READ CAPACITY: sense 2/3a' "$W/he.out" &&
    grep -qx 'cdrom: READ TOC: sense 2/3a' "$W/he.out" &&
    grep -qx 'cdrom: GET CONFIGURATION +00: 00 00 00 10 00 00 00 00 00 00 03 08 00 10 00 00' "$W/he.out"; then
    pass cdrom-empty
else
    fail cdrom-empty "statuses $(cat "$W/qe.st") and $(cat "$W/he.st") (want 1), the same lines"
    diff "$W/qe.out" "$W/he.out" | head -n 20
    show_log "$W/he.err"
fi

# --- Eject and change --------------------------------------------------------------
# wait_line FILE TEXT: until the guest printed TEXT (at most TIMEOUT s).
wait_line() { wait_for "$1" "^$2\$" "$TIMEOUT"; }

# The lines the change must bring, after disc A's: the lock, no medium,
# the unit attention, disc B.
expect_change() {
    grep -qx 'cdrom: medium locked' "$1" && grep -qx 'cdrom: no medium: sense 2/3a' "$1" &&
        grep -qx 'cdrom: medium changed: sense 6/28' "$1" &&
        grep -qx 'cdrom: volume DISC_B, [0-9]* sectors' "$1" &&
        grep -qx 'cdrom: README.TXT: Disc B here.' "$1" && grep -qx 'cdrom: done' "$1"
}

# The monitor's commands in the two phases.
printf '%s\n' 'info block' 'eject foo' 'eject ide1-cd0' 'eject -f ide1-cd0' 'info block' \
    'eject ide1-cd0' >"$W/eject.cmds"
# The change comes last: the guest then reads disc B and ends.
printf '%s\n' "change ide1-cd0 $W/missing.iso" "change ide1-cd0 $W/a.iso qcow2" \
    "change foo $W/b.iso" 'info block' "change ide1-cd0 $W/b.iso" >"$W/change.cmds"

# answers FILE: a monitor transcript's answers: no terminal escapes, CRs,
# prompts (with the commands QEMU echoes), banners, blank lines, QEMU's
# "Attached to" and "Cache mode" lines; "#blockN" without its number.
answers() {
    tr -d '\r' <"$1" | sed -E 's/\x1b\[[0-9;]*[A-Za-z]//g' |
        grep -Ev '^\(qemu\)|^QEMU [0-9.]+ monitor|^hvkit monitor|^$|^    (Attached to|Cache mode):' |
        sed -E 's/\(#block[0-9]+\)/(#block)/'
}

# plain QEMU (bin/hvrun.d/qemu.sh's machine) with its monitor on a FIFO.
qemu_change() {
    local a
    qemu_monitor_start "$W/qc.out" "$W/qc.mon" -kernel "$G" -append "change lock" -cdrom "$W/a.iso"
    if wait_line "$W/qc.out" 'cdrom: ready for eject'; then
        while IFS= read -r a; do
            (echo "$a" >&3) 2>/dev/null || break
            sleep 0.3
        done <"$W/eject.cmds"
    fi
    if wait_line "$W/qc.out" 'cdrom: ready for change'; then
        while IFS= read -r a; do
            # (In a subshell: a QEMU that has ended must not end the script.)
            (echo "$a" >&3) 2>/dev/null || break
            sleep 0.3
        done <"$W/change.cmds"
    fi
    wait "$QEMU_PID"
    echo $? >"$W/qc.st"
    exec 3>&-
    tr -d '\r' <"$W/qc.out" >"$W/qc.lines"
}
qemu_change
# QEMU's status 1 is the guest's exit code 0 ((0 << 1) | 1).
if [ "$(cat "$W/qc.st")" = 1 ] && expect_change "$W/qc.lines"; then
    pass cdrom-qemu-change
else
    fail cdrom-qemu-change "QEMU status $(cat "$W/qc.st") (want 1), the lock, no medium, the unit attention, disc B"
    show_log "$W/qc.lines"
    show_log "$W/qc.mon"
fi

# hv_change ID EMULATOR VENDOR: the same under hv, hvkit's monitor on the
# manager's socket, one monitor session for each phase; ID.lines, ID.mon.
hv_change() {
    local id=$1 d=$W/$1
    mkdir -p "$d"
    "$TOP/bin/hvrun" --emulator "$2" --vendor "$3" --hv "$HV" --timeout "$TIMEOUT" \
        --control "$d/ctl.sock" -kernel "$G" -append "change lock" -cdrom "$W/a.iso" \
        >"$W/$id.lines" 2>"$W/$id.err" </dev/null &
    local pid=$!
    : >"$W/$id.mon"
    if wait_line "$W/$id.lines" 'cdrom: ready for eject'; then
        "$BUILD/mgmt/hvmon" "$d/ctl.sock" <"$W/eject.cmds" >>"$W/$id.mon" 2>&1
    fi
    if wait_line "$W/$id.lines" 'cdrom: ready for change'; then
        "$BUILD/mgmt/hvmon" "$d/ctl.sock" <"$W/change.cmds" >>"$W/$id.mon" 2>&1
    fi
    wait "$pid"
    local st=$?
    if [ "$st" = 0 ] && cmp -s "$W/qc.lines" "$W/$id.lines" && expect_change "$W/$id.lines"; then
        pass "$id"
    else
        fail "$id" "hvrun status $st (want 0) and the lines plain QEMU printed"
        diff "$W/qc.lines" "$W/$id.lines" | head -n 20
        show_log "$W/$id.err"
    fi
}
hv_change cdrom-svm-change qemu svm
answers "$W/qc.mon" >"$W/qc.answers"
answers "$W/cdrom-svm-change.mon" >"$W/hc.answers"
if [ -s "$W/qc.answers" ] && cmp -s "$W/qc.answers" "$W/hc.answers" &&
    grep -qx "Error: Device 'ide1-cd0' is locked and force was not specified, wait for tray to open and try again" \
        "$W/hc.answers"; then
    pass cdrom-monitor
else
    fail cdrom-monitor "hvkit's monitor must answer as QEMU's (< QEMU, > hvkit)"
    diff "$W/qc.answers" "$W/hc.answers" | head -n 30
fi
# Bochs+VMX: the same guest lines (the monitor's answers are hv's either way).
if [ -n "$(bochs_missing)" ]; then
    skip cdrom-bochs-vmx-change "$(bochs_missing)"
else
    hv_change cdrom-bochs-vmx-change bochs vmx
fi

# --- The protocol ------------------------------------------------------------------
qmp_case() {
    local d=$W/qmp bad='' r
    mkdir -p "$d"
    # Disc B also as outer disk 0, for a change that names its disk itself.
    "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" --control "$d/ctl.sock" -kernel "$G" \
        -append change --outer-disk "$W/b.iso:ro" -cdrom "$W/a.iso" >"$d/out" 2>"$d/err" \
        </dev/null &
    local pid=$!
    ctl() { "$BUILD/mgmt/hvctl" -s "$d/ctl.sock" --timeout 120 "$@" 2>&1; }
    # has TEXT REPLY: the reply holds TEXT, or the case records it.
    has() { grep -qF -- "$1" <<<"$2" || bad+=" [want '$1' in: $2]"; }
    if wait_line "$d/out" 'cdrom: ready for eject'; then
        r=$(ctl query-block)
        has '"device": "ide1-cd0", "file": "'"$W"'/a.iso", "format": "raw", "ro": true, "removable": true, "inserted": true, "locked": false, "tray_open": false' "$r"
        r=$(ctl blockdev-change-medium device=ide1-cd0 filename=b.iso)
        has "medium 'b.iso': give an absolute path" "$r"
        truncate -s 300M "$d/big.iso"
        r=$(ctl blockdev-change-medium device=ide1-cd0 filename="$d/big.iso")
        has "has 314572800 bytes: the staging disk's media region takes a medium of at most 268435456 bytes (256 MiB)" "$r"
        r=$(ctl eject device=virtio9)
        has '"class": "DeviceNotFound", "desc": "Device '"'virtio9'"' not found"' "$r"
        r=$(ctl eject device=ide1-cd0)
        has '{"return": {}}' "$r"
        r=$(ctl query-block)
        has '"inserted": false, "locked": false, "tray_open": true' "$r"
    fi
    if wait_line "$d/out" 'cdrom: ready for change'; then
        # hv's form, as the manager passes it on: the whole of outer disk 0.
        r=$(ctl blockdev-change-medium device=ide1-cd0 filename=disc-b disk=0 format=raw)
        has '{"return": {}}' "$r"
        r=$(ctl query-block)
        has '"device": "ide1-cd0", "file": "disc-b", "format": "raw"' "$r"
    fi
    wait "$pid"
    local st=$?
    if [ -z "$bad" ] && [ "$st" = 0 ] && grep -qx 'cdrom: README.TXT: Disc B here.' "$d/out"; then
        pass cdrom-qmp
    else
        fail cdrom-qmp "hvrun status $st (want 0), disc B read;$bad"
        show_log "$d/out"
        show_log "$d/err"
    fi
    rm -f "$d/big.iso"
}
qmp_case

# --- The front-ends ---------------------------------------------------------------------
# console_of LOG: the guest's lines in a front-end domain's log.
console_of() {
    grep -v '^\[hv\]' "$1" 2>/dev/null | tr -d '\r'
}

# The lines a front-end's change must bring (no lock here, `stay`).
expect_front() {
    console_of "$1" >"$1.lines"
    grep -qx 'cdrom: volume DISC_A, [0-9]* sectors' "$1.lines" && ! grep -q 'locked' "$1.lines" &&
        grep -qx 'cdrom: no medium: sense 2/3a' "$1.lines" &&
        grep -qx 'cdrom: medium changed: sense 6/28' "$1.lines" &&
        grep -qx 'cdrom: README.TXT: Disc B here.' "$1.lines" && grep -qx 'cdrom: done' "$1.lines"
}

# front_verdict ID LOG WHAT BAD [BEFORE]: once the guest is done, its lines
# (those BEFORE holds first, from the machines a save ended) must be those
# of a change, and BAD (the front-end's answers that were wrong) empty.
front_verdict() {
    local bad=$4
    wait_line "$2" 'cdrom: done' || bad+=" [the guest did not finish]"
    cat ${5:+"$5"} "$2" >"$2.all" 2>/dev/null
    if [ -z "$bad" ] && expect_front "$2.all"; then
        pass "$1"
    else
        fail "$1" "the guest's lines $3;$bad"
        show_log "$2.all"
    fi
}

# save_restore TOOL DOMAIN FILE BEFORE: TOOL (xl or virsh) saves the
# domain into FILE and restores it from FILE alone, with the configuration
# the file holds; the console so far is added to BEFORE first (a save ends
# the machine and its log).  What went wrong on stdout.
save_restore() {
    local log=$HVKIT_STATE_DIR/running/$2.log
    console_of "$log" >>"$4"
    "$TOP/bin/$1" save "$2" "$3" >"$3.out" 2>&1 </dev/null ||
        echo " [$1 save: $(tr '\n' ' ' <"$3.out")]"
    "$TOP/bin/$1" restore "$3" >"$3.out" 2>&1 </dev/null ||
        echo " [$1 restore: $(tr '\n' ' ' <"$3.out")]"
}

# pdev D VDEV: the file `xl list -l` shows in the domain's disk VDEV ("" for none).
pdev() {
    "$TOP/bin/xl" list -l "$1" 2>/dev/null | tr -d '\n' |
        grep -o '{[^{}]*"vdev": "'"$2"'"[^{}]*}' | sed -n 's/.*"pdev_path": "\([^"]*\)".*/\1/p'
}

xl_case() {
    local d=$W/xl bad='' sbad=''
    mkdir -p "$d"
    export HVKIT_STATE_DIR=$d/st
    cat >"$d/cd.cfg" <<CFG
name = "cd1"
kernel = "$G"
extra = "change stay"
memory = 32
disk = [ '$W/a.iso,,hdc,cdrom' ]
CFG
    local log=$d/st/running/cd1.log
    "$TOP/bin/xl" create "$d/cd.cfg" >"$d/create.out" 2>&1 </dev/null || bad+=" [create: $(cat "$d/create.out")]"
    if wait_line "$log" 'cdrom: ready for eject'; then
        "$TOP/bin/xl" cd-eject cd1 hda >"$d/o1" 2>&1 </dev/null && bad+=" [cd-eject hda succeeded]"
        grep -q 'hda is not a CD-ROM drive of this domain' "$d/o1" || bad+=" [cd-eject hda: $(cat "$d/o1")]"
        "$TOP/bin/xl" cd-eject cd1 hdc >"$d/o2" 2>&1 </dev/null || bad+=" [cd-eject: $(cat "$d/o2")]"
    fi
    if wait_line "$log" 'cdrom: ready for change'; then
        "$TOP/bin/xl" cd-insert cd1 hdc "$W/nosuch.iso" >"$d/o3" 2>&1 </dev/null
        grep -qx "Cannot stat file: $W/nosuch.iso" "$d/o3" || bad+=" [cd-insert nosuch: $(cat "$d/o3")]"
        # The drive is empty: a save holds that in its configuration too
        # (cd-eject changed the one xl keeps), and the file alone restores.
        sbad+=$(save_restore xl cd1 "$d/empty.sav" "$d/before")
        # Disc B goes in while the guest is paused: the restored guest is
        # the one that finds it (the unit attention travels in the state).
        "$TOP/bin/xl" pause cd1 >/dev/null 2>&1 </dev/null
        "$TOP/bin/xl" cd-insert cd1 hdc "$W/b.iso" >"$d/o4" 2>&1 </dev/null || bad+=" [cd-insert: $(cat "$d/o4")]"
        [ "$(pdev cd1 hdc)" = "$W/b.iso" ] || sbad+=" [xl list -l after cd-insert: hdc '$(pdev cd1 hdc)']"
        sbad+=$(save_restore xl cd1 "$d/b.sav" "$d/before")
        [ "$(pdev cd1 hdc)" = "$W/b.iso" ] || sbad+=" [xl list -l after restore: hdc '$(pdev cd1 hdc)']"
    fi
    front_verdict cdrom-xl "$log" "after xl cd-eject and cd-insert" "$bad" "$d/before"
    if [ -z "$sbad" ] && console_of "$log" | grep -qx 'cdrom: README.TXT: Disc B here.'; then
        pass cdrom-xl-save
    else
        fail cdrom-xl-save "xl save and xl restore FILE, with the drive empty and with disc B, the restored guest reading it;$sbad"
    fi
    "$TOP/bin/xl" destroy cd1 >/dev/null 2>&1 </dev/null
}
xl_case

# live_medium VIRSH DOM MEDIUM WHEN: dumpxml and domblklist show MEDIUM
# ("" for none) in the running domain's CD-ROM drive, and dumpxml
# --inactive the definition's disc A; adds to bad what they show instead.
live_medium() {
    local V=$1 dom=$2 want=$3 when=$4 xml list def
    xml=$("$V" dumpxml "$dom" 2>&1 </dev/null | sed -n "s/^ *<source file='\\(.*\\)'\\/>$/\\1/p")
    list=$("$V" domblklist "$dom" 2>&1 </dev/null | awk '$1 == "hdc" { print $2 }')
    def=$("$V" dumpxml --inactive "$dom" 2>&1 </dev/null | sed -n "s/^ *<source file='\\(.*\\)'\\/>$/\\1/p")
    [ "$xml" = "$want" ] || bad+=" [dumpxml $when: source '$xml', not '$want']"
    [ "$list" = "${want:--}" ] || bad+=" [domblklist $when: '$list', not '${want:--}']"
    [ "$def" = "$W/a.iso" ] || bad+=" [dumpxml --inactive $when: source '$def', not disc A]"
}

virsh_case() {
    local d=$W/virsh bad='' sbad='' V=$TOP/bin/virsh
    mkdir -p "$d"
    export HVKIT_STATE_DIR=$d/st
    cat >"$d/cd.xml" <<XML
<domain type='hvkit'>
  <name>vcd</name>
  <memory unit='MiB'>32</memory>
  <os><type>hvm</type><kernel>$G</kernel><cmdline>change stay</cmdline></os>
  <devices>
    <disk type='file' device='cdrom'>
      <source file='$W/a.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
  </devices>
</domain>
XML
    local log=$d/st/running/vcd.log
    "$V" -q "define $d/cd.xml; start vcd" >"$d/start.out" 2>&1 </dev/null || bad+=" [start: $(cat "$d/start.out")]"
    if wait_line "$log" 'cdrom: ready for eject'; then
        # virsh 9.0's words (checked on its test driver by hand): it looks
        # among the removable disks only, and takes one action.
        "$V" change-media vcd vda --eject >"$d/o1" 2>&1 </dev/null
        grep -qx 'error: No disk found whose source path or target is vda' "$d/o1" || bad+=" [vda: $(cat "$d/o1")]"
        "$V" change-media vcd hdc --eject --insert >"$d/o2" 2>&1 </dev/null
        grep -qx 'error: Options --eject and --insert are mutually exclusive' "$d/o2" || bad+=" [two actions: $(cat "$d/o2")]"
        "$V" change-media vcd hdc >"$d/o3" 2>&1 </dev/null
        grep -qx 'error: New disk media source was not specified' "$d/o3" || bad+=" [no source: $(cat "$d/o3")]"
        "$V" change-media vcd hdc --eject >"$d/o4" 2>&1 </dev/null
        grep -qx 'Successfully ejected media.' "$d/o4" || bad+=" [eject: $(cat "$d/o4")]"
        # The live XML follows the drive, the definition stays (libvirt
        # keeps the two apart).
        live_medium "$V" vcd "" "after the eject"
    fi
    if wait_line "$log" 'cdrom: ready for change'; then
        # As with xl: disc B goes in while the guest is paused, and the
        # save's domain XML (libvirt's live one) must have it.
        "$V" suspend vcd >/dev/null 2>&1 </dev/null
        "$V" change-media vcd hdc "$W/b.iso" --update >"$d/o5" 2>&1 </dev/null
        grep -qx 'Successfully updated media.' "$d/o5" || bad+=" [update: $(cat "$d/o5")]"
        live_medium "$V" vcd "$W/b.iso" "after the update"
        sbad+=$(save_restore virsh vcd "$d/b.sav" "$d/before")
        "$V" save-image-dumpxml "$d/b.sav" 2>&1 </dev/null | grep -qF "<source file='$W/b.iso'/>" ||
            sbad+=" [the image's XML has no disc B]"
        # Saved paused, restored paused (libvirt's rule without --running).
        "$V" resume vcd >/dev/null 2>&1 </dev/null
    fi
    front_verdict cdrom-virsh "$log" "after virsh change-media" "$bad" "$d/before"
    if [ -z "$sbad" ] && console_of "$log" | grep -qx 'cdrom: README.TXT: Disc B here.'; then
        pass cdrom-virsh-save
    else
        fail cdrom-virsh-save "virsh save and virsh restore FILE with disc B, the restored guest reading it;$sbad"
    fi
    "$V" -q "destroy vcd" >/dev/null 2>&1 </dev/null
}
virsh_case

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
