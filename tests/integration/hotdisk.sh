#!/usr/bin/env bash
# Disks attached to a running domain and detached again
# (docs/control-protocol.md "Disks attached at run time"): the manager
# copies the image into a disk slot of the staging disk, hv plugs a
# virtio-blk device into the domain's first free virtio-mmio window, the
# hotdisk guest (guestkit/tests/hotdisk.c) finds it by probing the windows,
# reads what real qemu-io wrote into the image, writes its own pattern and
# notices the disk gone after the detach; the manager then writes the
# image back over the file, where real qemu-io must read the guest's
# pattern and real qemu-img check find nothing wrong.  On QEMU+SVM:
#   - ctl:   bin/hvctl's x-blockdev-attach / x-blockdev-detach on a qcow2
#            image of 4 KiB clusters (the guest's write allocates a
#            cluster: the image grows in its slot), query-block and
#            query-blockstats and HMP's info block before, during and
#            after; the refusals (a
#            missing file, a relative path, a raw file called qcow2, an
#            image with a backing file, the same name twice, the same file
#            twice, a detach of an unknown device) in their words, each
#            leaving the file byte for byte as it was and no file beside it;
#   - end:   beside a -drive disk of the boot: the attached disk in the
#            next window; savevm and domain-save refused while it is
#            attached (no snapshot, no file); never detached, it goes back
#            into its file when the system quits;
#   - bochs: on Bochs+VMX, attached, written by the guest, detached, in
#            the file;
#   - xl:    a domain made by `xl create` (the guest watching): block-list
#            before, during and after, block-attach of a qcow2 disk as xvdb
#            (in list -l's disks while attached), block-detach by its
#            device id, and libxl's words for a vdev
#            taken, a missing file and a device not connected;
#   - virsh: a domain defined and started with virsh: attach-disk --live
#            --subdriver qcow2, domblklist, dumpxml, domblkinfo and domblkstat while
#            it is attached, detach-disk --live, and virsh's words for a
#            target taken, a missing file and an unknown target.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/ctl.bash"

W=$IT_WORK
G=$BUILD/guestkit/hotdisk.elf
TIMEOUT=${GUEST_TIMEOUT:-300}
CASES=(hotdisk-qemu-svm-ctl hotdisk-qemu-svm-end hotdisk-bochs-vmx hotdisk-xl hotdisk-virsh)
skip_all_if "$(built_missing "$HV" "$G" "$HVCTL")" "${CASES[@]}"
command -v qemu-io >/dev/null || skip_all_if "qemu-io is not installed (mk/deps.sh test)" "${CASES[@]}"

# image FILE: a 16 MiB qcow2 of 4 KiB clusters made by qemu-img, its first
# 64 KiB 0x5a written by qemu-io.
image() {
    qemu-img create -q -f qcow2 -o cluster_size=4096 "$1" 16M &&
        qemu-io -c 'write -P 0x5a 0 64k' "$1" >/dev/null
}

# guest_pattern FILE: the guest's 0xc3 over bytes 4096-8191 (sectors 8-15),
# qemu-io's 0x5a around it, and a clean image.
guest_pattern() {
    qemu-io -c 'read -P 0xc3 4096 4096' -c 'read -P 0x5a 0 4096' -c 'read -P 0x5a 8192 57344' \
        "$1" >"$1.io" 2>&1 && ! grep -q 'Pattern verification failed' "$1.io" ||
        { echo "qemu-io does not read the guest's pattern in $1: $(head -3 "$1.io")"; return 1; }
    qemu-img check "$1" >"$1.check" 2>&1 ||
        { echo "qemu-img check $1: $(head -3 "$1.check")"; return 1; }
}

