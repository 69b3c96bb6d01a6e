#!/usr/bin/env bash
# Crash safety of imgtool's qcow2 writes: kill -9 the CLI in the middle of a
# convert and verify that
#   1. `qemu-img check` finds no corruption (exit 0, or 3 = leaked clusters
#      only, which the qcow2 spec allows after an interrupted allocation);
#   2. no data is torn: every cluster reads either as the source's data or
#      as zeros (not yet written), never as anything else;
#   3. `imgtool check -r leaks` repairs the leaks, after which `qemu-img
#      check` is clean and the data is unchanged.
# The library orders its metadata writes for this (data, then L2 entry,
# then L1 entry; refcounts raised before use, lowered after the last user).
set -uo pipefail
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
IMGTOOL=$BUILD/imgtool/imgtool

if [ ! -x "$IMGTOOL" ]; then
    echo "SKIP: img-crash: $IMGTOOL not built (run make)"
    exit 0
fi
if ! command -v qemu-img >/dev/null || ! command -v python3 >/dev/null; then
    echo "SKIP: img-crash: qemu-img or python3 missing"
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/img-crash.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A 48 MiB source: random data (incompressible), text (compressible) and
# holes, so both the normal and the compressed paths write real clusters.
src=$tmp/src.raw
head -c 16M /dev/urandom >"$src"
yes "hvkit crash test line" | head -c 16M >>"$src"
truncate -s 48M "$src"
dd if=/dev/urandom of="$src" bs=1M count=4 seek=40 conv=notrunc status=none

# verify_data IMAGE CLUSTER [OLD]: python compares the image (as raw) to the
# source cluster by cluster: each cluster must hold the source's data or its
# previous contents (OLD, a raw file; zeros if not given).
verify_data() {
    local img=$1 cs=$2 old=${3:-}
    qemu-img convert -O raw "$img" "$tmp/back.raw" 2>"$tmp/conv.err" || {
        echo "qemu-img cannot read it: $(head -c 300 "$tmp/conv.err")"
        return 1
    }
    python3 - "$src" "$tmp/back.raw" "$cs" "$old" <<'EOF'
import sys
src, back, cs, old = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
zero = bytes(cs)
o = open(old, 'rb') if old else None
with open(src, 'rb') as a, open(back, 'rb') as b:
    i = 0
    while True:
        x, y = a.read(cs), b.read(cs)
        prev = o.read(cs) if o else zero[:len(y)]
        if not x and not y:
            break
        if y != x and y != prev:
            print("cluster %d holds neither the new data nor the previous contents" % i)
            sys.exit(1)
        i += 1
EOF
}

# One case: NAME CLUSTER_SIZE KILL_AT_BYTES CONVERT_ARGS...
# The kill comes once the target file has grown to KILL_AT_BYTES, so it
# lands in the middle of the writes whatever the machine's speed.
crash_case() {
    local name=$1 cs=$2 at=$3
    shift 3
    local dst=$tmp/dst.qcow2 pid st msg
    rm -f "$dst"
    "$IMGTOOL" convert -f raw -O qcow2 -o cluster_size="$cs" "$@" "$src" "$dst" \
        >/dev/null 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null && [ "$(stat -c %s "$dst" 2>/dev/null || echo 0)" -lt "$at" ]; do
        sleep 0.005
    done
    if kill -9 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        msg="killed at $(stat -c %s "$dst") bytes written"
    else
        wait "$pid"
        msg="finished before reaching $at bytes"
    fi
    if [ ! -s "$dst" ]; then
        echo "PASS: img-crash: $name: $msg, before the image existed"
        return
    fi
    qemu-img check "$dst" >"$tmp/check.out" 2>&1
    st=$?
    if [ "$st" -ne 0 ] && [ "$st" -ne 3 ]; then
        echo "FAIL: img-crash: $name: $msg: qemu-img check exit $st: $(grep -m3 -E 'ERROR|error' "$tmp/check.out" | tr '\n' ' ')"
        cp "$dst" "$BUILD/img-crash-failed.qcow2" 2>/dev/null
        return
    fi
    if ! out=$(verify_data "$dst" "$cs"); then
        echo "FAIL: img-crash: $name: $msg: $out"
        return
    fi
    if [ "$st" -eq 3 ]; then
        if ! "$IMGTOOL" check -r leaks "$dst" >"$tmp/repair.out" 2>&1; then
            echo "FAIL: img-crash: $name: $msg: imgtool check -r leaks failed: $(tail -n 3 "$tmp/repair.out" | tr '\n' ' ')"
            return
        fi
        if ! qemu-img check "$dst" >"$tmp/check2.out" 2>&1; then
            echo "FAIL: img-crash: $name: $msg: still not clean after imgtool check -r leaks: $(head -n 3 "$tmp/check2.out" | tr '\n' ' ')"
            return
        fi
        if ! out=$(verify_data "$dst" "$cs"); then
            echo "FAIL: img-crash: $name: $msg: data changed by the repair: $out"
            return
        fi
        msg="$msg, leaks repaired by imgtool check -r leaks"
    fi
    echo "PASS: img-crash: $name: $msg"
}

