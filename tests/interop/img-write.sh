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
    # An 8 KiB random block repeated over 256 KiB: only deflate matches
    # reaching back further than zlib's 4 KiB window can shrink it.
    head -c 8192 /dev/urandom >r8.bin
    for _ in $(seq 32); do cat r8.bin; done >rep.raw
    truncate -s 1M rep.raw
) || { fail "$SUITE" "could not build the fixture"; exit 0; }

# check_ok IMAGE LOG: qemu-img check is clean.  Raw has nothing to check:
# qemu-img says so with status 63, which counts as clean for a raw file.
check_ok() {
    "$QEMU_IMG" check "$1" >"$2" 2>&1
    local st=$?
    if [ $st = 63 ] && grep -q 'does not support checks' "$2" &&
        "$QEMU_IMG" info --output=json "$1" | grep -q '"format": "raw"'; then
        st=0
    fi
    [ $st = 0 ]
}

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
    if ! check_ok "$d/out.img" "$d/check.log"; then
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

# The same bytes every time: compression is parallel, the output must not
# be, whatever the number of threads (-m caps it; by default one per core).
d=$WORK/deterministic
mkdir -p "$d"
cp -a "$FIX/." "$d/"
if (cd "$d" && "$IMGTOOL" convert -c -O qcow2 src.raw a.img && "$IMGTOOL" convert -c -O qcow2 src.raw b.img) &&
    cmp -s "$d/a.img" "$d/b.img"; then
    pass "compress-deterministic"
else
    fail "compress-deterministic" "two runs of convert -c wrote different files"
fi
if (cd "$d" && "$IMGTOOL" convert -c -m 1 -O qcow2 src.raw t1.img &&
    "$IMGTOOL" convert -c -m 2 -O qcow2 src.raw t2.img) && cmp -s "$d/t1.img" "$d/t2.img" &&
    cmp -s "$d/a.img" "$d/t1.img"; then
    pass "compress-threads-1-2"
else
    fail "compress-threads-1-2" "convert -c with 1 and with 2 threads wrote different files"
fi

# Compressed clusters whose deflate matches reach back more than 4 KiB
# (imgtool's deflate may, zlib's with QEMU's window bits -12 never does):
# QEMU reads them back (qemu-img compare, qemu-io read -P of the repeated
# block's first bytes), qemu-img check is clean, and they really are
# compressed (qemu-img itself cannot shrink them).
d=$WORK/long-matches
mkdir -p "$d"
cp -a "$FIX/." "$d/"
if ! (cd "$d" && "$IMGTOOL" convert -c -O qcow2 rep.raw out.img) >"$d/out.log" 2>&1; then
    fail "compress-long-matches" "imgtool convert -c failed"
    indent "$d/out.log"
elif ! "$QEMU_IMG" compare "$d/rep.raw" "$d/out.img" >"$d/cmp.log" 2>&1; then
    fail "compress-long-matches" "qemu-img compare: content differs"
    indent "$d/cmp.log"
elif ! "$QEMU_IMG" check "$d/out.img" >"$d/check.log" 2>&1 ||
    ! grep -q '100.00% compressed clusters' "$d/check.log"; then
    fail "compress-long-matches" "qemu-img check: not clean, or the clusters are not compressed"
    indent "$d/check.log"
elif ! pat=$(od -A n -t u1 -N 1 "$d/r8.bin" | tr -d ' ') ||
    ! "$QEMU_IO" -r -c "read -P $pat 8192 1" -c "read -P $pat 253952 1" "$d/out.img" \
        >"$d/io.log" 2>&1 || grep -q -i 'mismatch\|fail' "$d/io.log"; then
    fail "compress-long-matches" "qemu-io read back the wrong bytes"
    indent "$d/io.log"
else
    pass "compress-long-matches"
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

# Verbs that change images in place.  Each line: "name | shell commands that
# leave out.img (imgtool is $I, qemu-img $Q, qemu-io $QIO) | shell commands
# that leave ref.img, made with qemu-img only" (no '|' inside commands: it
# separates the fields).  out.img must pass qemu-img
# check and compare equal to ref.img.
verb() { # name out-commands ref-commands
    local name=$1 d
    d=$WORK/$name
    rm -rf "$d"
    mkdir -p "$d"
    cp -a "$FIX/." "$d/"
    if ! (cd "$d" && I=$IMGTOOL Q=$QEMU_IMG QIO=$QEMU_IO bash -ec "$2") >"$d/out.log" 2>&1; then
        fail "$name" "the imgtool commands failed"
        indent "$d/out.log"
        return
    fi
    if ! (cd "$d" && Q=$QEMU_IMG QIO=$QEMU_IO bash -ec "$3") >"$d/ref.log" 2>&1; then
        fail "$name" "the qemu-img reference commands failed"
        indent "$d/ref.log"
        return
    fi
    if ! check_ok "$d/out.img" "$d/check.log"; then
        fail "$name" "qemu-img check finds problems in out.img"
        indent "$d/check.log"
        return
    fi
    if ! "$QEMU_IMG" compare "$d/ref.img" "$d/out.img" >"$d/cmp.log" 2>&1; then
        fail "$name" "out.img differs from qemu-img's ref.img"
        indent "$d/cmp.log"
        return
    fi
    pass "$name"
}

