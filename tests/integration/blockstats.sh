#!/usr/bin/env bash
# A disk's I/O counters under hv against QEMU's own.  The vblk guest
# (guestkit/tests/vblk.c: a pattern written over the whole disk in requests
# of cycling sizes, a flush, the disk read back, reads past the end, and
# with `ro` a refused write) does a known, deterministic set of requests;
# with `stay` it then waits, and the counters are read while it does:
#   - on plain QEMU 7.2 (microvm, a virtio-blk-device disk) through QMP:
#     query-blockstats, and `info blockstats` through human-monitor-command;
#   - under hv (QEMU+SVM) through hv's control protocol (bin/hvctl
#     query-blockstats) and hvkit's monitor (build/mgmt/hvmon).
# Every count must be the same number on both machines (bytes, operations,
# flushes, failed and invalid requests, merged requests, the highest
# offset written); the times (the total_time_ns members and idle_time_ns)
# measure two different machines and are compared by form only.  The
# `info blockstats` lines must be the same text with the times masked.
# A writable qcow2 disk, and a read-only one (a failed write).
# Then the front-ends on a domain virsh starts with the same guest:
# `virsh domblkstat` (a disk by target or file, all disks, --human) gives
# the numbers hv's query-blockstats gives, in the layout of Debian's virsh
# on libvirt's test driver (which reports the legacy five fields, errs
# among them, where libvirt's qemu driver reports flushes and times
# instead: the lines both have are compared, digits masked), with its
# messages for a missing disk or domain and a domain that is not running;
# `xl top -b` shows the requests and sectors in xentop's VBD columns.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/virsh.bash"

W=$IT_WORK
G=$BUILD/guestkit/vblk.elf
HVCTL=$TOP/bin/hvctl
HVMON=$BUILD/mgmt/hvmon
TIMEOUT=${GUEST_TIMEOUT:-240}
CASES=("writable disk" "read-only disk" "virsh domblkstat" "xl top")

skip_all_if "$(built_missing "$HV" "$G" "$HVMON")" "${CASES[@]}"
command -v qemu-system-x86_64 >/dev/null || skip_all_if "QEMU is not installed (bash mk/deps.sh test)" "${CASES[@]}"
# shellcheck source=../../bin/hvrun.d/drive.sh
. "$TOP/bin/hvrun.d/drive.sh"

# The counters that must agree: every count QMP's BlockDeviceStats has
# for reads, writes and flushes.
COUNTS="rd_bytes wr_bytes rd_operations wr_operations flush_operations rd_merged wr_merged
failed_rd_operations failed_wr_operations failed_flush_operations invalid_rd_operations
invalid_wr_operations invalid_flush_operations wr_highest_offset"

# counts FILE: "name=value" for each of COUNTS in the first disk's stats
# of a query-blockstats reply (QEMU's "parent" node comes before its
# "stats", so the last match of each member is the device's own).
counts() {
    local c
    for c in $COUNTS; do
        printf '%s=%s\n' "$c" "$(grep -o "\"$c\": [0-9]*" "$1" | tail -n 1 | sed 's/.*: //')"
    done
}

# masked: an `info blockstats` line with its times replaced by "T".
masked() {
    sed -E 's/(total_time_ns|idle_time_ns)=[0-9]+/\1=T/g'
}

# qemu_run OUT GUEST-ARGS DRIVE-OPTS: vblk on plain QEMU microvm, QMP on a
# pipe; once the guest stays, query-blockstats and info blockstats into
# OUT.qmp.
qemu_run() {
    local out=$1 app=$2 opts=$3
    mkfifo "$out.in"
    timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -nodefaults -display none \
        -no-reboot -serial "file:$out.console" -device isa-debug-exit,iobase=0xf4,iosize=4 -m 32 \
        -M microvm -global virtio-mmio.force-legacy=false \
        -drive "file=$out.qcow2,format=qcow2,if=none,id=virtio0$opts" \
        -device virtio-blk-device,drive=virtio0 -kernel "$G" \
        -append "$app $(hvkit_microvm_virtio_word 0)" -qmp stdio <"$out.in" >"$out.qmp" 2>&1 &
    local pid=$!
    exec {fd}>"$out.in"
    echo '{"execute": "qmp_capabilities"}' >&"$fd"
    if wait_for "$out.console" '^vblk: staying' "$TIMEOUT"; then
        echo '{"execute": "query-blockstats"}' >&"$fd"
        echo '{"execute": "human-monitor-command", "arguments": {"command-line": "info blockstats"}}' >&"$fd"
        wait_for "$out.qmp" 'rd_bytes=' 30
    fi
    echo '{"execute": "quit"}' >&"$fd"
    exec {fd}>&-
    wait "$pid"
    grep -o '"return": \[{"device".*' "$out.qmp" >"$out.stats"
    # QMP's lines end in CR LF; the monitor's text ends in an escaped one.
    tr -d '\r' <"$out.qmp" | sed -n 's/^{"return": "\(virtio0: .*\)\\r\\n"}$/\1/p' >"$out.hmp"
}

