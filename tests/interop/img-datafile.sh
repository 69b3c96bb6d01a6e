#!/usr/bin/env bash
# External data files (qcow2 v3 "External data file" and "Raw external
# data" features, options data_file and data_file_raw) against qemu-img and
# qemu-io 7.2.
#
#  1. create: the image and the data file byte for byte as qemu-img makes
#     them, the same messages for what it refuses, and nothing left behind
#     by a refused create;
#  2. images qemu-img and qemu-io made: info, check, map, compare, convert
#     and dd print what qemu-img prints;
#  3. commands that write (amend, resize, snapshot, convert -n, commit,
#     rebase): the same output, and the same files afterwards, or where
#     the layout may differ, the same guest data (qemu-img compare) and a
#     clean qemu-img check;
#  4. images imgtool writes are read back by qemu-io and qemu-img; a raw
#     data file stays equal to the disk;
#  5. the data file's name is used relative to the current directory, as
#     qemu-img 7.2 does.
. "$(dirname "$0")/img-common.bash"
need_tools

# Fixtures, made by qemu-img and qemu-io only.
setup() { # DIR
    (
        cd "$1" || exit 1
        # Data, a zero cluster, an unaligned write; a cluster of its own
        # at guest offset 0 (L2 entry "offset 0 with bit 63").
        "$QEMU_IMG" create -q -f qcow2 -o data_file=x.raw x.qcow2 4M
        "$QEMU_IO" -c 'write -P 0x11 0 100k' -c 'write -P 0x22 1M 64k' -c 'write -z 2M 64k' \
            -c 'write -P 0x33 3M 5k' x.qcow2 >/dev/null
        # Raw data file: every cluster mapped, zeros written through.
        "$QEMU_IMG" create -q -f qcow2 -o data_file=r.raw,data_file_raw=on r.qcow2 4M
        "$QEMU_IO" -c 'write -P 0x44 0 4M' -c 'write -z 64k 64k' r.qcow2 >/dev/null
        # Extended L2 with a data file.
        "$QEMU_IMG" create -q -f qcow2 -o data_file=e.raw,extended_l2=on e.qcow2 4M
        "$QEMU_IO" -c 'write -P 0x55 4k 8k' -c 'write -P 0x56 1M 100k' e.qcow2 >/dev/null
        # A backing chain: a data-file base, a plain top with partial
        # clusters and a zero cluster, a data-file overlay.
        "$QEMU_IMG" create -q -f qcow2 -o data_file=b.raw base.qcow2 2M
        "$QEMU_IO" -c 'write -P 1 0 2M' base.qcow2 >/dev/null
        "$QEMU_IMG" create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2
        "$QEMU_IO" -c 'write -P 2 4k 1k' -c 'write -P 3 100k 70k' top.qcow2 >/dev/null
        "$QEMU_IMG" create -q -f qcow2 -o data_file=ov.raw -b base.qcow2 -F qcow2 ov.qcow2
        "$QEMU_IO" -c 'write -P 4 8k 1k' -c 'write -P 5 300k 10k' ov.qcow2 >/dev/null
        "$QEMU_IMG" create -q -f qcow2 other.qcow2 2M
        "$QEMU_IO" -c 'write -P 9 0 1M' other.qcow2 >/dev/null
        # A plain image, and a raw source with data and zeros.
        "$QEMU_IMG" create -q -f qcow2 p.qcow2 4M
        "$QEMU_IO" -c 'write -P 6 64k 64k' p.qcow2 >/dev/null
        head -c 1M /dev/urandom >s.raw
        head -c 1M /dev/zero >>s.raw
        head -c 70k /dev/urandom >>s.raw
        # Names: the data file is missing, or named nowhere.
        "$QEMU_IMG" create -q -f qcow2 -o data_file=gone.raw gone.qcow2 1M
        rm gone.raw
        "$QEMU_IMG" create -q -f qcow2 -o data_file=n.raw noname.qcow2 1M
        "$QEMU_IMG" amend -o data_file= noname.qcow2
        # An image in a subdirectory whose data file name is relative.
        mkdir sub
        "$QEMU_IMG" create -q -f qcow2 -o data_file=sd.raw sub/s.qcow2 1M
        "$QEMU_IO" -c 'write -P 7 0 64k' sub/s.qcow2 >/dev/null
    )
}
fixtures setup

