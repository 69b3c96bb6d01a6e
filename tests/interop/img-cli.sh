#!/usr/bin/env bash
# imgtool and qemu-img agree on usage errors, messages and exit statuses.
#
# Each table line is one case: "name | command line".  The command runs in
# two scratch directories holding the same fixture images (see setup), once
# with qemu-img and once with imgtool; status, stdout and stderr must match
# after the program name is normalised.  Add a case by adding a line.
. "$(dirname "$0")/img-common.bash"
need_tools

# Fixtures every case can use.
setup() { # DIR
    "$QEMU_IMG" create -q -f raw "$1/r.img" 1M
    "$QEMU_IMG" create -q -f qcow2 "$1/a.qcow2" 4M
    "$QEMU_IO" -c 'write -P 7 64k 64k' "$1/a.qcow2" >/dev/null
    "$QEMU_IMG" create -q -f qcow2 "$1/b.qcow2" 8M
    # Not images: a directory, a 6-byte text file, a zero-filled 100 bytes.
    mkdir "$1/d"
    echo hello >"$1/t.txt"
    head -c 100 /dev/zero >"$1/z100"
    : >"$1/empty"
    # qcow2 headers cut at 50 bytes: QEMU reads them zero-padded.
    head -c 50 "$1/a.qcow2" >"$1/cut3.qcow2"
    "$QEMU_IMG" create -q -f qcow2 -o compat=0.10 "$1/v2.qcow2" 1M
    head -c 50 "$1/v2.qcow2" >"$1/cut2.qcow2"
}
FIX=$WORK/fixture
mkdir -p "$FIX"
setup "$FIX"

run() { # name cmdline
    local d
    d=$(case_dir "$1")
    cp -a "$FIX/." "$d/q/"
    cp -a "$FIX/." "$d/i/"
    # shellcheck disable=SC2086  # the table's command line is split on purpose
    twin "$1" "$d" ${2:-}
}