# refused S WORDS FILE ARGS...: x-blockdev-attach ARGS is refused with WORDS;
# FILE's bytes and its directory's entries are as before, query-block too.
refused() {
    local s=$1 words=$2 f=$3 r before blk
    shift 3
    before=$(ls -A "$(dirname "$f")"; md5sum <"$f" 2>/dev/null)
    blk=$("$HVCTL" -s "$s" --timeout 120 query-block)
    r=$("$HVCTL" -s "$s" --timeout 120 x-blockdev-attach "$@")
    echo "x-blockdev-attach $*: $r" >>"$W/refusals"
    [[ $r == '{"error": {"class": "'*'", "desc": "'*"$words"* ]] ||
        { echo "x-blockdev-attach $*: want an error with '$words': $r"; return 1; }
    [ "$before" = "$(ls -A "$(dirname "$f")"; md5sum <"$f" 2>/dev/null)" ] ||
        { echo "a refused x-blockdev-attach $* changed $f or its directory"; return 1; }
    [ "$blk" = "$("$HVCTL" -s "$s" --timeout 120 query-block)" ] ||
        { echo "a refused x-blockdev-attach $* changed query-block"; return 1; }
}

# ended PID: until hvrun (the session's child, so not for `wait` here)
# has ended, at most 120 s.
ended() {
    local i
    for ((i = 0; i < 600; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.2
    done
}

# ctl_checks DIR SOCK RUN_PID
ctl_checks() {
    local d=$1 s=$2 run=$3 r
    local H=("$HVCTL" -s "$s" --timeout 120)
    local img=$d/img/d.qcow2
    mkdir -p "$d/img"
    image "$img" && image "$d/img/other.qcow2" || { echo "qemu-img/qemu-io failed"; return; }
    qemu-img create -q -f qcow2 -b d.qcow2 -F qcow2 "$d/img/top.qcow2" || { echo "no overlay"; return; }
    truncate -s 1M "$d/img/plain.raw"
    wait_for "$d/out" '^hotdisk: watching' 120 "$run" || { echo "the guest did not start"; return; }
    r=$("${H[@]}" query-block)
    [ "$r" = '{"return": []}' ] || { echo "query-block before the attach: $r"; return; }
    refused "$s" "Could not open '$d/img/none.qcow2': No such file or directory" "$img" \
        device=vdb filename="$d/img/none.qcow2" || return
    refused "$s" "give an absolute path" "$img" device=vdb filename=d.qcow2 || return
    refused "$s" "Image is not in qcow2 format" "$d/img/plain.raw" device=vdb \
        filename="$d/img/plain.raw" format=qcow2 || return
    refused "$s" "has a backing file: a disk attached at run time must stand alone" \
        "$d/img/top.qcow2" device=vdb filename="$d/img/top.qcow2" || return
    refused "$s" "argument 'device' must be letters, digits" "$img" device=virtio0 \
        filename="$img" || return
    r=$("${H[@]}" x-blockdev-attach device=vdb filename="$img")
    [ "$r" = '{"return": {"device": "vdb", "base": 4272950784, "irq": 12}}' ] ||
        { echo "x-blockdev-attach: $r"; return; }
    r=$("${H[@]}" query-block)
    [ "$r" = "{\"return\": [{\"device\": \"vdb\", \"file\": \"$img\", \"format\": \"qcow2\", \"ro\": false, \"removable\": false, \"hotplugged\": true}]}" ] ||
        { echo "query-block with the disk: $r"; return; }
    printf 'info block\n' | "$BUILD/mgmt/hvmon" "$s" >"$d/info1" 2>&1
    grep -qx "vdb (#block0): $img (qcow2)" "$d/info1" || { echo "HMP info block: $(cat "$d/info1")"; return; }
    refused "$s" "Duplicate device ID 'vdb'" "$d/img/other.qcow2" device=vdb \
        filename="$d/img/other.qcow2" || return
    refused "$s" "'$img' is attached already (as vdb of domain 0)" "$d/img/other.qcow2" \
        device=vdc filename="$img" || return
    wait_for "$d/out" '^PASS: hotdisk: wrote 0xc3 over sectors 8-15, flushed, read it back$' 120 "$run" ||
        { echo "the guest did not write its pattern"; return; }
    grep -qx 'hotdisk: sector 0 holds 512 bytes of 0x5a' "$d/out" ||
        { echo "the guest did not read qemu-io's 0x5a in sector 0"; return; }
    r=$("${H[@]}" query-blockstats)
    [[ $r == '{"return": [{"device": "vdb", "stats": {"rd_bytes": 4608, "wr_bytes": 4096, '* ]] ||
        { echo "query-blockstats with the disk: $r"; return; }
    # Not yet in the file: the guest's writes are in the slot.
    qemu-io -c 'read -P 0x00 4096 4096' "$img" | grep -q 'Pattern verification failed' &&
        { echo "the file changed before the detach"; return; }
    r=$("${H[@]}" x-blockdev-detach device=vdc)
    [ "$r" = "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'vdc' not found\"}}" ] ||
        { echo "detach of an unknown device: $r"; return; }
    r=$("${H[@]}" x-blockdev-detach device=vdb)
    [[ $r =~ ^\{\"return\":\ \{\"length\":\ ([0-9]+)\}\}$ ]] || { echo "x-blockdev-detach: $r"; return; }
    [ "$(stat -c %s "$img")" = "${BASH_REMATCH[1]}" ] ||
        { echo "the file has $(stat -c %s "$img") bytes, hv said ${BASH_REMATCH[1]}"; return; }
    guest_pattern "$img" || return
    [ "$(ls -A "$d/img" | grep -c '^\.')" = 0 ] || { echo "a temporary file is left: $(ls -A "$d/img")"; return; }
    wait_for "$d/out" '^hotdisk: the disk at 0xfeb00e00 is gone$' 120 "$run" ||
        { echo "the guest did not notice the detach"; return; }
    r=$("${H[@]}" query-block)
    [ "$r" = '{"return": []}' ] || { echo "query-block after the detach: $r"; return; }
    printf 'info block\n' | "$BUILD/mgmt/hvmon" "$s" >"$d/info2" 2>&1
    ! grep -q vdb "$d/info2" || { echo "HMP info block after the detach: $(cat "$d/info2")"; return; }
    "${H[@]}" quit >/dev/null
}

# end_checks DIR SOCK RUN_PID: beside the boot's disk (which could hold
# snapshots), attached and written; savevm and domain-save refused; never
# detached: quit.
end_checks() {
    local d=$1 s=$2 run=$3 r
    local img=$d/img/d.qcow2 H=("$HVCTL" -s "$2" --timeout 120)
    mkdir -p "$d/img"
    image "$img" || { echo "qemu-img/qemu-io failed"; return; }
    wait_for "$d/out" '^hotdisk: watching' 120 "$run" || { echo "the guest did not start"; return; }
    r=$("${H[@]}" x-blockdev-attach device=xvdb filename="$img" format='"qcow2"')
    [ "$r" = '{"return": {"device": "xvdb", "base": 4272950272, "irq": 11}}' ] ||
        { echo "x-blockdev-attach beside the boot's disk: $r"; return; }
    wait_for "$d/out" '^PASS: hotdisk: wrote 0xc3' 120 "$run" || { echo "the guest did not write"; return; }
    r=$("${H[@]}" x-savevm name=s1)
    [[ $r == *'"desc": "domain 0 has a disk attached at run time: detach it first'* ]] ||
        { echo "savevm with a disk attached at run time: $r"; return; }
    qemu-img snapshot -l -U "$W/boot.qcow2" | grep -q s1 && { echo "savevm wrote a snapshot"; return; }
    r=$("${H[@]}" domain-save file="$d/x.sav")
    [[ $r == *'"desc": "domain 0 has a disk attached at run time: detach it first'* ]] && [ ! -e "$d/x.sav" ] ||
        { echo "domain-save with a disk attached at run time: $r"; return; }
    "$HVCTL" -s "$s" --timeout 120 quit >/dev/null
    ended "$run"
    guest_pattern "$img"
}

# bochs_checks DIR SOCK RUN_PID: attach, the guest's pattern, detach, the
# file, on VT-x.
bochs_checks() {
    local d=$1 s=$2 run=$3 r
    local img=$d/img/d.qcow2
    mkdir -p "$d/img"
    image "$img" || { echo "qemu-img/qemu-io failed"; return; }
    wait_for "$d/out" '^hotdisk: watching' 120 "$run" || { echo "the guest did not start"; return; }
    r=$("$HVCTL" -s "$s" --timeout 120 x-blockdev-attach device=vdb filename="$img")
    [[ $r == '{"return": {"device": "vdb", '* ]] || { echo "x-blockdev-attach: $r"; return; }
    wait_for "$d/out" '^PASS: hotdisk: wrote 0xc3' 120 "$run" || { echo "the guest did not write"; return; }
    r=$("$HVCTL" -s "$s" --timeout 120 x-blockdev-detach device=vdb)
    [[ $r == '{"return": {"length": '* ]] || { echo "x-blockdev-detach: $r"; return; }
    guest_pattern "$img" || return
    wait_for "$d/out" '^hotdisk: the disk at 0xfeb00e00 is gone$' 120 "$run" || { echo "the guest did not notice"; return; }
    "$HVCTL" -s "$s" --timeout 120 quit >/dev/null
}

# session ID CHECKS APPEND [EMULATOR VENDOR [HVRUN-ARGS...]]: the hotdisk
# guest with arguments APPEND, under bin/hvrun --control (on QEMU+SVM unless
# told), and its checks; hv must end by a quit.
session() {
    local id=$1 checks=$2 d=$W/$1 why
    mkdir -p "$d"
    "$TOP/bin/hvrun" --emulator "${4:-qemu}" --vendor "${5:-svm}" --hv "$HV" --timeout "$TIMEOUT" -m 16M \
        --control "$d/ctl.sock" -kernel "$G" -append "$3" "${@:6}" >"$d/out" 2>&1 </dev/null &
    local run=$!
    why=$("$checks" "$d" "$d/ctl.sock" "$run")
    kill "$run" 2>/dev/null
    wait "$run"
    if [ -n "$why" ]; then
        fail "$id" "$why"
        show_log "$d/out" 25
    elif ! grep -qx '\[hv\] ctl: quit' "$d/out"; then
        fail "$id" "hv did not end by the quit"
        show_log "$d/out"
    else
        pass "$id"
    fi
}

# says FILE TEXT...: FILE's lines are exactly the TEXTs.
says() {
    local f=$1
    shift
    [ "$(cat "$f")" = "$(printf '%s\n' "$@")" ] || { echo "want '$*', got '$(cat "$f")'"; return 1; }
}

# xl_checks DIR: the xl domain's checks (HVKIT_STATE_DIR set).
xl_checks() {
    local d=$1 XL=$TOP/bin/xl img=$d/img/d.qcow2 log=$HVKIT_STATE_DIR/running/hx.log id head
    image "$img" && image "$d/img/other.qcow2" || { echo "qemu-img/qemu-io failed"; return; }
    printf 'name = "hx"\nkernel = "%s"\nmemory = 16\nextra = "watch disks=2"\n' "$G" >"$d/hx.cfg"
    "$XL" create "$d/hx.cfg" >"$d/create.out" 2>&1 || { echo "xl create: $(cat "$d/create.out")"; return; }
    wait_for "$log" '^hotdisk: watching' 120 || { echo "the guest did not start"; return; }
    id=$("$XL" domid hx)
    head=$(printf '%-5s %-3s %-6s %-5s %-6s %-8s %-30s' Vdev BE handle state evt-ch ring-ref BE-path)
    "$XL" block-list hx >"$d/list0" && says "$d/list0" "$head" || return
    "$XL" block-attach hx "format=qcow2, vdev=xvdb, access=rw, target=$img" >"$d/attach" 2>&1 &&
        [ ! -s "$d/attach" ] || { echo "block-attach: $(cat "$d/attach")"; return; }
    "$XL" block-list hx >"$d/list1" && says "$d/list1" "$head" \
        "$(printf '%-5d %-3d %-6d %-5d %-6d %-8d %-30s' 51728 0 "$id" 4 -1 -1 "/local/domain/0/backend/vbd/$id/51728")" || return
    # xl list -l: the disk is in the domain's configuration while attached.
    "$XL" list -l hx | python3 -c '
import json, sys
disks = json.load(sys.stdin)[0]["config"]["disks"]
want = [{"pdev_path": sys.argv[1], "vdev": "xvdb", "format": "qcow2", "readwrite": 1}]
assert disks == want, disks' "$img" 2>"$d/long1" || { echo "list -l: $(tail -1 "$d/long1")"; return; }
    ! "$XL" block-attach hx "$d/img/other.qcow2,qcow2,xvdb,w" 2>"$d/e1" &&
        says "$d/e1" "libxl: error: domain $id: device already exists in xenstore" 'libxl_device_disk_add failed.' || return
    ! "$XL" block-attach hx "$d/img/none.qcow2,qcow2,xvdc,w" 2>"$d/e2" &&
        says "$d/e2" "libxl: error: domain $id: Disk vdev=xvdc failed to stat: $d/img/none.qcow2: No such file or directory" \
            'libxl_device_disk_add failed.' || return
    ! "$XL" block-detach hx xvdc 2>"$d/e3" && says "$d/e3" 'Error: Device xvdc not connected.' || return
    wait_for "$log" '^PASS: hotdisk: wrote 0xc3' 120 || { echo "the guest did not write its pattern"; return; }
    grep -qx 'hotdisk: sector 0 holds 512 bytes of 0x5a' "$log" || { echo "the guest did not read 0x5a"; return; }
    "$XL" block-detach hx 51728 >"$d/detach" 2>&1 && [ ! -s "$d/detach" ] ||
        { echo "block-detach: $(cat "$d/detach")"; return; }
    guest_pattern "$img" || return
    wait_for "$log" '^hotdisk: the disk at 0xfeb00e00 is gone$' 120 || { echo "the guest did not notice"; return; }
    "$XL" block-list hx >"$d/list2" && says "$d/list2" "$head" || return
    "$XL" list -l hx >"$d/long2" && ! grep -q '"disks"' "$d/long2" || { echo "list -l still has a disk"; return; }
}

# virsh_checks DIR: the virsh domain's checks (HVKIT_STATE_DIR set).
virsh_checks() {
    local d=$1 V=$TOP/bin/virsh img=$d/img/d.qcow2 log=$HVKIT_STATE_DIR/running/hvd.log
    image "$img" || { echo "qemu-img/qemu-io failed"; return; }
    cat >"$d/hvd.xml" <<XML
<domain type='kvm'>
  <name>hvd</name>
  <memory unit='MiB'>16</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$G</kernel>
    <cmdline>watch disks=2</cmdline>
  </os>
</domain>
XML
    "$V" -q "define $d/hvd.xml; start hvd" >"$d/start" 2>&1 || { echo "define, start: $(cat "$d/start")"; return; }
    wait_for "$log" '^hotdisk: watching' 120 || { echo "the guest did not start"; return; }
    "$V" domblklist hvd >"$d/list0" && says "$d/list0" ' Target   Source' '------------------' '' || return
    "$V" attach-disk hvd "$img" vdb --live --subdriver qcow2 >"$d/attach" 2>&1 &&
        says "$d/attach" 'Disk attached successfully' '' || return
    "$V" domblklist hvd >"$d/list1" && grep -Eq "^ vdb +$img\$" "$d/list1" || { echo "domblklist: $(cat "$d/list1")"; return; }
    # The live XML holds the disk; the definition (--inactive) does not.
    "$V" dumpxml hvd >"$d/live.xml" && grep -q "<source file='$img'/>" "$d/live.xml" &&
        grep -q "<target dev='vdb' bus='virtio'/>" "$d/live.xml" || { echo "dumpxml: $(cat "$d/live.xml")"; return; }
    "$V" dumpxml --inactive hvd >"$d/def.xml" && ! grep -q "vdb" "$d/def.xml" || { echo "dumpxml --inactive: $(cat "$d/def.xml")"; return; }
    "$V" domblkinfo hvd vdb >"$d/info" && grep -qx 'Capacity:       16777216' "$d/info" ||
        { echo "domblkinfo: $(cat "$d/info")"; return; }
    ! "$V" attach-disk hvd "$img" vdb --live --subdriver qcow2 2>"$d/e1" >/dev/null &&
        says "$d/e1" 'error: Failed to attach disk' 'error: operation failed: target vdb already exists' '' || return
    ! "$V" attach-disk hvd "$d/img/none.qcow2" vdc --live 2>"$d/e2" >/dev/null &&
        says "$d/e2" 'error: Failed to attach disk' \
            "error: Cannot access storage file '$d/img/none.qcow2' (as uid:$(id -u), gid:$(id -g)): No such file or directory" '' || return
    ! "$V" detach-disk hvd vdz --live 2>"$d/e3" >/dev/null &&
        says "$d/e3" 'error: No disk found whose source path or target is vdz' '' || return
    wait_for "$log" '^PASS: hotdisk: wrote 0xc3' 120 || { echo "the guest did not write its pattern"; return; }
    "$V" domblkstat hvd vdb >"$d/stat" && grep -qx 'vdb wr_req 1' "$d/stat" && grep -qx 'vdb wr_bytes 4096' "$d/stat" ||
        { echo "domblkstat: $(cat "$d/stat")"; return; }
    "$V" detach-disk hvd vdb --live >"$d/detach" 2>&1 && says "$d/detach" 'Disk detached successfully' '' || return
    guest_pattern "$img" || return
    "$V" domblklist hvd >"$d/list2" && says "$d/list2" ' Target   Source' '------------------' '' || return
    "$V" dumpxml hvd >"$d/after.xml" && ! grep -q "vdb" "$d/after.xml" || { echo "dumpxml after detach: $(cat "$d/after.xml")"; return; }
}

# front_end ID CHECKS NAME TOOL: a domain made by a front-end in a state
# directory of its own, its checks, then destroyed.
front_end() {
    local id=$1 checks=$2 name=$3 tool=$4 d=$W/$1 why
    mkdir -p "$d/img"
    export HVKIT_STATE_DIR=$d/st HVKIT_TOP=$TOP
    why=$("$checks" "$d")
    "$TOP/bin/$tool" destroy "$name" >/dev/null 2>&1
    if [ -n "$why" ]; then
        fail "$id" "$why"
        show_log "$HVKIT_STATE_DIR/running/$name.log" 20
    else
        pass "$id"
    fi
}

# (disks=2: the guest watches on after the one disk has gone.)
run_case hotdisk-qemu-svm-ctl session hotdisk-qemu-svm-ctl ctl_checks 'watch disks=2'
qemu-img create -q -f qcow2 "$W/boot.qcow2" 1M
run_case hotdisk-qemu-svm-end session hotdisk-qemu-svm-end end_checks watch qemu svm \
    -drive "file=$W/boot.qcow2,format=qcow2,if=virtio"
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip hotdisk-bochs-vmx "$why"
else
    run_case hotdisk-bochs-vmx session hotdisk-bochs-vmx bochs_checks 'watch disks=2' bochs vmx
fi
run_case hotdisk-xl front_end hotdisk-xl xl_checks hx xl
run_case hotdisk-virsh front_end hotdisk-virsh virsh_checks hvd virsh
finish_cases
