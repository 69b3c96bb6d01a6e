#!/usr/bin/env bash
# Images written by imgtool pass qemu-img check and compare equal to their
# source under qemu-img compare.
#
# Each table line is one case: "name | imgtool command line | the image
# qemu-img must find equal to out.img ('-' for none)".  The commands run in
# a directory holding src.raw and src.qcow2 (same content: data, zeros,
# holes, compressible and incompressible clusters) and base.qcow2; the
# result must be out.img.  qemu-img check must exit 0 on out.img.
. "$(dirname "$0")/img-common.bash"
need_tools

FIX=$WORK/fixture
mkdir -p "$FIX"
(
    cd "$FIX" || exit 1
    "$QEMU_IMG" create -q -f qcow2 src.qcow2 4M
    # Incompressible data (so clusters that do not shrink are stored
    # plainly), compressible text, a partial cluster, zeros, the last byte.
    head -c 196608 /dev/urandom >rand.bin
    yes 'hvkit imgtool interop' | head -c 300000 >text.bin
    "$QEMU_IO" -c 'write -P 0x11 0 64k' -c 'write -P 0x22 200k 3000' \
        -c 'write -z 2M 128k' -c 'write -P 0x55 4194303 1' src.qcow2 >/dev/null
    
    "$QEMU_IMG" convert -O raw src.qcow2 src.raw
    dd if=rand.bin of=src.raw bs=64k seek=8 conv=notrunc status=none
    dd if=text.bin of=src.raw bs=64k seek=32 conv=notrunc status=none
    rm -f src.qcow2
    "$QEMU_IMG" convert -O qcow2 src.raw src.qcow2
    "$QEMU_IMG" create -q -f qcow2 base.qcow2 4M
    "$QEMU_IO" -c 'write -P 0x99 0 1M' base.qcow2 >/dev/null
) || { fail "$SUITE" "could not build the fixture"; exit 0; }

run() { # name cmdline reference
    local name=$1 d ref=$3
    d=$WORK/$name
    rm -rf "$d"
    mkdir -p "$d"
    cp -a "$FIX/." "$d/"
    # shellcheck disable=SC2086
    if ! (cd "$d" && "$IMGTOOL" $2 >"$d/out.log" 2>&1); then
        fail "$name" "imgtool $2 failed"
        indent "$d/out.log"
        return
    fi
    # Raw has nothing to check: qemu-img says so with status 63.
    "$QEMU_IMG" check "$d/out.img" >"$d/check.log" 2>&1
    local st=$?
    if [ $st = 63 ] && grep -q 'does not support checks' "$d/check.log" &&
        [ "$("$QEMU_IMG" info --output=json "$d/out.img" | grep -c '"format": "raw"')" = 1 ]; then
        st=0
    fi
    if [ $st != 0 ]; then
        fail "$name" "qemu-img check finds problems in the image imgtool wrote"
        indent "$d/check.log"
        return
    fi
    if [ "$ref" != - ] && ! (cd "$d" && "$QEMU_IMG" compare $ref out.img >"$d/cmp.log" 2>&1); then
        fail "$name" "qemu-img compare $ref out.img: the content differs"
        indent "$d/cmp.log"
        return
    fi
    pass "$name"
}

