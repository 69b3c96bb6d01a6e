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
#            query-blockstats before, during and after; the refusals (a
#            missing file, a relative path, a raw file called qcow2, an
#            image with a backing file, the same name twice, the same file
#            twice, a detach of an unknown device) in their words, each
#            leaving the file byte for byte as it was and no file beside it;
#   - end:   a disk never detached goes back into its file when the
#            system quits.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/ctl.bash"

W=$IT_WORK
G=$BUILD/guestkit/hotdisk.elf
TIMEOUT=${GUEST_TIMEOUT:-300}
CASES=(hotdisk-qemu-svm-ctl hotdisk-qemu-svm-end)
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

# ctl_checks DIR SOCK RUN_PID
ctl_checks() {
    local d=$1 s=$2 run=$3 r
    local H=("$HVCTL" -s "$s" --timeout 120)
    local img=$d/img/d.qcow2
    mkdir -p "$d/img"
    image "$img" && image "$d/img/other.qcow2" || { echo "qemu-img/qemu-io failed"; return; }
    qemu-img create -q -f qcow2 -b d.qcow2 -F qcow2 "$d/img/top.qcow2" || { echo "no overlay"; return; }
    truncate -s 1M "$d/img/plain.raw"
    wait_for "$d/out" '^hotdisk: watching' "$run" || { echo "the guest did not start"; return; }
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
    refused "$s" "Duplicate device ID 'vdb'" "$d/img/other.qcow2" device=vdb \
        filename="$d/img/other.qcow2" || return
    refused "$s" "'$img' is attached already (as vdb of domain 0)" "$d/img/other.qcow2" \
        device=vdc filename="$img" || return
    wait_for "$d/out" '^PASS: hotdisk: wrote 0xc3 over sectors 8-15, flushed, read it back$' "$run" ||
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
    wait_for "$d/out" '^hotdisk: the disk at 0xfeb00e00 is gone$' "$run" ||
        { echo "the guest did not notice the detach"; return; }
    r=$("${H[@]}" query-block)
    [ "$r" = '{"return": []}' ] || { echo "query-block after the detach: $r"; return; }
    "${H[@]}" quit >/dev/null
}

# end_checks DIR SOCK RUN_PID: attached, written, never detached: quit.
end_checks() {
    local d=$1 s=$2 run=$3 r
    local img=$d/img/d.qcow2
    mkdir -p "$d/img"
    image "$img" || { echo "qemu-img/qemu-io failed"; return; }
    wait_for "$d/out" '^hotdisk: watching' "$run" || { echo "the guest did not start"; return; }
    r=$("$HVCTL" -s "$s" --timeout 120 x-blockdev-attach device=xvdb filename="$img" format='"qcow2"')
    [[ $r == '{"return": {"device": "xvdb", '* ]] || { echo "x-blockdev-attach: $r"; return; }
    wait_for "$d/out" '^PASS: hotdisk: wrote 0xc3' "$run" || { echo "the guest did not write"; return; }
    "$HVCTL" -s "$s" --timeout 120 quit >/dev/null
    # hvrun is the session's child: wait for its end by its pid.
    local i
    for ((i = 0; i < 600; i++)); do
        kill -0 "$run" 2>/dev/null || break
        sleep 0.2
    done
    guest_pattern "$img"
}

# session ID CHECKS: the hotdisk guest watching, under bin/hvrun --control
# on QEMU+SVM, and its checks; hv must end by the quit.
session() {
    local id=$1 checks=$2 d=$W/$1 why
    mkdir -p "$d"
    "$TOP/bin/hvrun" --emulator qemu --vendor svm --hv "$HV" --timeout "$TIMEOUT" -m 16M \
        --control "$d/ctl.sock" -kernel "$G" -append watch >"$d/out" 2>&1 </dev/null &
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

run_case hotdisk-qemu-svm-ctl session hotdisk-qemu-svm-ctl ctl_checks
run_case hotdisk-qemu-svm-end session hotdisk-qemu-svm-end end_checks
finish_cases