# Kill points spread over the run; small clusters make metadata updates
# (new L2 tables, refcount blocks, refcount table growth) frequent.
crash_case "64k clusters" 65536 $((4 << 20))
crash_case "64k clusters, later" 65536 $((17 << 20))
crash_case "4k clusters" 4096 $((9 << 20))
crash_case "512-byte clusters" 512 $((3 << 20))
crash_case "512-byte clusters, 1-bit refcounts" 512 $((12 << 20)) -o refcount_bits=1
crash_case "compressed zlib" 65536 $((8 << 20)) -c
crash_case "compressed zstd, 4k clusters" 4096 $((17 << 20)) -c -o compression_type=zstd
crash_case "lazy refcounts" 65536 $((10 << 20)) -o lazy_refcounts=on

# Copy-on-write under a snapshot: overwrite an image that has an internal
# snapshot (convert -n), kill it, and check that the snapshot still reads
# exactly as before and every cluster of the active image is old or new.
snapshot_case() {
    local name=$1 cs=$2 at=$3 pid st msg start
    local dst=$tmp/snap.qcow2 old=$tmp/old.raw
    head -c 48M /dev/urandom >"$old"
    rm -f "$dst"
    qemu-img convert -f raw -O qcow2 -o cluster_size="$cs" "$old" "$dst"
    qemu-img snapshot -c before "$dst"
    start=$(stat -c %s "$dst")
    "$IMGTOOL" convert -n -f raw -O qcow2 "$src" "$dst" >/dev/null 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null && [ "$(stat -c %s "$dst")" -lt $((start + at)) ]; do
        sleep 0.005
    done
    if kill -9 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        msg="killed after $(($(stat -c %s "$dst") - start)) new bytes"
    else
        wait "$pid"
        msg="finished before the kill"
    fi
    qemu-img check "$dst" >"$tmp/check.out" 2>&1
    st=$?
    if [ "$st" -ne 0 ] && [ "$st" -ne 3 ]; then
        echo "FAIL: img-crash: $name: $msg: qemu-img check exit $st: $(grep -m3 -E 'ERROR|error' "$tmp/check.out" | tr '\n' ' ')"
        return
    fi
    if ! qemu-img convert -l before -O raw "$dst" "$tmp/snap.raw" || ! cmp -s "$tmp/snap.raw" "$old"; then
        echo "FAIL: img-crash: $name: $msg: the snapshot's contents changed"
        return
    fi
    if ! out=$(verify_data "$dst" "$cs" "$old"); then
        echo "FAIL: img-crash: $name: $msg: $out"
        return
    fi
    if [ "$st" -eq 3 ]; then
        "$IMGTOOL" check -r leaks "$dst" >/dev/null 2>&1
        if ! qemu-img check "$dst" >/dev/null 2>&1; then
            echo "FAIL: img-crash: $name: $msg: not clean after imgtool check -r leaks"
            return
        fi
        msg="$msg, leaks repaired"
    fi
    echo "PASS: img-crash: $name: $msg"
}

snapshot_case "overwrite under a snapshot, 64k clusters" 65536 $((12 << 20))
snapshot_case "overwrite under a snapshot, 4k clusters" 4096 $((6 << 20))
