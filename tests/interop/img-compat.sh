#!/usr/bin/env bash
# imgtool as a drop-in qemu-img, and qemu-img 7.2's messages and features.
#
# Part 1: run under the name qemu-img (a symlink, or `exec -a qemu-img`),
# imgtool prints exactly what qemu-img prints, program name included, so
# these twins compare the raw text (TWIN_NORM=no); under its own name it
# stays "imgtool".  Later parts compare messages and features with the
# program name normalised, as the other suites do.
. "$(dirname "$0")/img-common.bash"
need_tools

# The drop-in name: a symlink called qemu-img in a directory of its own.
LINKDIR=$WORK/bin
mkdir -p "$LINKDIR"
ln -sf "$IMGTOOL" "$LINKDIR/qemu-img"

be64() { od -An -t x1 -j "$2" -N 8 "$1" | tr -d ' \n' | sed 's/^/0x/'; }
# poke FILE OFFSET HEX: write big-endian bytes HEX at OFFSET.
poke() {
    local esc
    esc=$(sed -E 's/(..)/\\x\1/g' <<<"$3")
    printf "$esc" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# Fixtures every case can use.
setup() { # DIR
    "$QEMU_IMG" create -q -f qcow2 "$1/a.qcow2" 4M
    "$QEMU_IO" -c 'write -P 7 0 128k' "$1/a.qcow2" >/dev/null
    "$QEMU_IMG" create -q -f raw "$1/r.img" 1M
    # 1-bit refcounts and a data cluster referenced twice: check reports an
    # overflow with advice that names the program twice.
    "$QEMU_IMG" create -q -f qcow2 -o refcount_bits=1 "$1/rc1.qcow2" 4M
    "$QEMU_IO" -c 'write -P 7 0 128k' "$1/rc1.qcow2" >/dev/null
    local l1 l2
    l1=$(($(be64 "$1/rc1.qcow2" 40)))
    l2=$(($(be64 "$1/rc1.qcow2" "$l1") & 0x00fffffffffffe00))
    poke "$1/rc1.qcow2" $((l2 + 8)) "$(od -An -t x1 -j "$l2" -N 8 "$1/rc1.qcow2" | tr -d ' \n')"
    # Unknown incompatible feature bits 5, 6 and 40, and the image's own
    # feature name table renamed so that its first entry names bit 6.
    "$QEMU_IMG" create -q -f qcow2 "$1/feat.qcow2" 1M
    poke "$1/feat.qcow2" 72 0000010000000060
    local ft
    ft=$(grep -obUaP '\x68\x03\xf8\x57' "$1/feat.qcow2" | head -n 1 | cut -d: -f1)
    poke "$1/feat.qcow2" $((ft + 8)) "0006$(printf 'frobnicator' | od -An -t x1 | tr -d ' \n')00"
    # Bits 5 and 40 only, none of them in the table: one mask.
    "$QEMU_IMG" create -q -f qcow2 "$1/feat2.qcow2" 1M
    poke "$1/feat2.qcow2" 72 0000010000000020
    # For progress: data, zeros, data, a partial cluster, unallocated.
    "$QEMU_IMG" create -q -f qcow2 "$1/p.qcow2" 10M
    "$QEMU_IO" -c 'write -P 1 0 3M' -c 'write -z 3M 1M' -c 'write -P 2 5M 1M' \
        -c 'write -P 3 7M 100k' "$1/p.qcow2" >/dev/null
    "$QEMU_IMG" create -q -f qcow2 -b p.qcow2 -F qcow2 "$1/ov.qcow2"
    "$QEMU_IO" -c 'write -P 4 64k 64k' "$1/ov.qcow2" >/dev/null
    "$QEMU_IMG" create -q -f qcow2 "$1/e.qcow2" 1M
    # Data that is zeros: -C copies it as data, a plain convert leaves it out.
    "$QEMU_IMG" create -q -f qcow2 "$1/zc.qcow2" 4M
    "$QEMU_IO" -c 'write -P 0 0 1M' -c 'write -P 5 1M 64k' "$1/zc.qcow2" >/dev/null
    # For amend -o refcount_bits: data, a snapshot sharing clusters (so a
    # refcount of 2), then data written after it.
    "$QEMU_IMG" create -q -f qcow2 "$1/rb.qcow2" 64M
    "$QEMU_IO" -c 'write -P 1 0 3M' -c 'write -P 2 40M 1M' "$1/rb.qcow2" >/dev/null
    "$QEMU_IMG" snapshot -c s1 "$1/rb.qcow2"
    "$QEMU_IO" -c 'write -P 3 0 1M' "$1/rb.qcow2" >/dev/null
    "$QEMU_IMG" create -q -f qcow2 -o refcount_bits=8 "$1/r8.qcow2" 1M
    "$QEMU_IMG" create -q -f qcow2 -o compat=0.10 "$1/v2.qcow2" 1M
}
fixtures setup

# --- part 1: the name qemu-img --------------------------------------------
as_qemu() { # name cmdline: imgtool through the symlink, raw text compared
    local d
    d=$(prepare "$1")
    # shellcheck disable=SC2086  # the table's command line is split on purpose
    IMGTOOL=$LINKDIR/qemu-img TWIN_NORM=no twin "$1" "$d" ${2:-}
}
table as_qemu <<'CASES'
name-no-args          |
name-unknown-command  | frobnicate
name-unknown-option   | info -z r.img
name-missing-arg      | create -f
name-open-missing     | info nosuchfile
name-create-bad-size  | create -f raw x.img 12Q
name-check-advice     | check rc1.qcow2
name-create           | create -f qcow2 x.qcow2 1M
CASES

# exec -a qemu-img: argv[0] alone decides, whatever the file is called.
d=$(prepare name-exec-a)
(cd "$d/q" && "$QEMU_IMG" info -z r.img >../q.out 2>../q.err)
(cd "$d/i" && exec -a qemu-img "$IMGTOOL" info -z r.img >../i.out 2>../i.err)
if cmp -s "$d/q.err" "$d/i.err" && [ -s "$d/i.err" ]; then
    pass name-exec-a
else
    fail name-exec-a "stderr differs from qemu-img's"
    diff "$d/q.err" "$d/i.err" | indent
fi

# Under any other name imgtool keeps its own: qemu-img's text with the
# name replaced, never "qemu-img" itself.
d=$(prepare name-own)
(cd "$d/i" && "$IMGTOOL" frobnicate >../i.out 2>../i.err)
(cd "$d/q" && "$QEMU_IMG" frobnicate >../q.out 2>../q.err)
norm "$d/q.err"
if cmp -s "$d/q.err" "$d/i.err" && ! grep -q qemu-img "$d/i.err"; then
    pass name-own
else
    fail name-own "imgtool under its own name"
    indent "$d/i.err"
fi

# --help names the program as it was called (qemu-img's help differs in
# content, so only the usage line is compared with qemu-img's).
qu=$("$QEMU_IMG" --help | grep '^usage:')
iu=$("$LINKDIR/qemu-img" --help | grep '^usage:')
ou=$("$IMGTOOL" --help | grep '^usage:')
if [ "$qu" = "$iu" ] && [ "$ou" = "${qu//qemu-img/imgtool}" ]; then
    pass name-help-usage
else
    fail name-help-usage "usage lines: qemu-img '$qu', as qemu-img '$iu', as imgtool '$ou'"
fi

# --- part 2: qemu-img 7.2's messages ---------------------------------------
run() { # name cmdline: program name normalised
    local d
    d=$(prepare "$1")
    # shellcheck disable=SC2086  # the table's command line is split on purpose
    twin "$1" "$d" ${2:-}
}
table run <<'CASES'
# -o size= and a size operand; sizes the L1 table cannot map
size-twice           | create -f qcow2 -o size=1M x.qcow2 2M
size-twice-o         | create -f qcow2 -o size=1M -o size=2M x.qcow2 3M
size-too-large-512   | create -f qcow2 -o cluster_size=512 x.qcow2 1T
size-too-large-64k   | create -f qcow2 x.qcow2 300P
size-huge-2M         | create -q -f qcow2 -o cluster_size=2M x.qcow2 1E
size-too-large-2M    | create -f qcow2 -o cluster_size=2M x.qcow2 4E
size-extl2-64k       | create -f qcow2 -o extended_l2=on x.qcow2 128T
# backing files: empty names, same name, missing file before missing format
backing-empty        | create -f qcow2 -b "" -F qcow2 x.qcow2 1M
backing-empty-nofmt  | create -f qcow2 -b "" x.qcow2 1M
backing-self         | create -f qcow2 -b x.qcow2 -F qcow2 x.qcow2 1M
backing-missing      | create -f qcow2 -b nosuch x.qcow2 1M
backing-missing-fmt  | create -f qcow2 -b nosuch -F qcow2 x.qcow2 1M
backing-nofmt-probe  | create -f qcow2 -b a.qcow2 x.qcow2
backing-nofmt-raw    | create -f qcow2 -b r.img x.qcow2
backing-nofmt-u      | create -f qcow2 -b nosuch -u x.qcow2 1M
backing-o-fmt        | create -f qcow2 -b a.qcow2 -o backing_fmt=qcow2 x.qcow2
# unknown incompatible feature bits
features-named       | info feat.qcow2
features-mask        | info feat2.qcow2
features-check       | check feat2.qcow2
# -o help: the whole list, per format, command and target name
help-create-qcow2    | create -f qcow2 -o help
help-create-file     | create -f qcow2 -o help x.qcow2
help-create-raw      | create -o help
help-create-raw-file | create -f raw -o ?,size=1M x.img
help-create-badfmt   | create -f foo -o help
help-convert         | convert -O qcow2 -o help x
help-convert-file    | convert -o help a b
help-amend-fmt       | amend -f qcow2 -o help
help-amend-file      | amend -o help a.qcow2
help-amend-raw       | amend -o help r.img
help-amend-raw-fmt   | amend -f raw -o help
help-amend-nofile    | amend -o help
help-measure         | measure -O qcow2 -o help --size 1M
help-escaped         | create -f qcow2 -o backing_file=help,,x -u x.qcow2 1M
# -o lists: ",," escapes, bare names, invalid lists
escape-comma         | create -f qcow2 -o backing_file=a,,b,backing_fmt=raw -u x.qcow2 1M
bare-flag            | create -f qcow2 -o lazy_refcounts x.qcow2 1M
bare-no-flag         | create -f qcow2 -o nolazy_refcounts x.qcow2 1M
empty-name           | create -f qcow2 -o =foo x.qcow2 1M
list-comma           | create -f qcow2 -o , x.qcow2 1M
list-leading-comma   | create -f qcow2 -o ,size=1M x.qcow2
list-trailing-comma  | create -f qcow2 -o size=1M, x.qcow2
list-trailing-2      | create -f qcow2 -o size=1M,, x.qcow2
list-trailing-3      | create -f qcow2 -o size=1M,,, x.qcow2
list-convert         | convert -O qcow2 -o , a.qcow2 x.qcow2
list-amend           | amend -o compat=1.1, a.qcow2
list-measure         | measure -O qcow2 -o , --size 1M
# convert: -B with -o backing_fmt, -o backing_file needs a format, -n and -o
convert-B-o-fmt      | convert -O qcow2 -B a.qcow2 -o backing_fmt=qcow2 a.qcow2 x.qcow2
convert-o-backing    | convert -O qcow2 -o backing_file=a.qcow2 a.qcow2 x.qcow2
convert-B-nofmt      | convert -O qcow2 -B a.qcow2 a.qcow2 x.qcow2
convert-B-raw        | convert -O raw -B a.qcow2 a.qcow2 x.img
convert-F-raw        | convert -O raw -F qcow2 a.qcow2 x.img
convert-B-concat     | convert -O qcow2 -B a.qcow2 -F qcow2 a.qcow2 a.qcow2 x.qcow2
convert-n-o          | convert -n -o cluster_size=4k a.qcow2 e.qcow2
convert-n-o-help     | convert -n -O qcow2 -o help a.qcow2 e.qcow2
convert-o-measure-ty | convert -O qcow2 -o cluster_size=big a.qcow2 x.qcow2
# convert -p: qemu-img's steps (data only, a cluster at a time with -c)
progress-plain       | convert -p -O qcow2 p.qcow2 x.qcow2
progress-compressed  | convert -p -c -O qcow2 p.qcow2 x.qcow2
progress-S0          | convert -p -S 0 -O raw p.qcow2 x.img
progress-backing     | convert -p -O qcow2 -B p.qcow2 -F qcow2 ov.qcow2 x.qcow2
progress-concat      | convert -p -O raw p.qcow2 a.qcow2 x.img
progress-empty       | convert -p -O qcow2 e.qcow2 x.qcow2
progress-4k          | convert -p -c -O qcow2 -o cluster_size=4k p.qcow2 x.qcow2
# measure: extended L2 and qcow2_measure's own value checks
measure-extl2-4k     | measure -O qcow2 -o extended_l2=on,cluster_size=4k --size 1M
measure-extl2-file   | measure -O qcow2 -o extended_l2=on,cluster_size=8k a.qcow2
measure-too-large    | measure -O qcow2 -o cluster_size=512 --size 1025T
measure-largest      | measure -O qcow2 -o cluster_size=512 --size 1024T
measure-extl2-large  | measure -O qcow2 -o extended_l2=on --size 129T
measure-compat-v2    | measure -O qcow2 -o compat=v2 --size 1M
measure-prealloc-bad | measure -O qcow2 -o preallocation=foo --size 1M
measure-ctype-any    | measure -O qcow2 -o compression_type=foo --size 1M
measure-unknown      | measure -O qcow2 -o foo=1 --size 1M
measure-raw-prealloc | measure -O raw -o preallocation=metadata --size 1M
CASES

# The images that the successful cases above wrote are the same files.
same_files size-huge-2M escape-comma convert-B-o-fmt progress-plain progress-backing

# rebase: where the old backing file ends (or there is none), qemu-img
# writes zeroes (zero clusters in v3), not zero-filled data clusters.
rebase_case() { # name overlay-create-args
    local name=$1 d
    shift
    d=$(prepare "$name")
    for t in q i; do
        (
            cd "$d/$t" || exit 1
            "$QEMU_IMG" create -q -f qcow2 short.qcow2 1M
            "$QEMU_IMG" create -q -f qcow2 new.qcow2 2M
            "$QEMU_IO" -c 'write -P 2 0 2M' -c 'write -P 1 0 1k' -c 'write -P 4 1500k 1k' \
                new.qcow2 >/dev/null
            "$QEMU_IMG" create -q -f qcow2 "$@" top.qcow2 2M
            "$QEMU_IMG" convert -O raw top.qcow2 before.raw
        )
    done
    twin "$name" "$d" rebase -b new.qcow2 -F qcow2 top.qcow2 || return
    if ! "$QEMU_IMG" compare -q "$d/i/before.raw" "$d/i/top.qcow2"; then
        fail "$name-data" "the guest view changed"
    elif cmp -s "$d/q/top.qcow2" "$d/i/top.qcow2"; then
        pass "$name-file"
    else
        fail "$name-file" "top.qcow2 differs from qemu-img's"
        diff <("$QEMU_IMG" map --output=json "$d/q/top.qcow2") \
            <("$QEMU_IMG" map --output=json "$d/i/top.qcow2") | indent
    fi
}
rebase_case rebase-past-old-end -b short.qcow2 -F qcow2
rebase_case rebase-no-old-backing
rebase_case rebase-extl2-no-old -o extended_l2=on
rebase_case rebase-v2-past-old-end -o compat=0.10 -b short.qcow2 -F qcow2

# A v2 image without a backing file: qemu-img 7.2 "writes" the zeroes by
# leaving the clusters unallocated, so the new backing file shows through
# and the guest's data changes.  imgtool writes zero data instead: same
# status and messages, and the guest view is kept.
d=$(prepare rebase-v2-no-old)
for t in q i; do
    (
        cd "$d/$t" || exit 1
        "$QEMU_IMG" create -q -f qcow2 new.qcow2 2M
        "$QEMU_IO" -c 'write -P 2 0 2M' new.qcow2 >/dev/null
        "$QEMU_IMG" create -q -f qcow2 -o compat=0.10 top.qcow2 2M
    )
done
if twin rebase-v2-no-old "$d" rebase -b new.qcow2 -F qcow2 top.qcow2; then
    head -c 2M /dev/zero >"$d/zero.raw"
    if "$QEMU_IMG" compare -q "$d/zero.raw" "$d/i/top.qcow2"; then
        pass rebase-v2-no-old-data
    else
        fail rebase-v2-no-old-data "the new backing file shows through"
    fi
fi

# --- part 3: qemu-img 7.2 features ----------------------------------------
table run <<'CASES'
# -C (copy offloading): a plain copy with qemu-img's result; its conflicts
copy-offload         | convert -C -O qcow2 zc.qcow2 x.qcow2
copy-offload-raw     | convert -C -O raw zc.qcow2 x.img
copy-offload-p       | convert -C -p -O qcow2 p.qcow2 x.qcow2
copy-offload-c       | convert -C -c -O qcow2 p.qcow2 x.qcow2
copy-offload-S       | convert -C -S 4k -O qcow2 p.qcow2 x.qcow2
# file: prefix, unknown protocols (blkdebug and other debug drivers too)
file-prefix-info     | info file:a.qcow2
file-prefix-create   | create -f qcow2 file:x.qcow2 1M
file-prefix-convert  | convert -O qcow2 file:a.qcow2 file:x.qcow2
proto-unknown        | info foo:bar
proto-convert-target | convert -O qcow2 a.qcow2 foo:x.qcow2
# json: filenames
json-qcow2           | info json:{"driver":"qcow2","file":{"driver":"file","filename":"a.qcow2"}}
json-flat            | info json:{"file.filename":"a.qcow2"}
json-raw-view        | info json:{"driver":"raw","file":{"filename":"a.qcow2"}}
json-options         | info json:{"driver":"qcow2","read-only":true,"file":{"filename":"a.qcow2","locking":"off"}}
json-bad-option      | info json:{"driver":"qcow2","file":{"filename":"a.qcow2","foo":"off"}}
json-file-string     | info json:{"driver":"raw","file":"a.qcow2"}
json-no-file         | info json:{"driver":"qcow2"}
json-not-object      | info json:[]
json-bad-keyword     | info json:{bad
json-missing         | info json:{"driver":"qcow2","file":{"filename":"nosuch"}}
json-chain           | info --backing-chain json:{"driver":"qcow2","file":{"filename":"ov.qcow2"}}
json-map             | map json:{"driver":"qcow2","file":{"filename":"a.qcow2"}}
# --image-opts
iopts-info           | info --image-opts driver=qcow2,file.filename=a.qcow2
iopts-probe          | info --image-opts file.filename=a.qcow2
iopts-file-driver    | info --image-opts driver=qcow2,file.driver=file,file.filename=a.qcow2
iopts-with-f         | info --image-opts -f qcow2 driver=qcow2,file.filename=a.qcow2
iopts-bare           | info --image-opts a.qcow2
iopts-bad-option     | info --image-opts driver=qcow2,foo=bar,file.filename=a.qcow2
iopts-missing        | info --image-opts driver=qcow2,file.filename=nosuch
iopts-check          | check --image-opts driver=qcow2,file.filename=a.qcow2
iopts-map            | map --output=json --image-opts driver=qcow2,file.filename=p.qcow2
iopts-compare        | compare --image-opts driver=qcow2,file.filename=a.qcow2 driver=raw,file.filename=a.qcow2
iopts-convert        | convert --image-opts -O raw driver=qcow2,file.filename=a.qcow2 x.img
iopts-snapshot       | snapshot -l --image-opts driver=qcow2,file.filename=a.qcow2
iopts-dd             | dd --image-opts -O raw if=driver=qcow2,file.filename=a.qcow2 of=x.img
# --object: checked as qemu-img checks it, then unused
object-secret        | info --object secret,id=s0,data=x a.qcow2
object-qom-type      | info --object qom-type=secret,id=s0,file=r.img a.qcow2
object-throttle      | info --object throttle-group,id=t0 a.qcow2
object-no-id         | info --object secret a.qcow2
object-no-data       | info --object secret,id=s0 a.qcow2
object-no-type       | info --object id=s0 a.qcow2
object-unknown       | info --object frob,id=s0 a.qcow2
object-emulator      | info --object iothread,id=s0 a.qcow2
object-help          | info --object help
object-secret-help   | info --object secret,help
object-create        | create --object secret,id=s0,data=x -f qcow2 x.qcow2 1M
object-convert       | convert --object secret,id=s0,data=x -O raw a.qcow2 x.img
object-commit        | commit --object secret,id=s0,data=x ov.qcow2
# extent_size_hint and nocow (file-posix's creation options)
hint-qcow2           | create -f qcow2 -o extent_size_hint=2M x.qcow2 1M
hint-raw             | create -f raw -o extent_size_hint=64k,nocow=on x.img 1M
hint-zero            | create -f qcow2 -o extent_size_hint=0 x.qcow2 1M
hint-too-large       | create -f raw -o extent_size_hint=5G x.img 1M
hint-convert         | convert -O qcow2 -o extent_size_hint=1M,nocow=on a.qcow2 x.qcow2
hint-convert-large   | convert -O qcow2 -o extent_size_hint=5G a.qcow2 x.qcow2
hint-measure         | measure -O qcow2 -o extent_size_hint=1M --size 1M
hint-amend           | amend -o extent_size_hint=1M a.qcow2
nocow-amend          | amend -o nocow=on a.qcow2
CASES

same_files copy-offload copy-offload-raw copy-offload-p file-prefix-create file-prefix-convert \
    iopts-convert hint-qcow2 hint-convert

# amend -o refcount_bits=N: same status and messages; the image passes
# qemu-img check, has the new width, and holds the same data as
# qemu-img's, now and in its snapshot.
amend_rc() { # name image options
    local d
    d=$(prepare "$1")
    twin "$1" "$d" amend -o "$3" "$2" || return
    local q=$d/q/$2 i=$d/i/$2 why=
    if ! "$QEMU_IMG" check "$i" >"$d/check.log" 2>&1; then
        why="qemu-img check finds problems"
    elif [ "$("$QEMU_IMG" info "$q" | grep -E '^ +(refcount bits|compat):')" != \
        "$("$QEMU_IMG" info "$i" | grep -E '^ +(refcount bits|compat):')" ]; then
        why="refcount bits or compat differ"
    elif ! "$QEMU_IMG" compare -q "$q" "$i"; then
        why="the data differs"
    elif "$QEMU_IMG" snapshot -l "$q" | grep -q s1; then
        "$QEMU_IMG" snapshot -a s1 "$q" && "$QEMU_IMG" snapshot -a s1 "$i" &&
            "$QEMU_IMG" compare -q "$q" "$i" || why="the snapshot's data differs"
    fi
    if [ -z "$why" ]; then
        pass "$1-image"
    else
        fail "$1-image" "$why"
        indent "$d/check.log"
    fi
}
amend_rc amend-rc-1        rb.qcow2 refcount_bits=1
amend_rc amend-rc-2        rb.qcow2 refcount_bits=2
amend_rc amend-rc-8        rb.qcow2 refcount_bits=8
amend_rc amend-rc-32       rb.qcow2 refcount_bits=32
amend_rc amend-rc-64       rb.qcow2 refcount_bits=64
amend_rc amend-rc-16       rb.qcow2 refcount_bits=16
amend_rc amend-rc-3        rb.qcow2 refcount_bits=3
amend_rc amend-rc-0        rb.qcow2 refcount_bits=0
amend_rc amend-rc-128      rb.qcow2 refcount_bits=128
amend_rc amend-rc-8-to-1   r8.qcow2 refcount_bits=1
amend_rc amend-rc-v2       v2.qcow2 refcount_bits=8
amend_rc amend-rc-v2-up    v2.qcow2 refcount_bits=8,compat=1.1
amend_rc amend-rc-down     rb.qcow2 refcount_bits=8,compat=0.10
amend_rc amend-rc-down-16  r8.qcow2 refcount_bits=16,compat=0.10
amend_rc amend-rc-keep-v2  r8.qcow2 compat=0.10

table run <<'CASES'
# rebase: a new backing file that does not open comes before a missing -F
rebase-missing-nofmt | rebase -b nosuch ov.qcow2
rebase-nofmt         | rebase -b a.qcow2 ov.qcow2
rebase-nofmt-u       | rebase -u -b nosuch ov.qcow2
rebase-missing-fmt   | rebase -b nosuch -F qcow2 ov.qcow2
# amend and external data files, on images that have none
amend-data-file      | amend -o data_file=d.raw a.qcow2
amend-data-file-raw  | amend -o data_file_raw=on a.qcow2
amend-data-raw-off   | amend -o data_file_raw=off a.qcow2
amend-data-both      | amend -o data_file=d.raw,data_file_raw=on a.qcow2
CASES

# Out of scope: QEMU's debug drivers (blkdebug, blkverify, ...), LUKS, the
# network protocols.  imgtool refuses them with the words qemu-img uses
# for a driver, format or protocol it does not know at all; the oracle is
# qemu-img given a name that no QEMU has (frobdrv), renamed afterwards.
refused() { # name real-name cmdline-with-FROB
    local name=$1 real=$2 d
    d=$(prepare "$name")
    # shellcheck disable=SC2086  # the command line is split on purpose
    (cd "$d/q" && "$QEMU_IMG" ${3//FROB/frobdrv} >../q.out 2>../q.err)
    local rq=$?
    # shellcheck disable=SC2086
    (cd "$d/i" && "$IMGTOOL" ${3//FROB/$real} >../i.out 2>../i.err)
    local ri=$?
    sed -i "s/qemu-img/imgtool/g; s/frobdrv/$real/g" "$d/q.out" "$d/q.err"
    if [ "$rq" = "$ri" ] && cmp -s "$d/q.out" "$d/i.out" && cmp -s "$d/q.err" "$d/i.err"; then
        pass "$name"
    else
        fail "$name" "status $ri (oracle $rq), or output differs"
        diff "$d/q.err" "$d/i.err" | indent
    fi
}
refused refuse-blkdebug-fmt   blkdebug  "info -f FROB a.qcow2"
refused refuse-blkverify-fmt  blkverify "info -f FROB a.qcow2"
refused refuse-luks-fmt       luks      "info -f FROB a.qcow2"
refused refuse-luks-create    luks      "create -f FROB x.img 1M"
refused refuse-luks-convert   luks      "convert -O FROB a.qcow2 x.img"
refused refuse-blkdebug-proto blkdebug  "info FROB::a.qcow2"
refused refuse-nbd-create     nbd       "create -f qcow2 FROB:x 1M"
refused refuse-blkdebug-json  blkdebug  'info json:{"driver":"FROB","image":{"filename":"a.qcow2"}}'
refused refuse-blkdebug-iopts blkdebug  "info --image-opts driver=FROB,image.filename=a.qcow2"
refused refuse-qcow2-encrypt  luks      "create -f qcow2 -o encrypt.format=FROB x.qcow2 1M"

# A refused target leaves no file behind.
for c in proto-convert-target hint-too-large hint-convert-large refuse-nbd-create; do
    if ls "$WORK/$c/i" | grep -q '^x\.\|^foo\|^nbd'; then
        fail "$c-nofile" "a file was left behind: $(ls "$WORK/$c/i" | grep '^x\.\|^foo\|^nbd')"
    else
        pass "$c-nofile"
    fi
done