table run <<'CASES'
# --- the command line itself
no-args              |
unknown-command      | frobnicate
unknown-option       | info -z r.img
missing-opt-arg      | create -f
# --- create: arguments and sizes
create-no-file       | create -f qcow2
create-extra-arg     | create -f qcow2 x.img 1M extra
create-no-size       | create -f qcow2 x.img
create-bad-size      | create -f raw x.img 12Q
create-fraction-size | create -f raw x.img 1.5
create-huge-size     | create -f raw x.img 9E
create-unknown-fmt   | create -f foo x.img 1M
create-raw-1.5k      | create -f raw x.img 1.5k
create-raw-hex       | create -f raw x.img 0x1000
create-raw-default   | create x.img 1M
size-suffix-b        | create -f raw x.img 1536b
size-suffix-lower-m  | create -f raw x.img 2m
size-fraction-M      | create -f raw x.img 1.5M
size-half-k          | create -f raw x.img 0.5k
size-lone-dot        | create -f raw x.img 1.k
size-exponent        | create -f raw x.img 1e3
size-fraction-exp    | create -f raw x.img 1.5e3k
size-hex-suffix      | create -f raw x.img 0x10k
size-negative        | create -f raw x.img -- -1
size-16E             | create -f raw x.img 16E
size-8E              | create -f raw x.img 8E
size-plus            | create -f raw x.img +5
size-trailing-junk   | create -f raw x.img 5kb
size-lone-dot-only   | create -f raw x.img 1.
size-hex-fraction    | create -f raw x.img 0x1.8k
size-hex-empty       | create -f raw x.img 0x
size-octal-looking   | create -f raw x.img 010
size-fraction-b      | create -f raw x.img 1.5b
create-q             | create -q -f qcow2 x.img 1M
# --- create: -o options and their checks
create-o-unknown     | create -f qcow2 -o foo=bar x.img 1M
create-o-raw-cluster | create -f raw -o cluster_size=4k x.img 1M
create-o-bad-bool    | create -f qcow2 -o lazy_refcounts=maybe x.img 1M
create-o-bad-size    | create -f qcow2 -o cluster_size=foo x.img 1M
create-o-bad-num     | create -f qcow2 -o refcount_bits=foo x.img 1M
create-o-compat      | create -f qcow2 -o compat=0.9 x.img 1M
create-o-prealloc    | create -f qcow2 -o preallocation=bogus x.img 1M
create-o-comp-type   | create -f qcow2 -o compression_type=lz4 x.img 1M
create-o-size        | create -f qcow2 -o size=2M x.img
create-o-all         | create -f qcow2 -o cluster_size=4k,compat=1.1,lazy_refcounts=on,refcount_bits=8,compression_type=zstd x.img 3M
create-o-bare-bool   | create -f qcow2 -o lazy_refcounts x.img 1M
create-o-repeated    | create -f qcow2 -o cluster_size=4k -o compat=0.10 x.img 1M
# --- create: backing files
create-b-no-F        | create -f qcow2 -b a.qcow2 x.img
create-b-F           | create -f qcow2 -b a.qcow2 -F qcow2 x.img
create-b-F-size      | create -f qcow2 -b a.qcow2 -F qcow2 x.img 8M
create-b-missing     | create -f qcow2 -b nonexist -F qcow2 x.img 1M
create-b-raw         | create -f raw -b a.qcow2 -F qcow2 x.img 1M
create-b-u-no-size   | create -f qcow2 -u -b nonexist -F qcow2 x.img
create-b-u           | create -f qcow2 -u -b nonexist -F qcow2 x.img 1M
# --- info, check, map, compare: usage and exit statuses
info-missing         | info nonexist
info-two-files       | info r.img a.qcow2
info-bad-output      | info --output=xml r.img
info-unknown-driver  | info -f foo r.img
check-raw            | check r.img
check-bad-r          | check -r foo a.qcow2
check-missing        | check nonexist
compare-one          | compare a.qcow2
compare-missing      | compare a.qcow2 nonexist
compare-same         | compare a.qcow2 a.qcow2
compare-differ       | compare a.qcow2 b.qcow2
compare-strict-size  | compare -s a.qcow2 b.qcow2
compare-q            | compare -q a.qcow2 b.qcow2
compare-raw-qcow2    | compare -f raw -F qcow2 r.img b.qcow2
map-missing          | map nonexist
map-range            | map --start-offset=64k --max-length=96k a.qcow2
map-range-json       | map --output=json --start-offset=100k --max-length=1M a.qcow2
map-bad-start        | map --start-offset=foo a.qcow2
map-bad-output       | map --output=xml a.qcow2
check-q              | check -q a.qcow2
# --- a raw file of 6 bytes: one 512-byte sector whose tail reads as zeros
odd-info             | info t.txt
odd-info-json        | info --output=json t.txt
odd-map              | map t.txt
odd-map-json         | map --output=json t.txt
odd-map-range        | map --output=json --start-offset=4 t.txt
odd-check            | check t.txt
odd-compare-zeros    | compare t.txt z100
odd-compare-self     | compare -s t.txt t.txt
odd-compare-padded   | compare -f raw -F raw t.txt z100
odd-measure          | measure -O qcow2 t.txt
odd-measure-json     | measure --output=json -O qcow2 t.txt
odd-convert-qcow2    | convert -O qcow2 t.txt x.img
odd-convert-raw      | convert -O raw t.txt x.img
odd-dd               | dd if=t.txt of=x.img
odd-dd-bs            | dd bs=4 count=1 skip=1 if=t.txt of=x.img
# --- short files opened as qcow2
qcow2-short-text     | info -f qcow2 t.txt
qcow2-short-zeros    | info -f qcow2 z100
qcow2-empty          | info -f qcow2 empty
qcow2-cut-v3         | info cut3.qcow2
qcow2-cut-v2         | info cut2.qcow2
qcow2-cut-v2-json    | info --output=json cut2.qcow2
qcow2-cut-v2-map     | map cut2.qcow2
# --- a directory is no image (read-only opens stat it; read-write fail open)
dir-info             | info d
dir-info-raw         | info -f raw d
dir-check            | check d
dir-map              | map d
dir-compare          | compare d t.txt
dir-convert          | convert -O raw d x.img
dir-check-r          | check -r all d
dir-resize           | resize d 1M
# --- convert: option checks before any work
convert-no-target    | convert r.img
convert-c-raw        | convert -c r.img x.img
convert-bad-S        | convert -S 1000 r.img x.img
convert-bad-S-unit   | convert -S foo r.img x.img
convert-bad-m        | convert -m 20 r.img x.img
convert-B-raw        | convert -B a.qcow2 -O raw r.img x.img
convert-B-no-F       | convert -B a.qcow2 -O qcow2 r.img x.img
convert-unknown-fmt  | convert -O foo r.img x.img
convert-missing-src  | convert -O qcow2 nonexist x.img
convert-n-missing    | convert -n -O qcow2 r.img x.img
convert-bad-cluster  | convert -O qcow2 -o cluster_size=1000 r.img x.img
convert-onto-source  | convert -O qcow2 a.qcow2 a.qcow2
convert-onto-source2 | convert -O raw r.img a.qcow2 a.qcow2
dd-onto-source       | dd if=a.qcow2 of=a.qcow2
convert-l-bad-param  | convert -l snapshot.foo=1 -O raw a.qcow2 x.img
convert-l-multiple   | convert -l 1 -O raw a.qcow2 r.img x.img
CASES