# run NAME CMDLINE: output and status as qemu-img's.
run() {
    local d
    d=$(prepare "$1")
    # shellcheck disable=SC2086  # the table's command line is split on purpose
    twin "$1" "$d" ${2:-}
}

# same NAME CMDLINE: output and status as qemu-img's, and afterwards every
# file in the two directories byte for byte the same (images, data files,
# and nothing created by one tool only).
same() {
    local d
    d=$(prepare "$1")
    # shellcheck disable=SC2086
    twin "$1-out" "$d" ${2:-} || return
    rm -f "$d"/q/*.out "$d"/q/*.err
    if diff -r "$d/q" "$d/i" >"$d/files.diff" 2>&1; then
        pass "$1-files"
    else
        fail "$1-files" "files differ from qemu-img's"
        indent "$d/files.diff"
    fi
}

# --- 1. create ---------------------------------------------------------------
table same <<'CASES'
create-plain        | create -f qcow2 -o data_file=d.raw n.qcow2 3M
create-raw          | create -f qcow2 -o data_file=d.raw,data_file_raw=on n.qcow2 3M
create-raw-off      | create -f qcow2 -o data_file=d.raw,data_file_raw=off n.qcow2 3M
create-metadata     | create -f qcow2 -o data_file=d.raw,preallocation=metadata n.qcow2 3M
create-falloc       | create -f qcow2 -o data_file=d.raw,preallocation=falloc n.qcow2 3M
create-full         | create -f qcow2 -o data_file=d.raw,preallocation=full n.qcow2 3M
create-raw-full     | create -f qcow2 -o data_file=d.raw,data_file_raw=on,preallocation=full n.qcow2 3M
create-extl2        | create -f qcow2 -o data_file=d.raw,extended_l2=on n.qcow2 3M
create-4k           | create -f qcow2 -o data_file=d.raw,cluster_size=4k n.qcow2 3M
create-512          | create -f qcow2 -o data_file=d.raw,cluster_size=512 n.qcow2 300k
create-backing      | create -f qcow2 -o data_file=d.raw -b base.qcow2 -F qcow2 n.qcow2
create-lazy         | create -f qcow2 -o data_file=d.raw,lazy_refcounts=on n.qcow2 3M
create-existing     | create -f qcow2 -o data_file=s.raw n.qcow2 3M
create-odd-size     | create -f qcow2 -o data_file=d.raw n.qcow2 1234
# refused: nothing may be left behind (the file comparison sees it)
create-v2           | create -f qcow2 -o data_file=d.raw,compat=0.10 n.qcow2 3M
create-raw-alone    | create -f qcow2 -o data_file_raw=on n.qcow2 3M
create-raw-backing  | create -f qcow2 -o data_file=d.raw,data_file_raw=on -b base.qcow2 -F qcow2 n.qcow2
create-bad-bool     | create -f qcow2 -o data_file=d.raw,data_file_raw=maybe n.qcow2 3M
create-no-dir       | create -f qcow2 -o data_file=nodir/d.raw n.qcow2 3M
create-empty-name   | create -f qcow2 -o data_file= n.qcow2 3M
create-raw-format   | create -f raw -o data_file=d.raw n.img 3M
# the same preallocation rules without a data file: extended L2 leaves the
# subclusters unallocated, and the file ends with the last subcluster used
create-extl2-meta   | create -f qcow2 -o extended_l2=on,preallocation=metadata n.qcow2 100k
create-extl2-meta16 | create -f qcow2 -o extended_l2=on,cluster_size=16k,preallocation=metadata n.qcow2 70000
resize-meta-odd     | resize --preallocation=metadata p.qcow2 4500k
CASES

# --- 2. images qemu-img made --------------------------------------------------
table run <<'CASES'
info                | info x.qcow2
info-json           | info --output=json x.qcow2
info-raw            | info r.qcow2
info-raw-json       | info --output=json r.qcow2
info-missing        | info gone.qcow2
info-noname         | info --output=json noname.qcow2
info-chain          | info --backing-chain ov.qcow2
check               | check x.qcow2
check-json          | check --output=json x.qcow2
check-raw           | check r.qcow2
check-extl2         | check e.qcow2
check-missing       | check gone.qcow2
check-noname        | check noname.qcow2
map                 | map x.qcow2
map-json            | map --output=json x.qcow2
map-raw             | map --output=json r.qcow2
map-extl2           | map --output=json e.qcow2
map-chain           | map ov.qcow2
map-chain-json      | map --output=json ov.qcow2
map-missing         | map gone.qcow2
compare             | compare x.qcow2 p.qcow2
compare-chain       | compare ov.qcow2 top.qcow2
compare-raw-file    | compare -f qcow2 -F raw r.qcow2 r.raw
measure             | measure -O qcow2 x.qcow2
measure-opt         | measure -O qcow2 -o data_file=m.raw,data_file_raw=on --size 1G
measure-missing     | measure -O qcow2 gone.qcow2
snapshot-list       | snapshot -l x.qcow2
CASES

table same <<'CASES'
convert-raw         | convert -O raw x.qcow2 out.raw
convert-raw-extl2   | convert -O raw e.qcow2 out.raw
convert-raw-chain   | convert -O raw ov.qcow2 out.raw
dd                  | dd if=ov.qcow2 of=out.raw bs=64k count=5
dd-raw              | dd if=r.qcow2 of=out.raw bs=64k count=5
CASES

# --- 3. commands that write ----------------------------------------------------
table same <<'CASES'
amend-rename        | amend -o data_file=new.raw x.qcow2
amend-drop-name     | amend -o data_file= x.qcow2
amend-raw-on        | amend -o data_file_raw=on x.qcow2
amend-raw-off       | amend -o data_file_raw=off r.qcow2
amend-raw-keep      | amend -o data_file_raw=on r.qcow2
amend-rename-raw    | amend -o data_file=r.raw,data_file_raw=on x.qcow2
amend-downgrade     | amend -o compat=0.10 x.qcow2
amend-lazy          | amend -o lazy_refcounts=on x.qcow2
amend-size          | amend -o size=8M x.qcow2
amend-plain         | amend -o data_file=d.raw p.qcow2
amend-missing       | amend -o lazy_refcounts=on gone.qcow2
resize-grow         | resize x.qcow2 6M
resize-shrink       | resize --shrink x.qcow2 1M
resize-shrink-raw   | resize --shrink r.qcow2 100k
resize-metadata     | resize --preallocation=metadata x.qcow2 6M
resize-full         | resize --preallocation=full x.qcow2 6M
resize-falloc       | resize --preallocation=falloc r.qcow2 6M
resize-raw          | resize r.qcow2 5M
resize-extl2        | resize --preallocation=metadata e.qcow2 5M
snapshot-create     | snapshot -c s1 x.qcow2
snapshot-apply      | snapshot -a s1 x.qcow2
snapshot-delete     | snapshot -d s1 x.qcow2
check-repair        | check -r all x.qcow2
convert-new         | convert -O qcow2 -o data_file=c.raw x.qcow2 c.qcow2
convert-new-raw     | convert -O qcow2 -o data_file=c.raw,data_file_raw=on s.raw c.qcow2
convert-new-backing | convert -O qcow2 -o data_file=c.raw -B base.qcow2 -F qcow2 ov.qcow2 c.qcow2
convert-to-plain    | convert -O qcow2 x.qcow2 c.qcow2
convert-v2          | convert -O qcow2 -o data_file=c.raw,compat=0.10 s.raw c.qcow2
convert-raw-backing | convert -O qcow2 -o data_file=c.raw,data_file_raw=on -B base.qcow2 -F qcow2 ov.qcow2 c.qcow2
convert-missing     | convert -O raw gone.qcow2 out.raw
rebase              | rebase -b other.qcow2 -F qcow2 ov.qcow2
rebase-none         | rebase -b "" ov.qcow2
rebase-unsafe       | rebase -u -b other.qcow2 -F qcow2 ov.qcow2
CASES

# convert -n writes the source's zeros: qemu-img sets the zero flag where
# imgtool leaves an unallocated cluster of an image without backing file
# (both read as zeros), so guest data and check are compared for these.
table run <<'CASES'
convert-compressed  | convert -c -O qcow2 -o data_file=c.raw s.raw c.qcow2
CASES

# convert -c into a data file fails (no compressed clusters with a data
# file) once both files exist: qemu-img leaves them behind, imgtool removes
# what it created, as every failed command must.
d=$(prepare convert-compressed-nofile)
(cd "$d/i" && "$IMGTOOL" convert -c -O qcow2 -o data_file=c.raw s.raw c.qcow2 >/dev/null 2>&1)
if [ -e "$d/i/c.qcow2" ] || [ -e "$d/i/c.raw" ]; then
    fail convert-compressed-nofile "left behind: $(cd "$d/i" && ls c.* 2>/dev/null)"
else
    pass convert-compressed-nofile
fi

# Where only the layout may differ (convert -n above, and commit: imgtool
# unallocates a cluster of an image without backing file where qemu-img
# sets the zero flag, both reading as zeros; with extended L2 imgtool
# allocates a whole cluster where qemu-img allocates only the subclusters
# written), the guest data of the two results and qemu-img check of
# imgtool's are compared.
guest_same() { # name dir image
    local name=$1 d=$2 img=$3
    if ! (cd "$d/q" && "$QEMU_IMG" convert -O raw "$img" ../q.img) ||
        ! (cd "$d/i" && "$QEMU_IMG" convert -O raw "$img" ../i.img) || ! cmp -s "$d/q.img" "$d/i.img"; then
        fail "$name" "guest data differs from qemu-img's result"
    elif ! (cd "$d/i" && "$QEMU_IMG" check -q "$img"); then
        fail "$name" "qemu-img check finds errors in imgtool's result"
    else
        pass "$name"
    fi
}
for c in "commit|commit top.qcow2|base.qcow2" "commit-d|commit -d top.qcow2|base.qcow2" \
    "convert-n|convert -n -O qcow2 s.raw x.qcow2|x.qcow2" \
    "convert-n-raw|convert -n -O qcow2 s.raw r.qcow2|r.qcow2" \
    "convert-n-extl2|convert -n -O qcow2 p.qcow2 e.qcow2|e.qcow2" \
    "convert-new-extl2|convert -O qcow2 -o data_file=c.raw,extended_l2=on e.qcow2 c.qcow2|c.qcow2"; do
    IFS='|' read -r name args img <<<"$c"
    d=$(prepare "$name")
    # shellcheck disable=SC2086  # split on purpose
    twin "$name-out" "$d" $args && guest_same "$name-data" "$d" "$img"
done

# --- 4. imgtool writes, QEMU reads ---------------------------------------------
# A partial-cluster mix written by imgtool (convert -n of a pattern image
# over a data-file image), read back by qemu-io pattern by pattern.
d=$(case_dir qemu-io-reads)
if (
    cd "$d/i" || exit 1
    "$QEMU_IMG" create -q -f qcow2 pat.qcow2 4M
    "$QEMU_IO" -c 'write -P 0x61 0 4M' -c 'write -P 0x62 5k 3k' -c 'write -P 0x63 130k 200k' \
        -c 'write -z 1M 1M' pat.qcow2 >/dev/null
    "$IMGTOOL" create -q -f qcow2 -o data_file=w.raw w.qcow2 4M &&
        "$IMGTOOL" convert -n -O qcow2 pat.qcow2 w.qcow2 &&
        "$QEMU_IO" -c 'read -P 0x61 0 5k' -c 'read -P 0x62 5k 3k' -c 'read -P 0x61 8k 122k' \
            -c 'read -P 0x63 130k 200k' -c 'read -P 0x61 330k 694k' -c 'read -P 0 1M 1M' \
            -c 'read -P 0x61 2M 2M' w.qcow2 >io.out 2>&1 &&
        ! grep -q "Pattern verification failed" io.out && "$QEMU_IMG" check -q w.qcow2
); then
    pass qemu-io-reads
else
    fail qemu-io-reads "qemu-io or qemu-img check disagree: $(grep -m1 -i 'fail\|error' "$d/i/io.out" 2>/dev/null)"
fi

# A raw data file is the disk: after imgtool's writes (convert -n, a
# commit into it, a resize) qemu-img compares it, as a raw image, equal to
# the qcow2 image, and qemu-img check is clean.  The zeros written (from
# s.raw and the top image) land where the data file held 0x44.
d=$(prepare raw-stays-raw)
if (
    cd "$d/i" || exit 1
    "$IMGTOOL" convert -n -O qcow2 s.raw r.qcow2 &&
        "$QEMU_IMG" create -q -f qcow2 -b r.qcow2 -F qcow2 t.qcow2 &&
        "$QEMU_IO" -c 'write -P 0x77 3k 2k' -c 'write -z 3M 64k' -c 'write -P 0x78 1100k 70k' t.qcow2 >/dev/null &&
        "$IMGTOOL" commit -q t.qcow2 &&
        "$IMGTOOL" resize -q r.qcow2 5M &&
        "$QEMU_IMG" compare -q -f qcow2 -F raw r.qcow2 r.raw &&
        "$QEMU_IMG" check -q r.qcow2
); then
    pass raw-stays-raw
else
    fail raw-stays-raw "the raw data file differs from the disk, or check fails"
fi

# Images imgtool creates and fills open in QEMU with the right data.
d=$(prepare imgtool-made)
if (
    cd "$d/i" || exit 1
    for o in "" ",data_file_raw=on" ",extended_l2=on" ",cluster_size=4k" ",preallocation=metadata"; do
        rm -f c.qcow2 c.raw
        "$IMGTOOL" convert -O qcow2 -o "data_file=c.raw$o" s.raw c.qcow2 &&
            "$QEMU_IMG" compare -q s.raw c.qcow2 && "$QEMU_IMG" check -q c.qcow2 || {
            echo "options data_file=c.raw$o" >why
            exit 1
        }
    done
); then
    pass imgtool-made
else
    fail imgtool-made "$(cat "$d/i/why" 2>/dev/null)"
fi

# --- 5. the data file's name ------------------------------------------------------
# qemu-img 7.2 opens the name relative to the current directory, not to the
# image's directory (unlike backing files), and creates it so too.
table same <<'CASES'
name-from-parent    | convert -O raw sub/s.qcow2 out.raw
name-create-sub     | create -f qcow2 -o data_file=sd2.raw sub/n.qcow2 1M
CASES
# From inside sub/, the name sd.raw means sub/sd.raw no longer: both fail.
d=$(case_dir name-not-image-relative)
mkdir -p "$d/q2" "$d/i2"
cp -a "$FIX/sub/." "$d/q2/"
cp -a "$FIX/sub/." "$d/i2/"
(cd "$d/q2" && "$QEMU_IMG" convert -O raw s.qcow2 out.raw >../q.out 2>../q.err)
rq=$?
(cd "$d/i2" && "$IMGTOOL" convert -O raw s.qcow2 out.raw >../i.out 2>../i.err)
ri=$?
norm "$d/q.err"
if [ "$rq" = "$ri" ] && cmp -s "$d/q.err" "$d/i.err" && [ ! -e "$d/i2/out.raw" ]; then
    pass name-not-image-relative
else
    fail name-not-image-relative "status $ri (qemu-img $rq), or messages differ"
    diff "$d/q.err" "$d/i.err" | indent
fi

# --- 6. the data file named by the opener -----------------------------------------
# --image-opts (and json:) may name the data file (the qcow2 driver's
# "data-file" option): it wins over the header's name, it is the only way
# to open an image whose header names none, and QEMU looks at it only when
# it opens the data file (info never does).
table same <<'CASES'
opts-info-noname    | info --image-opts driver=qcow2,file.filename=noname.qcow2,data-file.filename=n.raw
opts-check-noname   | check --image-opts driver=qcow2,file.filename=noname.qcow2,data-file.filename=n.raw
opts-convert-noname | convert -O raw --image-opts driver=qcow2,file.filename=noname.qcow2,data-file.filename=n.raw out.raw
opts-convert-other  | convert -O raw --image-opts driver=qcow2,file.filename=x.qcow2,data-file.filename=s.raw out.raw
opts-map-other      | map --image-opts driver=qcow2,file.filename=x.qcow2,data-file.filename=s.raw
opts-map-json       | map --output=json --image-opts driver=qcow2,file.filename=gone.qcow2,data-file.filename=x.raw
opts-json-name      | convert -O raw json:{"driver":"qcow2","file":{"filename":"gone.qcow2"},"data-file":{"driver":"file","filename":"x.raw"}} out.raw
opts-raw-driver     | check --image-opts driver=qcow2,file.filename=noname.qcow2,data-file.driver=raw,data-file.file.filename=n.raw
opts-file-options   | check --image-opts driver=qcow2,file.filename=x.qcow2,data-file.driver=file,data-file.filename=x.raw,data-file.locking=off
opts-resize         | resize --image-opts driver=qcow2,file.filename=noname.qcow2,data-file.filename=n.raw 3M
opts-repair         | check -r all --image-opts driver=qcow2,file.filename=gone.qcow2,data-file.filename=x.raw
opts-snapshot       | snapshot -c s1 --image-opts driver=qcow2,file.filename=noname.qcow2,data-file.filename=n.raw
opts-dd             | dd --image-opts if=driver=qcow2,file.filename=noname.qcow2,data-file.filename=n.raw of=out.raw bs=64k count=3
# refused, with QEMU's words, and nothing changed
opts-plain          | check --image-opts driver=qcow2,file.filename=p.qcow2,data-file.filename=x.raw
opts-plain-missing  | check --image-opts driver=qcow2,file.filename=p.qcow2,data-file.filename=nofile.raw
opts-missing        | convert -O raw --image-opts driver=qcow2,file.filename=x.qcow2,data-file.filename=nofile.raw out.raw
opts-node-name      | check --image-opts driver=qcow2,file.filename=x.qcow2,data-file=node0
opts-no-driver      | check --image-opts driver=qcow2,file.filename=x.qcow2,data-file.locking=off
opts-no-filename    | check --image-opts driver=qcow2,file.filename=x.qcow2,data-file.driver=file
opts-raw-no-file    | check --image-opts driver=qcow2,file.filename=x.qcow2,data-file.driver=raw
opts-unknown-driver | check --image-opts driver=qcow2,file.filename=x.qcow2,data-file.driver=foo,data-file.filename=x.raw
opts-bad-option     | check --image-opts driver=qcow2,file.filename=x.qcow2,data-file.filename=x.raw,data-file.bogus=1
opts-on-raw         | info --image-opts file.filename=s.raw,data-file.filename=x.raw
opts-on-raw-driver  | check --image-opts driver=raw,file.filename=s.raw,data-file.filename=x.raw
opts-info-ignores   | info --image-opts driver=qcow2,file.filename=x.qcow2,data-file=node0
opts-noname-none    | check --image-opts driver=qcow2,file.filename=noname.qcow2
CASES
