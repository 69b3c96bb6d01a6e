#!/usr/bin/env bash
# Persistent dirty bitmaps (qemu-img bitmap, bitmaps in info, measure,
# check, and the bits every write sets), against qemu-img 7.2.
#
# The bits themselves are read with QEMU's own code: qemu-nbd exports the
# image with the bitmap (-B), and qemu-img map of that export through the
# "x-dirty-bitmap" option shows the dirty areas as "data": false.  So
# every case below compares what QEMU reads from the file imgtool wrote
# with what it reads from the file qemu-img wrote, and qemu-img check must
# find both clean.
. "$(dirname "$0")/img-common.bash"
need_tools
command -v qemu-nbd >/dev/null || {
    skip "$SUITE" "qemu-nbd not installed (mk/deps.sh test)"
    exit 0
}

# dirty IMAGE BITMAP: the dirty areas of BITMAP, one "start length" line each.
dirty() {
    local sock p
    sock=$(mktemp -u "$WORK/nbd.XXXXXX")
    qemu-nbd -r -t -k "$sock" -f qcow2 -B "$2" "$1" 2>"$sock.log" &
    p=$!
    for _ in $(seq 100); do
        [ -S "$sock" ] && break
        sleep 0.1
    done
    "$QEMU_IMG" map --output=json --image-opts \
        "driver=nbd,server.type=unix,server.path=$sock,x-dirty-bitmap=qemu:dirty-bitmap:$2" |
        sed -n 's/.*"start": \([0-9]*\), "length": \([0-9]*\),.*"data": false.*/\1 \2/p'
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    rm -f "$sock" "$sock.log"
}

# same_state NAME IMG_Q IMG_I BITMAP...: both images pass qemu-img check,
# info (but the file name and disk size) is the same, and so are the dirty
# areas of each bitmap named.
same_state() {
    local name=$1 q=$2 i=$3 bm ok=1
    shift 3
    if ! "$QEMU_IMG" check "$i" >"$WORK/$name.check" 2>&1; then
        fail "$name" "qemu-img check finds problems in imgtool's image"
        indent "$WORK/$name.check"
        return
    fi
    if ! diff <("$QEMU_IMG" info --output=json "$q" | grep -v '"filename"\|"actual-size"') \
        <("$QEMU_IMG" info --output=json "$i" | grep -v '"filename"\|"actual-size"') \
        >"$WORK/$name.info"; then
        fail "$name" "qemu-img info differs (- qemu-img's image, + imgtool's)"
        indent "$WORK/$name.info"
        return
    fi
    for bm in "$@"; do
        if ! diff <(dirty "$q" "$bm") <(dirty "$i" "$bm") >"$WORK/$name.bits"; then
            ok=0
            fail "$name" "bitmap $bm: dirty areas differ (- qemu-img, + imgtool)"
            indent "$WORK/$name.bits"
        fi
    done
    [ $ok = 1 ] && pass "$name"
}

# be FILE OFFSET LEN: the big-endian number at OFFSET.
be() {
    od -A n -t u1 -j "$2" -N "$3" "$1" |
        awk '{ for (i = 1; i <= NF; i++) v = v * 256 + $i } END { printf "%d", v }'
}

# bitmap_dir FILE: the offset of the bitmap directory: walk the header
# extensions (spec, "Header extensions") to the bitmaps extension, whose
# directory offset is at byte 16 of its data.
bitmap_dir() {
    local f=$1 pos type len
    pos=$(be "$f" 100 4)
    while :; do
        type=$(be "$f" "$pos" 4)
        len=$(be "$f" $((pos + 4)) 4)
        [ "$type" = 0 ] && return 1
        [ "$type" = $((0x23852875)) ] && break
        pos=$((pos + 8 + (len + 7) / 8 * 8))
    done
    be "$f" $((pos + 8 + 16)) 8
}

# set_in_use FILE: flag the first bitmap "in use" (flags auto + in-use), as
# a QEMU killed while the image was open leaves it; the flags are bytes
# 12-15 of the directory entry (spec, "Bitmap directory").
set_in_use() {
    local dir
    dir=$(bitmap_dir "$1") || return 1
    printf '\003' | dd of="$1" bs=1 seek=$((dir + 15)) conv=notrunc status=none
}