table verb <<'CASES'
resize-grow      | cp src.qcow2 out.img; $I resize -q out.img +1M                 | cp src.qcow2 ref.img; $Q resize -q ref.img +1M
resize-shrink    | cp src.qcow2 out.img; $I resize -q --shrink out.img 1M         | cp src.qcow2 ref.img; $Q resize -q --shrink ref.img 1M
resize-raw       | cp src.raw out.img; $I resize -q -f raw out.img 5M             | cp src.raw ref.img; $Q resize -q -f raw ref.img 5M
resize-raw-shrink | cp src.raw out.img; $I resize -q -f raw --shrink out.img 1M   | cp src.raw ref.img; $Q resize -q -f raw --shrink ref.img 1M
resize-prealloc  | cp src.qcow2 out.img; $I resize -q --preallocation=full out.img 6M | cp src.qcow2 ref.img; $Q resize -q --preallocation=full ref.img 6M
resize-prealloc-meta | cp src.qcow2 out.img; $I resize -q --preallocation=metadata out.img 6M | cp src.qcow2 ref.img; $Q resize -q --preallocation=metadata ref.img 6M
resize-raw-falloc | cp src.raw out.img; $I resize -q -f raw --preallocation=falloc out.img 6M | cp src.raw ref.img; $Q resize -q -f raw --preallocation=falloc ref.img 6M
snapshot-apply   | cp src.qcow2 out.img; $I snapshot -c s1 out.img; $QIO -c 'write -P 0xab 0 1M' out.img >/dev/null; $I snapshot -a s1 out.img | cp src.qcow2 ref.img
snapshot-delete  | cp src.qcow2 out.img; $I snapshot -c s1 out.img; $QIO -c 'write -P 0xab 0 1M' out.img >/dev/null; $I snapshot -d s1 out.img; ! grep -q s1 <($Q snapshot -l out.img) | cp src.qcow2 ref.img; $QIO -c 'write -P 0xab 0 1M' ref.img >/dev/null
snapshot-qemu    | cp src.qcow2 out.img; $Q snapshot -c s1 out.img; $QIO -c 'write -P 0xab 0 1M' out.img >/dev/null; $I snapshot -a s1 out.img | cp src.qcow2 ref.img
commit           | $Q create -q -f qcow2 -b base.qcow2 -F qcow2 top.img; $QIO -c 'write -P 0x33 512k 1M' top.img >/dev/null; $Q convert -O raw top.img view.raw; $I commit -q top.img; cp base.qcow2 out.img; $Q compare view.raw top.img >/dev/null | $Q create -q -f qcow2 -b base.qcow2 -F qcow2 t.img; $QIO -c 'write -P 0x33 512k 1M' t.img >/dev/null; $Q convert -O raw t.img ref.img
commit-deep      | $Q create -q -f qcow2 -b base.qcow2 -F qcow2 mid.img; $QIO -c 'write -P 0x44 768k 512k' mid.img >/dev/null; $Q create -q -f qcow2 -b mid.img -F qcow2 top.img; $QIO -c 'write -P 0x55 1M 64k' -c 'write -P 0x66 3M 64k' top.img >/dev/null; $Q convert -O raw top.img view.raw; $I commit -q -b base.qcow2 top.img; cp base.qcow2 out.img | $Q create -q -f qcow2 -b base.qcow2 -F qcow2 m.img; $QIO -c 'write -P 0x44 768k 512k' m.img >/dev/null; $Q create -q -f qcow2 -b m.img -F qcow2 t.img; $QIO -c 'write -P 0x55 1M 64k' -c 'write -P 0x66 3M 64k' t.img >/dev/null; $Q convert -O raw t.img ref.img
rebase-flatten   | $Q create -q -f qcow2 -b base.qcow2 -F qcow2 out.img; $QIO -c 'write -P 0x33 512k 64k' out.img >/dev/null; $I rebase -b '' out.img | $Q create -q -f qcow2 -b base.qcow2 -F qcow2 ref.img; $QIO -c 'write -P 0x33 512k 64k' ref.img >/dev/null; $Q rebase -b '' ref.img
rebase-other     | $Q create -q -f qcow2 -b base.qcow2 -F qcow2 out.img; $QIO -c 'write -P 0x33 512k 64k' out.img >/dev/null; $Q convert -O raw out.img view.raw; $I rebase -b src.qcow2 -F qcow2 out.img; $Q compare view.raw out.img >/dev/null | $Q create -q -f qcow2 -b base.qcow2 -F qcow2 ref.img; $QIO -c 'write -P 0x33 512k 64k' ref.img >/dev/null
rebase-unsafe    | $Q create -q -f qcow2 -b base.qcow2 -F qcow2 out.img; cp base.qcow2 moved.qcow2; $I rebase -u -b moved.qcow2 -F qcow2 out.img; grep -q 'backing file: moved.qcow2' <($Q info out.img) | cp base.qcow2 ref.img
amend-v2         | cp src.qcow2 out.img; $I amend -o compat=0.10 out.img; grep -q 'compat: 0.10' <($Q info out.img) | cp src.qcow2 ref.img
amend-lazy       | cp src.qcow2 out.img; $I amend -o lazy_refcounts=on out.img; grep -q 'lazy refcounts: true' <($Q info out.img) | cp src.qcow2 ref.img
odd-raw-convert  | echo hello >t.txt; $Q convert -O raw t.txt q.raw; $I convert -O raw t.txt out.img; cmp q.raw out.img | echo hello >ref.img
odd-raw-qcow2    | echo hello >t.txt; $Q convert -O qcow2 t.txt q.qcow2; $I convert -O qcow2 t.txt out.img; $Q compare t.txt out.img; $Q compare -s q.qcow2 out.img | echo hello >ref.img
odd-raw-dd       | echo hello >t.txt; $Q dd if=t.txt of=q.raw; $I dd if=t.txt of=out.img; cmp q.raw out.img | echo hello >ref.img
odd-raw-resize   | echo hello >out.img; $I resize -q -f raw out.img 1k | echo hello >ref.img; $Q resize -q -f raw ref.img 1k
dd-qcow2         | $I dd -O qcow2 bs=64k count=20 skip=3 if=src.qcow2 of=out.img | $Q dd -O qcow2 bs=64k count=20 skip=3 if=src.qcow2 of=ref.img
dd-raw           | $I dd bs=4k if=src.qcow2 of=out.img                             | $Q dd bs=4k if=src.qcow2 of=ref.img
multi-source     | $I convert -O qcow2 src.raw base.qcow2 out.img                   | $Q convert -O qcow2 src.raw base.qcow2 ref.img
# --- xz: written by convert to a .xz name, read by every reading command
xz-write-qcow2   | $I convert -O qcow2 src.raw o.qcow2.xz; xz -dc o.qcow2.xz >out.img  | cp src.raw ref.img
xz-write-raw     | $I convert -c -O qcow2 src.qcow2 c.qcow2; $I convert -O raw c.qcow2 o.raw.xz; xz -dc o.raw.xz >out.img | cp src.raw ref.img
# --- xz read back by imgtool: its own output, and files xz itself wrote in
# blocks of 64 KiB, of an odd size (so blocks start inside imgtool's 64 KiB
# read chunks and reads cross block boundaries), and as one block.
xz-read-qcow2    | $I convert -O qcow2 src.raw o.qcow2.xz; $I convert -O qcow2 o.qcow2.xz out.img | cp src.raw ref.img
xz-read-raw      | $I convert -O raw src.qcow2 o.raw.xz; $I convert -O raw o.raw.xz out.img  | cp src.raw ref.img
xz-raw-64k       | xz -k -T2 --block-size=64KiB src.raw; $I convert -O qcow2 src.raw.xz out.img | cp src.raw ref.img
xz-raw-odd       | xz -k -T2 --block-size=100000 src.raw; $I convert -O qcow2 src.raw.xz out.img | cp src.raw ref.img
xz-qcow2-single  | xz -k -T1 src.qcow2; $I convert -O raw src.qcow2.xz out.img; $I compare src.qcow2.xz src.raw | cp src.raw ref.img
xz-qcow2-odd     | xz -k -T2 --block-size=100000 src.qcow2; $I convert -O qcow2 src.qcow2.xz out.img; $I compare src.qcow2.xz src.qcow2 | cp src.raw ref.img
xz-two-streams   | head -c 1000000 src.raw >a.raw; tail -c +1000001 src.raw >b.raw; xz -T1 a.raw; xz -T1 --block-size=70000 b.raw; cat a.raw.xz b.raw.xz >t.raw.xz; $I convert -O raw t.raw.xz out.img | cp src.raw ref.img
CASES

# -p: qemu-img's progress line on stdout: it starts at 0.00, is redrawn in
# place with carriage returns and ends at 100.00 with a newline.  (The
# steps in between depend on each tool's chunk sizes.)
d=$WORK/progress
mkdir -p "$d"
cp -a "$FIX/." "$d/"
for tool in "$QEMU_IMG" "$IMGTOOL"; do
    # One state per line: the \r separators become newlines.
    (cd "$d" && "$tool" convert -p -O qcow2 src.raw p.img | tr '\r' '\n') >"$d/$(basename "$tool").txt"
done
ends() { sed -n '1p' "$1"; tail -n 3 "$1"; }
if [ "$(ends "$d/qemu-img.txt")" = "$(ends "$d/imgtool.txt")" ] &&
    grep -qx '    (0.00/100%)' "$d/imgtool.txt"; then
    pass "progress-format"
else
    fail "progress-format" "the -p line does not start and end like qemu-img's"
    indent "$d/qemu-img.txt" "$d/imgtool.txt"
fi