table run <<'CASES'
# --- create
create-raw             | create -q -f raw out.img 3M                                        | -
create-qcow2           | create -q -f qcow2 out.img 3M                                      | -
create-v2              | create -q -f qcow2 -o compat=0.10 out.img 3M                       | -
create-512             | create -q -f qcow2 -o cluster_size=512 out.img 3M                  | -
create-2M              | create -q -f qcow2 -o cluster_size=2M out.img 3M                   | -
create-refcount-1      | create -q -f qcow2 -o refcount_bits=1 out.img 3M                   | -
create-refcount-64     | create -q -f qcow2 -o refcount_bits=64 out.img 3M                  | -
create-lazy            | create -q -f qcow2 -o lazy_refcounts=on out.img 3M                 | -
create-extl2           | create -q -f qcow2 -o extended_l2=on out.img 3M                    | -
create-zstd            | create -q -f qcow2 -o compression_type=zstd out.img 3M             | -
create-prealloc-meta   | create -q -f qcow2 -o preallocation=metadata out.img 3M            | -
create-prealloc-full   | create -q -f qcow2 -o preallocation=full out.img 3M                | -
create-prealloc-falloc | create -q -f raw -o preallocation=falloc out.img 3M                | -
create-backing         | create -q -f qcow2 -b base.qcow2 -F qcow2 out.img                  | base.qcow2
# --- convert
raw-to-qcow2           | convert -O qcow2 src.raw out.img                                   | src.raw
qcow2-to-raw           | convert -O raw src.qcow2 out.img                                   | src.qcow2
qcow2-to-qcow2         | convert -O qcow2 src.qcow2 out.img                                 | src.qcow2
to-v2                  | convert -O qcow2 -o compat=0.10 src.raw out.img                    | src.raw
to-512                 | convert -O qcow2 -o cluster_size=512 src.raw out.img               | src.raw
to-2M                  | convert -O qcow2 -o cluster_size=2M src.raw out.img                | src.raw
to-refcount-1          | convert -O qcow2 -o refcount_bits=1 src.raw out.img                | src.raw
to-refcount-64         | convert -O qcow2 -o refcount_bits=64 src.raw out.img               | src.raw
to-extl2               | convert -O qcow2 -o extended_l2=on src.raw out.img                 | src.raw
to-lazy                | convert -O qcow2 -o lazy_refcounts=on src.raw out.img              | src.raw
no-sparse              | convert -S 0 -O qcow2 src.raw out.img                              | src.raw
compress-zlib          | convert -c -O qcow2 src.raw out.img                                | src.raw
compress-zstd          | convert -c -O qcow2 -o compression_type=zstd src.raw out.img       | src.raw
compress-4k            | convert -c -O qcow2 -o cluster_size=4k src.raw out.img             | src.raw
compress-v2            | convert -c -O qcow2 -o compat=0.10 src.raw out.img                 | src.raw
compress-progress      | convert -p -c -O qcow2 src.qcow2 out.img                           | src.qcow2
with-backing           | convert -O qcow2 -B base.qcow2 -F qcow2 src.raw out.img            | src.raw
CASES

# The same bytes every time: compression is parallel, the output must not be.
d=$WORK/deterministic
mkdir -p "$d"
cp -a "$FIX/." "$d/"
if (cd "$d" && "$IMGTOOL" convert -c -O qcow2 src.raw a.img && "$IMGTOOL" convert -c -O qcow2 src.raw b.img) &&
    cmp -s "$d/a.img" "$d/b.img"; then
    pass "compress-deterministic"
else
    fail "compress-deterministic" "two runs of convert -c wrote different files"
fi

# Exit statuses of check and compare on images imgtool wrote.
d=$WORK/status
mkdir -p "$d"
cp -a "$FIX/." "$d/"
(cd "$d" && "$IMGTOOL" convert -O qcow2 src.raw a.img >/dev/null 2>&1)
"$IMGTOOL" compare "$d/a.img" "$d/src.raw" >/dev/null 2>&1; ri=$?
"$QEMU_IMG" compare "$d/a.img" "$d/src.raw" >/dev/null 2>&1; rq=$?
if [ "$ri" = 0 ] && [ "$rq" = 0 ]; then pass "compare-identical-status"; else fail "compare-identical-status" "imgtool $ri, qemu-img $rq (want 0)"; fi
"$QEMU_IO" -c 'write -P 0xee 1M 512' "$d/a.img" >/dev/null
"$IMGTOOL" compare "$d/a.img" "$d/src.raw" >/dev/null 2>&1; ri=$?
"$QEMU_IMG" compare "$d/a.img" "$d/src.raw" >/dev/null 2>&1; rq=$?
if [ "$ri" = 1 ] && [ "$rq" = 1 ]; then pass "compare-differ-status"; else fail "compare-differ-status" "imgtool $ri, qemu-img $rq (want 1)"; fi