# damage_table FILE: set reserved bit 1 in the first entry of the first
# bitmap's table (its offset is bytes 0-7 of the directory entry).
damage_table() {
    local dir tb
    dir=$(bitmap_dir "$1") || return 1
    tb=$(be "$1" "$dir" 8)
    printf '\002' | dd of="$1" bs=1 seek=$((tb + 7)) conv=notrunc status=none
}

# A 16 MiB image with two bitmaps made and dirtied by QEMU: b0 (enabled,
# 64 KiB) saw two writes, b1 (disabled, 128 KiB) none; then b2 (4 KiB).
FIX=$WORK/fixture
mkdir -p "$FIX"
(
    cd "$FIX" || exit 1
    "$QEMU_IMG" create -q -f qcow2 a.qcow2 16M &&
        "$QEMU_IMG" bitmap --add a.qcow2 b0 &&
        "$QEMU_IMG" bitmap --add -g 128k --disable a.qcow2 b1 &&
        "$QEMU_IO" -c 'write 1M 64k' -c 'write 9M 1k' a.qcow2 >/dev/null &&
        "$QEMU_IMG" bitmap --add -g 4k a.qcow2 b2 &&
        "$QEMU_IO" -c 'write 12M 5k' a.qcow2 >/dev/null &&
        "$QEMU_IMG" create -q -f qcow2 plain.qcow2 16M &&
        "$QEMU_IMG" create -q -f qcow2 -o compat=0.10 v2.qcow2 16M &&
        "$QEMU_IMG" create -q -f raw r.raw 16M &&
        cp a.qcow2 inuse.qcow2 && set_in_use inuse.qcow2 &&
        cp a.qcow2 badtable.qcow2 && damage_table badtable.qcow2 &&
        cp badtable.qcow2 badinuse.qcow2 && set_in_use badinuse.qcow2 &&
        cp a.qcow2 stale.qcow2 &&
        printf '\000' | dd of=stale.qcow2 bs=1 seek=95 conv=notrunc status=none
) || {
    fail "$SUITE" "could not build the fixture"
    exit 0
}

# --- reading what QEMU wrote: info, check, measure byte for byte.
rd() { # name args...
    local name=$1 d
    shift
    d=$(case_dir "$name")
    cp -a "$FIX/." "$d/q/"
    cp -a "$FIX/." "$d/i/"
    twin "$name" "$d" "$@"
}
rd info-human info a.qcow2
rd info-json info --output=json a.qcow2
rd check check a.qcow2
rd check-json check --output=json a.qcow2
rd measure measure -O qcow2 a.qcow2
rd measure-4k measure -O qcow2 -o cluster_size=4k a.qcow2
rd measure-json measure --output=json -O qcow2 a.qcow2
rd measure-v2 measure -O qcow2 -o compat=0.10 a.qcow2
# b0 "in use" (inconsistent): shown so, counted by check
rd inuse-info info inuse.qcow2
rd inuse-info-json info --output=json inuse.qcow2
rd inuse-check check inuse.qcow2
# a bitmap table entry with a reserved bit: QEMU reads the tables of
# consistent bitmaps at open and refuses the image; in an inconsistent
# bitmap it is a corruption for check (and its data cluster a leak)
rd badtable-info info badtable.qcow2
rd badtable-check check badtable.qcow2
rd badinuse-check check badinuse.qcow2
rd badinuse-check-json check --output=json badinuse.qcow2
# stale bitmaps (autoclear bit 0 cleared by a program that did not know
# them): a warning, leaked clusters, and check -r leaks drops the
# extension and frees them, leaving the same file as qemu-img
rd stale-info info stale.qcow2
rd stale-check check stale.qcow2
if rd stale-repair check -r leaks stale.qcow2; then
    if cmp -s "$WORK/stale-repair/q/stale.qcow2" "$WORK/stale-repair/i/stale.qcow2"; then
        pass stale-repair/same-file
    else
        fail stale-repair/same-file "the repaired files differ"
    fi
fi

