#!/usr/bin/env bash
# imgtool convert's cache modes, as qemu-img's: the target is written with
# cache=unsafe unless -t says otherwise, so a default convert never asks the
# kernel to sync (no fsync/fdatasync), while -t writeback or -t none does
# flush at the end.  Counted with strace; the image must be the same either
# way.
set -uo pipefail
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
IMGTOOL=$BUILD/imgtool/imgtool

if [ ! -x "$IMGTOOL" ]; then
    echo "SKIP: img-cache: $IMGTOOL not built (run make)"
    exit 0
fi
if ! command -v strace >/dev/null || ! strace -o /dev/null true 2>/dev/null; then
    echo "SKIP: img-cache: strace missing or not permitted here"
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/img-cache.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
head -c 1M /dev/urandom >"$tmp/src.raw"
head -c 1M /dev/zero >>"$tmp/src.raw"

syncs() { # name convert-options...: number of sync calls of one convert
    local name=$1
    shift
    rm -f "$tmp/$name.qcow2"
    strace -f -o "$tmp/$name.trace" -e trace=fsync,fdatasync,sync_file_range,syncfs \
        "$IMGTOOL" convert "$@" -O qcow2 "$tmp/src.raw" "$tmp/$name.qcow2" >/dev/null 2>&1 || {
        echo -1
        return
    }
    grep -cE '^[0-9]+ +(fsync|fdatasync|sync_file_range|syncfs)\(' "$tmp/$name.trace"
}

for mode in default unsafe; do
    opt=()
    [ $mode = unsafe ] && opt=(-t unsafe)
    n=$(syncs "$mode" "${opt[@]}")
    if [ "$n" = 0 ] && "$IMGTOOL" compare -q "$tmp/$mode.qcow2" "$tmp/src.raw"; then
        echo "PASS: img-cache/$mode-no-sync"
    else
        echo "FAIL: img-cache/$mode-no-sync: $n sync calls (want 0) or wrong content"
    fi
done
for mode in writeback none; do
    n=$(syncs "$mode" -t "$mode")
    if [ "$n" -gt 0 ]; then
        echo "PASS: img-cache/$mode-syncs"
    else
        echo "FAIL: img-cache/$mode-syncs: no sync call with -t $mode"
    fi
done