# hv_run OUT GUEST-ARGS DRIVE-OPTS: the same guest under hv with its
# control socket; once it stays, query-blockstats through hvctl and info
# blockstats through hvmon, then quit.
hv_run() {
    local out=$1 app=$2 opts=$3
    "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" -m 32M --control "$out.sock" -kernel "$G" \
        -append "$app" -drive "file=$out.qcow2,format=qcow2,if=virtio$opts" \
        >"$out.console" 2>"$out.err" &
    local pid=$!
    if wait_for "$out.console" '^vblk: staying' "$TIMEOUT"; then
        "$HVCTL" -s "$out.sock" query-blockstats >"$out.stats" 2>&1
        printf 'info blockstats\n' | "$HVMON" "$out.sock" 2>&1 | tr -d '\r' |
            sed 's/^(qemu) //' | grep '^virtio0: ' >"$out.hmp"
        "$HVCTL" -s "$out.sock" quit >/dev/null 2>&1
    fi
    wait "$pid"
}

# one_case NAME GUEST-ARGS DRIVE-OPTS
one_case() {
    local n=$1 app=$2 opts=$3 q h
    q=$W/${n// /-}.qemu h=$W/${n// /-}.hv
    qemu-img create -q -f qcow2 "$q.qcow2" 1M
    qemu-img create -q -f qcow2 "$h.qcow2" 1M
    qemu_run "$q" "$app" "$opts"
    hv_run "$h" "$app" "$opts"
    if [ ! -s "$q.stats" ] || [ ! -s "$q.hmp" ]; then
        fail "$n: query-blockstats as QEMU counts" "QEMU's session gave no counters"
        show_log "$q.console"
        show_log "$q.qmp"
        return
    fi
    if [ ! -s "$h.stats" ] || ! grep -q '"rd_operations": [1-9]' "$h.stats"; then
        fail "$n: query-blockstats as QEMU counts" "hv gave no counters"
        show_log "$h.console"
        show_log "$h.err"
        show_log "$h.stats"
        return
    fi
    if [ "$(counts "$q.stats")" = "$(counts "$h.stats")" ]; then
        pass "$n: query-blockstats as QEMU counts ($(counts "$h.stats" | grep -E '^(rd|wr)_operations' | tr '\n' ' '))"
    else
        fail "$n: query-blockstats as QEMU counts" "the counts differ (QEMU, then hv)"
        diff <(counts "$q.stats") <(counts "$h.stats") | sed 's/^/    /'
    fi
    # Times: present, numbers, in both; idle_time_ns once there was a request.
    if grep -qE '"rd_total_time_ns": [1-9][0-9]*' "$h.stats" && grep -q '"idle_time_ns": [0-9]' "$h.stats"; then
        pass "$n: query-blockstats times, read time and idle time measured"
    else
        fail "$n: query-blockstats times" "want a read time above 0 and an idle time"
        show_log "$h.stats"
    fi
    if [ "$(masked <"$q.hmp")" = "$(masked <"$h.hmp")" ]; then
        pass "$n: info blockstats as QEMU prints it, times masked"
    else
        fail "$n: info blockstats as QEMU prints it" "the lines differ (QEMU, then hv)"
        sed 's/^/    /' "$q.hmp" "$h.hmp"
    fi
}

# stat_of FILE MEMBER: a member of the first disk's stats in a
# query-blockstats reply.
stat_of() {
    grep -o "\"$2\": [0-9]*" "$1" | tail -n 1 | sed 's/.*: //'
}

# legacy_form: virsh domblkstat's lines without the fields only one of
# the two drivers reports (errs; flushes and times), digits masked.
legacy_form() {
    grep -vE ' (errs|error count:|flush_operations|number of flush operations:|[a-z]+_total_times|total duration of [a-z]+ \(ns\):) ' |
        sed -E 's/[0-9]+$/N/'
}

# The front-ends on a domain "test" (the real test driver's domain is
# called so too, with a disk vda) that virsh defines and starts.
frontends() {
    local d=$W/virsh V=$BUILD/mgmt/virsh
    mkdir -p "$d/hv" "$d/real"
    export HVKIT_STATE_DIR=$d/state HVKIT_TOP=$TOP
    qemu-img create -q -f qcow2 "$d/disk.qcow2" 1M
    virsh_test_domain "$G" "sectors=2048 stay" "$d/disk.qcow2" >"$d/hv/test.xml"
    "$V" "define $d/hv/test.xml; start test" >"$d/start" 2>&1
    if ! wait_for "$HVKIT_STATE_DIR/running/test.log" '^vblk: staying' "$TIMEOUT"; then
        fail "virsh domblkstat" "the domain did not come up"
        show_log "$d/start"
        show_log "$HVKIT_STATE_DIR/running/test.log"
        fail "xl top" "the domain did not come up"
        "$V" destroy test >/dev/null 2>&1
        return
    fi
    "$HVCTL" -s "$HVKIT_STATE_DIR/running/test.sock" query-blockstats >"$d/stats" 2>&1
    "$V" "domblkstat test vda; domblkstat test $d/disk.qcow2 --human; domblkstat test" \
        >"$d/out" 2>&1
    local want
    want=$(printf '%s\n' "vda rd_req $(stat_of "$d/stats" rd_operations)" \
        "vda rd_bytes $(stat_of "$d/stats" rd_bytes)" "vda wr_req $(stat_of "$d/stats" wr_operations)" \
        "vda wr_bytes $(stat_of "$d/stats" wr_bytes)" \
        "vda flush_operations $(stat_of "$d/stats" flush_operations)" \
        "vda rd_total_times $(stat_of "$d/stats" rd_total_time_ns)")
    if [ "$(head -6 "$d/out")" = "$want" ] && grep -q '^vda rd_req 130$' "$d/out" &&
        grep -qx " number of write operations:     60" "$d/out" &&
        grep -qx "Device: $d/disk.qcow2" "$d/out" && grep -qx ' wr_bytes 1064960' "$d/out"; then
        pass "virsh domblkstat: hv's counters by target, by file (--human) and summed"
    else
        fail "virsh domblkstat" "want the counters of query-blockstats (130 reads, 60 writes)"
        show_log "$d/out" 30
    fi
    VIRSH=$V REAL_DIR=$d/real HV_DIR=$d/hv
    virsh_same "domblkstat layout" "domblkstat test vda; domblkstat test vda --human" \
        "domblkstat test vda; domblkstat test vda --human" 0 legacy_form cat
    virsh_same "domblkstat errors" "domblkstat test vdb; domblkstat nosuch vda; domblkstat" \
        "domblkstat test vdb; domblkstat nosuch vda; domblkstat" 0 cat cat
    "$TOP/bin/xl" top -b -i 1 >"$d/top" 2>&1
    if grep -Eq "^ +test -----r +[0-9]+ +[0-9.]+ +32768 .* 1 +0 +130 +60 +2089 +2080 +0\$" "$d/top"; then
        pass "xl top: the domain's read and write requests and sectors in the VBD columns"
    else
        fail "xl top" "want VBDS 1, VBD_OO 0, VBD_RD 130, VBD_WR 60, VBD_RSECT 2089, VBD_WSECT 2080"
        show_log "$d/top"
    fi
    "$V" destroy test >/dev/null 2>&1
    virsh_same "domblkstat on a domain that is not running" "destroy test; domblkstat test vda" \
        "domblkstat test vda" 2 cat cat
}

run_case writable one_case "writable disk" "sectors=2048 stay" ""
run_case readonly one_case "read-only disk" "sectors=2048 ro stay" ",readonly=on"
if [ -n "$(real_virsh_missing)" ]; then
    skip "virsh domblkstat" "$(real_virsh_missing)"
    skip "xl top" "$(real_virsh_missing)"
else
    run_case frontends frontends
fi
finish_cases