# --- the bitmap command: messages and statuses, then the images.
cmd() { # name | imgtool/qemu-img arguments (split on spaces)
    local name=$1 d
    d=$(case_dir "$name")
    cp -a "$FIX/." "$d/q/"
    cp -a "$FIX/." "$d/i/"
    # shellcheck disable=SC2086  # the arguments are split on purpose
    twin "$name" "$d" $2 || return
    if [ -n "${3:-}" ]; then
        # shellcheck disable=SC2086
        same_state "$name/state" "$d/q/$3" "$d/i/$3" $4
    fi
}
table cmd <<'CASES'
no-action        | bitmap a.qcow2 b0
no-names         | bitmap --add a.qcow2
gran-without-add | bitmap -g 64k --remove a.qcow2 b0
F-without-b      | bitmap --merge b0 -F qcow2 a.qcow2 b1
b-without-merge  | bitmap --add -b plain.qcow2 a.qcow2 x
bad-gran         | bitmap --add -g 3000 a.qcow2 x
small-gran       | bitmap --add -g 256 a.qcow2 x
empty-name       | bitmap --add a.qcow2 ""
exists           | bitmap --add a.qcow2 b0
remove-missing   | bitmap --remove a.qcow2 nope
clear-missing    | bitmap --clear a.qcow2 nope
enable-missing   | bitmap --enable a.qcow2 nope
merge-missing    | bitmap --merge nope a.qcow2 b0
merge-into-miss  | bitmap --merge b0 a.qcow2 nope
no-file          | bitmap --add nofile.qcow2 b0
add              | bitmap --add plain.qcow2 n0                          | plain.qcow2 | n0
add-4k           | bitmap --add -g 4k plain.qcow2 n0                    | plain.qcow2 | n0
add-disabled     | bitmap --add --disable -g 1M plain.qcow2 n0          | plain.qcow2 | n0
add-to-existing  | bitmap --add a.qcow2 n0                              | a.qcow2     | b0 b1 b2 n0
add-then-fail    | bitmap --add --add plain.qcow2 n0                    | plain.qcow2 | n0
remove           | bitmap --remove a.qcow2 b1                           | a.qcow2     | b0 b2
remove-all       | bitmap --remove --add --remove a.qcow2 b0            | a.qcow2     | b1 b2
clear            | bitmap --clear a.qcow2 b0                            | a.qcow2     | b0 b1 b2
disable          | bitmap --disable a.qcow2 b0                          | a.qcow2     | b0 b1 b2
enable           | bitmap --enable a.qcow2 b1                           | a.qcow2     | b0 b1 b2
merge            | bitmap --merge b0 a.qcow2 b1                         | a.qcow2     | b0 b1 b2
merge-finer      | bitmap --merge b1 --merge b0 a.qcow2 b2              | a.qcow2     | b0 b1 b2
merge-from-file  | bitmap --add --merge b2 -b a.qcow2 -F qcow2 plain.qcow2 n0 | plain.qcow2 | n0
merge-no-target  | bitmap --merge b2 -b a.qcow2 plain.qcow2 b2
# an inconsistent bitmap can only be removed, or skipped by convert
inuse-clear      | bitmap --clear inuse.qcow2 b0
inuse-enable     | bitmap --disable inuse.qcow2 b0
inuse-merge-from | bitmap --merge b0 inuse.qcow2 b1
inuse-merge-into | bitmap --merge b1 inuse.qcow2 b0
inuse-remove     | bitmap --remove inuse.qcow2 b0                       | inuse.qcow2 | b1 b2
inuse-others     | bitmap --clear inuse.qcow2 b2                        | inuse.qcow2 | b1 b2
inuse-convert    | convert --bitmaps -O qcow2 inuse.qcow2 out.qcow2
inuse-skip       | convert --bitmaps --skip-broken-bitmaps -O qcow2 inuse.qcow2 out.qcow2 | out.qcow2 | b1 b2
# convert --bitmaps copies them after the data (in imgtool the refused
# cases create no target; qemu-img leaves one, so only messages count)
convert          | convert --bitmaps -O qcow2 a.qcow2 out.qcow2          | out.qcow2   | b0 b1 b2
convert-4k       | convert --bitmaps -O qcow2 -o cluster_size=4k a.qcow2 out.qcow2 | out.qcow2 | b0 b1 b2
convert-c        | convert -c --bitmaps -O qcow2 a.qcow2 out.qcow2       | out.qcow2   | b0 b1 b2
convert-n        | convert -n --bitmaps -O qcow2 a.qcow2 plain.qcow2     | plain.qcow2 | b0 b1 b2
convert-to-raw   | convert --bitmaps -O raw a.qcow2 out.raw
convert-to-v2    | convert --bitmaps -O qcow2 -o compat=0.10 a.qcow2 out.qcow2
convert-from-raw | convert --bitmaps -f raw -O qcow2 r.raw out.qcow2
convert-two      | convert --bitmaps -O qcow2 a.qcow2 plain.qcow2 out.qcow2
CASES