table run <<'CASES'
# --- resize
resize-no-size       | resize a.qcow2
resize-shrink-refuse | resize a.qcow2 -1M
resize-negative      | resize a.qcow2 -- -100M
resize-zero          | resize a.qcow2 0
resize-bad-size      | resize a.qcow2 foo
resize-bad-prealloc  | resize --preallocation=bogus a.qcow2 8M
resize-raw-probed    | resize r.img 512k
resize-grow          | resize a.qcow2 +1M
resize-grow-q        | resize -q a.qcow2 16M
resize-shrink        | resize --shrink a.qcow2 2M
resize-raw           | resize -f raw r.img 3M
# --- measure
measure-size-qcow2   | measure --size 1G -O qcow2
measure-size-json    | measure --output=json --size 1G -O qcow2
measure-size-4k      | measure -O qcow2 -o cluster_size=4k --size 100M
measure-size-v2      | measure -O qcow2 -o compat=0.10 --size 10G
measure-size-raw     | measure --size 1G
measure-file-qcow2   | measure -O qcow2 a.qcow2
measure-file-json    | measure --output=json -O qcow2 a.qcow2
measure-file-raw     | measure -O raw a.qcow2
measure-file-512     | measure -O qcow2 -o cluster_size=512 a.qcow2
measure-nothing      | measure
measure-both         | measure --size 1G a.qcow2
# --- amend, commit, rebase, dd: usage and errors
amend-no-o           | amend a.qcow2
amend-creation-only  | amend -o cluster_size=4k a.qcow2
amend-raw            | amend -f raw -o size=1M r.img
commit-no-backing    | commit a.qcow2
rebase-no-b          | rebase a.qcow2
rebase-no-F          | rebase -b b.qcow2 a.qcow2
dd-no-of             | dd if=a.qcow2
dd-bad-bs            | dd bs=foo if=a.qcow2 of=x.img
dd-zero-bs           | dd bs=0 if=a.qcow2 of=x.img
dd-bad-operand       | dd foo=1 if=a.qcow2 of=x.img
dd-skip-too-far      | dd skip=100000 if=r.img of=x.img
# --- snapshot
snapshot-mix         | snapshot -l -c x a.qcow2
snapshot-list-raw    | snapshot -l r.img
snapshot-list-empty  | snapshot -l a.qcow2
snapshot-no-file     | snapshot -l
snapshot-raw-create  | snapshot -c s t.txt
snapshot-raw-apply   | snapshot -a s t.txt
snapshot-raw-delete  | snapshot -d s t.txt
snapshot-raw-list    | snapshot -l t.txt
snapshot-apply-none  | snapshot -a nope a.qcow2
snapshot-delete-none | snapshot -d nope a.qcow2
snapshot-raw-create2 | snapshot -c s r.img
convert-l-raw        | convert -l s -O raw t.txt x.img
convert-l-raw-id     | convert -l snapshot.id=1 -O raw r.img x.img
CASES