# Messages that name QEMU's internal node ("#block123"), which imgtool
# replaces by the file name: compared with that one difference.
named() { # name file args...
    local name=$1 file=$2 d
    shift 2
    d=$(case_dir "$name")
    cp -a "$FIX/." "$d/q/"
    cp -a "$FIX/." "$d/i/"
    (cd "$d/q" && "$QEMU_IMG" "$@" >/dev/null 2>"$d/q.err")
    local rq=$?
    (cd "$d/i" && "$IMGTOOL" "$@" >/dev/null 2>"$d/i.err")
    local ri=$?
    sed -i -e 's/qemu-img/imgtool/g' -e "s/#block[0-9]*/$file/" "$d/q.err"
    if [ $rq = $ri ] && cmp -s "$d/q.err" "$d/i.err"; then
        pass "$name"
    else
        fail "$name" "status $ri (qemu-img $rq), or stderr differs"
        diff "$d/q.err" "$d/i.err" | indent
    fi
}
named v2-image v2.qcow2 bitmap --add v2.qcow2 b0
named raw-image r.raw bitmap --add -f raw r.raw b0

# --- every write through imgtool sets the bits of the enabled bitmaps.
# commit: the base has the bitmaps, the overlay two writes.
d=$WORK/commit
rm -rf "$d"
mkdir -p "$d"
for t in q i; do
    cp "$FIX/a.qcow2" "$d/base-$t.qcow2"
    "$QEMU_IMG" create -q -f qcow2 -b "base-$t.qcow2" -F qcow2 "$d/top-$t.qcow2"
    "$QEMU_IO" -c 'write 3M 64k' -c 'write 14M 1k' "$d/top-$t.qcow2" >/dev/null
done
(cd "$d" && "$QEMU_IMG" commit -q top-q.qcow2 && "$IMGTOOL" commit -q top-i.qcow2)
same_state commit-sets-bits "$d/base-q.qcow2" "$d/base-i.qcow2" b0 b1 b2

# resize: the bitmaps follow the new size (grow, then shrink).
d=$WORK/resize
rm -rf "$d"
mkdir -p "$d"
cp "$FIX/a.qcow2" "$d/q.qcow2"
cp "$FIX/a.qcow2" "$d/i.qcow2"
"$QEMU_IMG" resize -q "$d/q.qcow2" 40G
"$IMGTOOL" resize -q "$d/i.qcow2" 40G
same_state resize-grow "$d/q.qcow2" "$d/i.qcow2" b0 b1 b2
"$QEMU_IMG" resize -q --shrink "$d/q.qcow2" 10M
"$IMGTOOL" resize -q --shrink "$d/i.qcow2" 10M
same_state resize-shrink "$d/q.qcow2" "$d/i.qcow2" b0 b1 b2

# Bitmaps imgtool made are kept by QEMU's writes (qemu-io dirties them).
d=$WORK/qemu-writes
rm -rf "$d"
mkdir -p "$d"
cp "$FIX/plain.qcow2" "$d/q.qcow2"
cp "$FIX/plain.qcow2" "$d/i.qcow2"
"$QEMU_IMG" bitmap --add "$d/q.qcow2" n0
"$QEMU_IMG" bitmap --add -g 1M --disable "$d/q.qcow2" n1
"$IMGTOOL" bitmap --add "$d/i.qcow2" n0
"$IMGTOOL" bitmap --add -g 1M --disable "$d/i.qcow2" n1
for t in q i; do
    "$QEMU_IO" -c 'write 2M 128k' -c 'write 15M 512' "$d/$t.qcow2" >/dev/null
done
"$QEMU_IMG" bitmap --merge n0 "$d/q.qcow2" n1
"$IMGTOOL" bitmap --merge n0 "$d/i.qcow2" n1
same_state qemu-io-dirties-imgtool-bitmaps "$d/q.qcow2" "$d/i.qcow2" n0 n1
