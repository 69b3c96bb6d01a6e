#!/usr/bin/env bash
# No wrong data and no image QEMU calls corrupt: the cases where imgtool
# used to differ from qemu-img 7.2 in what ends up on disk.
#
# Every case prepares two identical directories with qemu-img and qemu-io
# (the "setup" commands run in q/, which is then copied to i/), runs the same
# command with both tools (twin: same status, stdout and stderr), then
# compares what they left:
#   cmp FILE    FILE is byte for byte the same in both directories
#   data FILE   FILE passes qemu-img check in i/ and reads the same as
#               qemu-img's (qemu-img compare), snapshots included
#   gone FILE   the command fails as qemu-img's does (status and stdout;
#               the messages may differ) and FILE does not exist in i/:
#               a failed command leaves no new file behind
#   none        only the command's output is compared
# ("nostderr " in front of any of them: the messages may differ.)
# and finally runs the "after" commands in i/ (they must succeed; qemu-io
# reads with -P check the guest data itself).  In the commands $Q is
# qemu-img, $QIO qemu-io and $I imgtool; '|' separates the fields.
. "$(dirname "$0")/img-common.bash"
need_tools

# check_clean FILE: qemu-img check finds nothing (leaks included).
check_clean() {
    "$QEMU_IMG" check "$1" >"$1.check" 2>&1
}

# same_data DIR FILE: i/FILE reads like q/FILE, the active disk and every
# internal snapshot, and qemu-img check is happy with it.
same_data() {
    local d=$1 f=$2 sn
    check_clean "$d/i/$f" || {
        echo "qemu-img check: $(tail -n 3 "$d/i/$f.check")"
        return 1
    }
    "$QEMU_IMG" compare -q "$d/q/$f" "$d/i/$f" || {
        echo "the active disks differ"
        return 1
    }
    for sn in $("$QEMU_IMG" snapshot -l "$d/q/$f" 2>/dev/null | awk 'NR > 2 { print $2 }'); do
        "$QEMU_IMG" convert -l "$sn" -O raw "$d/q/$f" "$d/q.$sn.raw" &&
            "$QEMU_IMG" convert -l "$sn" -O raw "$d/i/$f" "$d/i.$sn.raw" &&
            cmp -s "$d/q.$sn.raw" "$d/i.$sn.raw" || {
            echo "snapshot $sn differs"
            return 1
        }
    done
}

run_case() { # name setup command verify after
    local name=$1 setup=$2 cmd=$3 verify=$4 after=${5:-} d t why
    d=$(case_dir "$name")
    # Once, then copied: snapshot dates must be the same in both.
    if ! (cd "$d/q" && Q=$QEMU_IMG QIO=$QEMU_IO bash -ec "$setup") >"$d/setup.log" 2>&1; then
        fail "$name" "the qemu-img setup failed"
        indent "$d/setup.log"
        return
    fi
    cp -a "$d/q/." "$d/i/"
    # shellcheck disable=SC2086  # the command is split into words on purpose
    eval "set -- $cmd"
    local stderr=yes
    [[ $verify == gone\ * ]] && stderr=no
    if [[ $verify == nostderr\ * ]]; then
        stderr=no
        verify=${verify#nostderr }
    fi
    TWIN_STDERR=$stderr twin "$name" "$d" "$@" >"$d/twin.log"
    if ! grep -q '^PASS' "$d/twin.log"; then
        cat "$d/twin.log"
        return
    fi
    case $verify in
    cmp\ *)
        if ! cmp "$d/q/${verify#cmp }" "$d/i/${verify#cmp }" >"$d/why" 2>&1; then
            fail "$name" "${verify#cmp } is not the file qemu-img writes"
            indent "$d/why"
            return
        fi
        ;;
    data\ *)
        if ! why=$(same_data "$d" "${verify#data }"); then
            fail "$name" "$why"
            return
        fi
        ;;
    gone\ *)
        if [ -e "$d/i/${verify#gone }" ]; then
            fail "$name" "the failed command left ${verify#gone } behind"
            return
        fi
        ;;
    none) ;;
    *)
        fail "$name" "bad verify field '$verify'"
        return
        ;;
    esac
    if [ -n "$after" ] &&
        ! (cd "$d/i" && Q=$QEMU_IMG QIO=$QEMU_IO I=$IMGTOOL bash -ec "$after") >"$d/after.log" 2>&1; then
        fail "$name" "the check afterwards failed: $after"
        indent "$d/after.log"
        return
    fi
    pass "$name"
}

# qread FILE qemu-io-args...: the reads succeed and match their -P
# patterns (qemu-io prints "Pattern verification failed" but exits 0).
qread() {
    local out
    out=$("$QEMU_IO" "$@" 2>&1) && grep -q '^read ' <<<"$out" && ! grep -qi -e fail -e error <<<"$out"
}
export -f qread
export QEMU_IO

# poke FILE OFFSET HEX: overwrite bytes of FILE at OFFSET (damage on purpose).
poke() {
    xxd -r -p <<<"$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
export -f poke

table run_case <<'CASES'
# --- convert -n into a target whose backing file holds data: the source's
# zero areas must be written as zeroes, not left to the backing file.
convert-n-backing | $Q create -q -f qcow2 base.qcow2 4M; $QIO -c 'write -P 7 0 4M' base.qcow2 >/dev/null; $Q create -q -f qcow2 -b base.qcow2 -F qcow2 t.qcow2; $Q create -q -f qcow2 s.qcow2 4M; $QIO -c 'write -P 1 0 1M' s.qcow2 >/dev/null | convert -n -O qcow2 s.qcow2 t.qcow2 | data t.qcow2 | $Q compare s.qcow2 t.qcow2
convert-n-backing-v2 | $Q create -q -f qcow2 base.qcow2 4M; $QIO -c 'write -P 7 0 4M' base.qcow2 >/dev/null; $Q create -q -f qcow2 -o compat=0.10 -b base.qcow2 -F qcow2 t.qcow2; $Q create -q -f qcow2 s.qcow2 4M; $QIO -c 'write -P 1 1M 1M' s.qcow2 >/dev/null | convert -n -O qcow2 s.qcow2 t.qcow2 | data t.qcow2 | $Q compare s.qcow2 t.qcow2
convert-n-backing-src-chain | $Q create -q -f qcow2 base.qcow2 4M; $QIO -c 'write -P 7 0 4M' base.qcow2 >/dev/null; $Q create -q -f qcow2 -b base.qcow2 -F qcow2 t.qcow2; $Q create -q -f qcow2 sb.qcow2 4M; $QIO -c 'write -P 2 2M 1M' sb.qcow2 >/dev/null; $Q create -q -f qcow2 -b sb.qcow2 -F qcow2 s.qcow2; $QIO -c 'write -P 1 0 64k' s.qcow2 >/dev/null | convert -n -O qcow2 s.qcow2 t.qcow2 | data t.qcow2 | $Q compare s.qcow2 t.qcow2
convert-n-raw-zero | $Q create -q -f qcow2 base.qcow2 4M; $QIO -c 'write -P 7 0 4M' base.qcow2 >/dev/null; $Q create -q -f qcow2 -b base.qcow2 -F qcow2 t.qcow2; truncate -s 4M s.raw | convert -n -f raw -O qcow2 s.raw t.qcow2 | data t.qcow2 | $Q compare s.raw t.qcow2

# --- snapshot -c: ICOUNT is 0 (what qemu-img stores), shown by -l.
snapshot-icount | $Q create -q -f qcow2 a.qcow2 4M | snapshot -c s a.qcow2 | none | grep -qE '^1 .* 0$' <($Q snapshot -l a.qcow2)

# --- resize of a version 2 image with internal snapshots is refused.
resize-v2-snapshot | $Q create -q -f qcow2 -o compat=0.10 a.qcow2 4M; $Q snapshot -c s a.qcow2 | resize a.qcow2 8M | cmp a.qcow2 | $Q snapshot -a s a.qcow2
resize-v2-snapshot-shrink | $Q create -q -f qcow2 -o compat=0.10 a.qcow2 4M; $Q snapshot -c s a.qcow2 | resize --shrink a.qcow2 2M | cmp a.qcow2
resize-v3-snapshot | $Q create -q -f qcow2 a.qcow2 4M; $Q snapshot -c s a.qcow2 | resize a.qcow2 8M | cmp a.qcow2 | $Q snapshot -a s a.qcow2

# --- check -r all of a dirty lazy-refcounts image (qemu-io killed after a
# write) rebuilds the refcounts and clears the dirty bit.
check-dirty-lazy | $Q create -q -f qcow2 -o lazy_refcounts=on a.qcow2 4M; ! $QIO -c 'write -P 5 0 64k' -c 'sigraise 9' a.qcow2 >/dev/null 2>&1 | check -r all a.qcow2 | cmp a.qcow2 | grep -q 'corrupt: false' <($Q info a.qcow2); ! grep -q '"dirty-flag": true' <($Q info --output=json a.qcow2)
# Known difference: when -r leaks cannot repair (a refcount of 0 on a
# cluster in use), qemu-img still clears the dirty bit as it closes the
# image, so the next read-write open trusts the wrong refcount and may hand
# the cluster out twice.  imgtool keeps the bit: the next open repairs.
check-leaks-dirty-lazy | $Q create -q -f qcow2 -o lazy_refcounts=on a.qcow2 4M; ! $QIO -c 'write -P 5 0 64k' -c 'sigraise 9' a.qcow2 >/dev/null 2>&1 | check -r leaks a.qcow2 | none | grep -q '"dirty-flag": true' <($Q info --output=json a.qcow2)

# --- amend -o lazy_refcounts=off really turns them off.
amend-lazy-off | $Q create -q -f qcow2 -o lazy_refcounts=on a.qcow2 4M; $QIO -c 'write -P 5 0 64k' a.qcow2 >/dev/null | amend -o lazy_refcounts=off a.qcow2 | cmp a.qcow2 | grep -q 'lazy refcounts: false' <($Q info a.qcow2)
amend-lazy-on | $Q create -q -f qcow2 a.qcow2 4M | amend -o lazy_refcounts=on a.qcow2 | cmp a.qcow2
amend-lazy-on-v2 | $Q create -q -f qcow2 -o compat=0.10 a.qcow2 4M | amend -o lazy_refcounts=on a.qcow2 | cmp a.qcow2
amend-v2-lazy-on | $Q create -q -f qcow2 a.qcow2 4M | amend -o compat=0.10,lazy_refcounts=on a.qcow2 | cmp a.qcow2
amend-v2-of-lazy | $Q create -q -f qcow2 -o lazy_refcounts=on a.qcow2 4M; $QIO -c 'write -P 5 0 64k' a.qcow2 >/dev/null | amend -o compat=0.10 a.qcow2 | cmp a.qcow2

# --- amend -o compat=0.10: zero clusters are expanded, in the active
# tables and in those only a snapshot reaches; what cannot be expressed in
# version 2 is refused with qemu-img's words.
amend-v2-zero | $Q create -q -f qcow2 a.qcow2 4M; $QIO -c 'write -P 1 0 1M' -c 'write -z 0 64k' -c 'write -z 2M 64k' a.qcow2 >/dev/null | amend -o compat=0.10 a.qcow2 | cmp a.qcow2 | qread a.qcow2 -c 'read -P 0 0 64k' -c 'read -P 1 64k 960k'
amend-v2-zero-in-snapshot | $Q create -q -f qcow2 a.qcow2 4M; $QIO -c 'write -P 1 0 1M' -c 'write -z 0 64k' -c 'write -z 256k 64k' a.qcow2 >/dev/null; $Q snapshot -c s a.qcow2; $QIO -c 'write -P 2 0 128k' -c 'write -P 3 256k 64k' a.qcow2 >/dev/null | amend -o compat=0.10 a.qcow2 | cmp a.qcow2 | $Q snapshot -a s a.qcow2; $Q check a.qcow2; qread a.qcow2 -c 'read -P 0 0 64k' -c 'read -P 1 64k 192k' -c 'read -P 0 256k 64k'
# Known difference: the zero cluster at 1M shares its host cluster with
# the snapshot's data (qemu-io's write -z keeps the allocation); qemu-img
# 7.2 fills that host cluster with zeros and so wipes the snapshot's data
# there, imgtool gives the zero cluster a cluster of its own.
amend-v2-zero-backing | $Q create -q -f qcow2 b.qcow2 4M; $QIO -c 'write -P 9 0 4M' b.qcow2 >/dev/null; $Q create -q -f qcow2 -b b.qcow2 -F qcow2 a.qcow2; $QIO -c 'write -z 0 64k' -c 'write -P 1 1M 64k' a.qcow2 >/dev/null; $Q snapshot -c s a.qcow2; $QIO -c 'write -P 2 0 64k' -c 'write -z 1M 64k' a.qcow2 >/dev/null | amend -o compat=0.10 a.qcow2 | none | $Q check a.qcow2; $Q compare -q a.qcow2 ../q/a.qcow2; $Q snapshot -a s a.qcow2; qread a.qcow2 -c 'read -P 0 0 64k' -c 'read -P 9 64k 64k' -c 'read -P 1 1M 64k'
amend-v2-zero-alloc | $Q create -q -f qcow2 a.qcow2 4M; $QIO -c 'write -P 1 0 1M' -c 'write -z 0 128k' a.qcow2 >/dev/null; $Q snapshot -c s a.qcow2 | amend -o compat=0.10 a.qcow2 | cmp a.qcow2 | $Q snapshot -a s a.qcow2; qread a.qcow2 -c 'read -P 0 0 128k' -c 'read -P 1 128k 896k'
amend-v2-snapshot-size | $Q create -q -f qcow2 a.qcow2 4M; $Q snapshot -c s a.qcow2; $Q resize -q a.qcow2 8M | amend -o compat=0.10 a.qcow2 | cmp a.qcow2
amend-v2-refcount-bits | $Q create -q -f qcow2 -o refcount_bits=8 a.qcow2 4M | amend -o compat=0.10 a.qcow2 | cmp a.qcow2
amend-v2-extl2 | $Q create -q -f qcow2 -o extended_l2=on a.qcow2 4M | amend -o compat=0.10 a.qcow2 | cmp a.qcow2
amend-v2-zstd-empty | $Q create -q -f qcow2 -o compression_type=zstd a.qcow2 4M | amend -o compat=0.10 a.qcow2 | cmp a.qcow2
amend-v2-zstd-data | $Q create -q -f qcow2 -o compression_type=zstd a.qcow2 4M; $QIO -c 'write -c -P 3 0 64k' a.qcow2 >/dev/null | amend -o compat=0.10 a.qcow2 | cmp a.qcow2
amend-v2-dirty | $Q create -q -f qcow2 -o lazy_refcounts=on a.qcow2 4M; ! $QIO -c 'write -P 5 0 64k' -c 'sigraise 9' a.qcow2 >/dev/null 2>&1 | amend -o compat=0.10 a.qcow2 | data a.qcow2 | grep -q 'compat: 0.10' <($Q info a.qcow2)
CASES

# --- relative backing names, three levels deep, used from another
# directory: w/c.qcow2 -> d1/b.qcow2 -> d2/a.qcow2, each name relative to
# the image that holds it.  Decoys with the same relative names sit in the
# current directory (full of 9s): reading them would be silent data loss.
CHAIN="mkdir -p w/d1/d2 d1/d2 d2; \$Q create -q -f qcow2 w/d1/d2/a.qcow2 4M; \$QIO -c 'write -P 3 0 1M' w/d1/d2/a.qcow2 >/dev/null; \$Q create -q -f qcow2 -b d2/a.qcow2 -F qcow2 w/d1/b.qcow2; \$QIO -c 'write -P 4 1M 1M' w/d1/b.qcow2 >/dev/null; \$Q create -q -f qcow2 -b d1/b.qcow2 -F qcow2 w/c.qcow2; \$QIO -c 'write -P 5 2M 64k' w/c.qcow2 >/dev/null; for f in d2/a.qcow2 d1/d2/a.qcow2 d1/b.qcow2; do \$Q create -q -f qcow2 \$f 4M; \$QIO -c 'write -P 9 0 4M' \$f >/dev/null; done"
CHAIN_READ="qread w/c.qcow2 -c 'read -P 3 0 1M' -c 'read -P 4 1M 1M' -c 'read -P 5 2M 64k' -c 'read -P 0 3M 1M'"
sed -e "s|@CHAIN@|$CHAIN|g" -e "s|@READ@|$CHAIN_READ|g" <<'CASES' | table run_case
chain-map          | @CHAIN@ | map w/c.qcow2                          | none
chain-map-json     | @CHAIN@ | map --output=json w/c.qcow2            | none
chain-convert      | @CHAIN@ | convert -O raw w/c.qcow2 out.raw       | cmp out.raw
chain-convert-qcow2 | @CHAIN@ | convert -O qcow2 w/c.qcow2 out.qcow2  | cmp out.qcow2
chain-dd           | @CHAIN@ | dd bs=64k if=w/c.qcow2 of=out.raw      | cmp out.raw
chain-compare      | @CHAIN@ | compare w/c.qcow2 w/d1/b.qcow2         | none
chain-compare-same | @CHAIN@; $Q convert -O raw w/c.qcow2 flat.raw | compare w/c.qcow2 flat.raw | none
chain-commit       | @CHAIN@ | commit w/c.qcow2                       | data w/d1/b.qcow2 | qread w/d1/b.qcow2 -c 'read -P 3 0 1M' -c 'read -P 4 1M 1M' -c 'read -P 5 2M 64k'
chain-commit-base-cwd | @CHAIN@ | commit -b w/d1/d2/a.qcow2 w/c.qcow2 | cmp w/d1/d2/a.qcow2
chain-commit-base  | @CHAIN@ | commit -b d2/a.qcow2 w/c.qcow2          | data w/d1/d2/a.qcow2 | qread w/d1/d2/a.qcow2 -c 'read -P 3 0 1M' -c 'read -P 4 1M 1M' -c 'read -P 5 2M 64k'
chain-rebase       | @CHAIN@ | rebase -b d1/d2/a.qcow2 -F qcow2 w/c.qcow2 | data w/c.qcow2 | @READ@
chain-rebase-flatten | @CHAIN@ | rebase -b '' w/c.qcow2               | data w/c.qcow2 | @READ@
CASES

table run_case <<'CASES'
# --- sizes that are not a multiple of 512 round up to whole sectors.
create-qcow2-odd-size | true | create -f qcow2 a.qcow2 1234 | cmp a.qcow2 | grep -q '(1536 bytes)' <($Q info a.qcow2)
create-raw-odd-size   | true | create -f raw a.raw 1234     | cmp a.raw
create-qcow2-odd-prealloc | true | create -f qcow2 -o preallocation=full a.qcow2 100000 | cmp a.qcow2

# --- a failed command leaves no new file behind (qemu-img leaves a
# partial image when the copy fails after the target was created).
create-bad-cluster-size | true | create -f qcow2 -o cluster_size=3k a.qcow2 1M | gone a.qcow2
create-missing-backing  | true | create -f qcow2 -b nonexist.qcow2 -F qcow2 a.qcow2 | gone a.qcow2
create-too-large        | true | create -f qcow2 a.qcow2 100E | gone a.qcow2
convert-read-error      | $Q create -q -f qcow2 s.qcow2 1M; $QIO -c 'write -P 1 0 256k' s.qcow2 >/dev/null; poke s.qcow2 262152 8000000000050200 | convert -O qcow2 s.qcow2 o.qcow2 | gone o.qcow2
convert-read-error-c    | $Q create -q -f qcow2 s.qcow2 1M; $QIO -c 'write -P 1 0 256k' s.qcow2 >/dev/null; poke s.qcow2 262152 8000000000050200 | convert -c -O qcow2 s.qcow2 o.qcow2 | gone o.qcow2
convert-read-error-raw  | $Q create -q -f qcow2 s.qcow2 1M; $QIO -c 'write -P 1 0 256k' s.qcow2 >/dev/null; poke s.qcow2 262152 8000000000050200 | convert -O raw s.qcow2 o.raw | gone o.raw
dd-read-error           | $Q create -q -f qcow2 s.qcow2 1M; $QIO -c 'write -P 1 0 256k' s.qcow2 >/dev/null; poke s.qcow2 262152 8000000000050200 | dd bs=64k if=s.qcow2 of=o.raw | gone o.raw

# --- convert -c of several sources whose ends fall inside a cluster:
# the clusters across the joins are compressed whole, as qemu-img does
# (the same data; libdeflate compresses to other bytes than zlib).
convert-c-multi | head -c 98304 /dev/urandom >a.raw; head -c 40960 /dev/zero >b.raw; head -c 70000 /dev/urandom >c.raw; $Q create -q -f qcow2 d.qcow2 1M; $QIO -c 'write -P 6 100k 300k' d.qcow2 >/dev/null | convert -c -O qcow2 a.raw b.raw c.raw d.qcow2 o.qcow2 | data o.qcow2 | $Q check o.qcow2
convert-c-multi-4k | head -c 5000 /dev/urandom >a.raw; head -c 3000 /dev/urandom >b.raw | convert -c -O qcow2 -o cluster_size=4k a.raw b.raw a.raw o.qcow2 | data o.qcow2 | $Q check o.qcow2
CASES

# --- extended L2 over a backing file longer than the image: growing with
# preallocation must leave the new area reading zeros (not the backing
# file's bytes), laid out as qemu-img lays it out.
XL2="\$Q create -q -f qcow2 b.qcow2 8M; \$QIO -c 'write -P 7 0 8M' b.qcow2 >/dev/null; \$Q create -q -f qcow2 -o extended_l2=on -b b.qcow2 -F qcow2 a.qcow2 2M; \$QIO -c 'write -P 1 0 64k' a.qcow2 >/dev/null"
XL2U="\$Q create -q -f qcow2 b.qcow2 8M; \$QIO -c 'write -P 7 0 8M' b.qcow2 >/dev/null; \$Q create -q -f qcow2 -o extended_l2=on -b b.qcow2 -F qcow2 a.qcow2 2000k"
# A damaged extended L2 entry (guest 64k): an unaligned host offset, no
# allocated subcluster, subclusters 0-3 reading as zeros; and one (guest
# 128k) whose subcluster 0 is both allocated and zero.
XBAD="\$Q create -q -f qcow2 b.qcow2 1M; \$QIO -c 'write -P 7 0 1M' b.qcow2 >/dev/null; \$Q create -q -f qcow2 -o extended_l2=on -b b.qcow2 -F qcow2 a.qcow2; \$QIO -c 'write -P 1 0 64k' -c 'write -P 2 128k 4k' a.qcow2 >/dev/null"
XBAD1="poke a.qcow2 262160 80000000000602000000000f00000000"
XBAD2="poke a.qcow2 262184 0000000100000001"
sed -e "s|@XL2@|$XL2|g" -e "s|@XL2U@|$XL2U|g" -e "s|@XBAD@|$XBAD|g" -e "s|@XBAD1@|$XBAD1|g" -e "s|@XBAD2@|$XBAD2|g" <<'CASES' | table run_case
xl2-resize-metadata | @XL2@ | resize --preallocation=metadata a.qcow2 6M | cmp a.qcow2 | qread a.qcow2 -c 'read -P 1 0 64k' -c 'read -P 7 64k 1984k' -c 'read -P 0 2M 4M'
xl2-resize-falloc   | @XL2@ | resize --preallocation=falloc a.qcow2 6M   | cmp a.qcow2 | qread a.qcow2 -c 'read -P 1 0 64k' -c 'read -P 7 64k 1984k' -c 'read -P 0 2M 4M'
xl2-resize-full     | @XL2@ | resize --preallocation=full a.qcow2 6M     | cmp a.qcow2 | qread a.qcow2 -c 'read -P 1 0 64k' -c 'read -P 7 64k 1984k' -c 'read -P 0 2M 4M'
xl2-resize-off      | @XL2@ | resize a.qcow2 6M                          | cmp a.qcow2 | qread a.qcow2 -c 'read -P 7 64k 1984k' -c 'read -P 0 2M 4M'
xl2-resize-unaligned-metadata | @XL2U@ | resize --preallocation=metadata a.qcow2 6M | cmp a.qcow2 | qread a.qcow2 -c 'read -P 7 0 2000k' -c 'read -P 0 2000k 4144k'
xl2-resize-unaligned-full | @XL2U@ | resize --preallocation=full a.qcow2 6M | data a.qcow2 | qread a.qcow2 -c 'read -P 7 0 2000k' -c 'read -P 0 2000k 4144k'
plain-resize-unaligned-metadata | @XL2U@; $Q create -q -f qcow2 -b b.qcow2 -F qcow2 a.qcow2 2000k | resize --preallocation=metadata a.qcow2 6M | data a.qcow2 | qread a.qcow2 -c 'read -P 7 0 2000k' -c 'read -P 0 2000k 4144k'
plain-resize-unaligned-full | @XL2U@; $Q create -q -f qcow2 -b b.qcow2 -F qcow2 a.qcow2 2000k | resize --preallocation=full a.qcow2 6M | data a.qcow2 | qread a.qcow2 -c 'read -P 7 0 2000k' -c 'read -P 0 2000k 4144k'
plain-resize-unaligned-off | @XL2U@; $Q create -q -f qcow2 -b b.qcow2 -F qcow2 a.qcow2 2000k | resize a.qcow2 6M | cmp a.qcow2 | qread a.qcow2 -c 'read -P 7 0 2000k' -c 'read -P 0 2000k 4144k'
xl2-check-unaligned-zero | @XBAD@; @XBAD1@ | check -r all a.qcow2 | cmp a.qcow2 | qread a.qcow2 -c 'read -P 1 0 64k' -c 'read -P 0 64k 8k' -c 'read -P 7 72k 56k'
xl2-check-alloc-and-zero | @XBAD@; @XBAD2@ | check -r all a.qcow2 | cmp a.qcow2
xl2-check-alloc-and-zero-ro | @XBAD@; @XBAD2@ | check a.qcow2 | cmp a.qcow2
CASES

# --- damaged snapshot entries: the image still opens, check reports the
# entry as qemu-img does, the damaged snapshot cannot be used, the others
# can be deleted.  Snapshot 1's table entry is at 0x1a0000 (1703936).
SNAP="\$Q create -q -f qcow2 a.qcow2 4M; \$QIO -c 'write -P 1 0 1M' a.qcow2 >/dev/null; \$Q snapshot -c s1 a.qcow2; \$QIO -c 'write -P 2 0 64k' a.qcow2 >/dev/null; \$Q snapshot -c s2 a.qcow2"
sed -e "s|@SNAP@|$SNAP|g" <<'CASES' | table run_case
snap-table-past-eof-list   | @SNAP@; poke a.qcow2 60 00000005 | snapshot -l a.qcow2 | none
snap-table-past-eof-check  | @SNAP@; poke a.qcow2 60 00000005 | check a.qcow2 | cmp a.qcow2
snap-table-past-eof-repair | @SNAP@; poke a.qcow2 60 00000005 | check -r all a.qcow2 | none | $Q check a.qcow2; diff <($Q snapshot -l a.qcow2) <($Q snapshot -l ../q/a.qcow2); cmp <(head -c 1703936 a.qcow2) <(head -c 1703936 ../q/a.qcow2)
snap-table-past-eof-delete | @SNAP@; poke a.qcow2 60 00000005 | snapshot -d s1 a.qcow2 | nostderr none
snap-l1-unaligned-check    | @SNAP@; poke a.qcow2 1703936 0000000000170200 | check a.qcow2 | cmp a.qcow2
snap-l1-unaligned-list     | @SNAP@; poke a.qcow2 1703936 0000000000170200 | snapshot -l a.qcow2 | none
snap-l1-unaligned-delete   | @SNAP@; poke a.qcow2 1703936 0000000000170200 | snapshot -d s1 a.qcow2 | cmp a.qcow2
snap-l1-unaligned-apply    | @SNAP@; poke a.qcow2 1703936 0000000000170200 | snapshot -a s1 a.qcow2 | nostderr cmp a.qcow2
snap-l1-unaligned-repair   | @SNAP@; poke a.qcow2 1703936 0000000000170200 | check -r all a.qcow2 | cmp a.qcow2
snap-l1-past-eof-check     | @SNAP@; poke a.qcow2 1703936 0000000010000000 | check a.qcow2 | cmp a.qcow2
snap-l1-past-eof-delete    | @SNAP@; poke a.qcow2 1703936 0000000010000000 | snapshot -d s1 a.qcow2 | nostderr none | diff <($Q check a.qcow2 2>&1) <($Q check ../q/a.qcow2 2>&1); qread a.qcow2 -c 'read -P 2 0 64k' -c 'read -P 1 64k 960k'
CASES

# --- --shrink gives the space back: the file ends after the last cluster
# in use, refcount blocks that count nothing are dropped (512-byte
# clusters: one block per 256 clusters), the data that stays is intact.
table run_case <<'CASES'
shrink-truncates      | $Q create -q -f qcow2 a.qcow2 64M; $QIO -c 'write -P 1 0 60M' a.qcow2 >/dev/null | resize --shrink a.qcow2 8M | cmp a.qcow2 | qread a.qcow2 -c 'read -P 1 0 8M'
shrink-refblocks      | $Q create -q -f qcow2 -o cluster_size=512 a.qcow2 8M; $QIO -c 'write -P 1 0 8M' a.qcow2 >/dev/null | resize --shrink a.qcow2 1M | data a.qcow2 | cmp <(od -An -tx1 -j 8520192 -N 1024 a.qcow2) <(od -An -tx1 -j 8520192 -N 1024 ../q/a.qcow2); qread a.qcow2 -c 'read -P 1 0 1M'
shrink-holes          | $Q create -q -f qcow2 a.qcow2 64M; $QIO -c 'write -P 1 0 60M' -c 'write -P 2 63M 1M' a.qcow2 >/dev/null | resize --shrink a.qcow2 8M | data a.qcow2 | test $(stat -c %b a.qcow2) -le $(stat -c %b ../q/a.qcow2)

# --- preallocation=metadata, then growing with falloc/full: the new area
# inside the old last cluster is preallocated too, so writing there does
# not grow the file.
prealloc-last-cluster-falloc | $Q create -q -f qcow2 -o preallocation=metadata a.qcow2 100k; $QIO -c 'write -P 1 0 100k' a.qcow2 >/dev/null | resize --preallocation=falloc a.qcow2 300k | cmp a.qcow2 | s=$(stat -c %s a.qcow2); $QIO -c 'write -P 2 100k 28k' a.qcow2 >/dev/null; test $(stat -c %s a.qcow2) = $s; qread a.qcow2 -c 'read -P 1 0 100k' -c 'read -P 2 100k 28k' -c 'read -P 0 128k 172k'
prealloc-last-cluster-full | $Q create -q -f qcow2 -o preallocation=metadata a.qcow2 100k; $QIO -c 'write -P 1 0 100k' a.qcow2 >/dev/null | resize --preallocation=full a.qcow2 300k | cmp a.qcow2 | s=$(stat -c %s a.qcow2); $QIO -c 'write -P 2 100k 28k' a.qcow2 >/dev/null; test $(stat -c %s a.qcow2) = $s; qread a.qcow2 -c 'read -P 1 0 100k' -c 'read -P 2 100k 28k' -c 'read -P 0 128k 172k'
prealloc-last-cluster-snapshot | $Q create -q -f qcow2 -o preallocation=metadata a.qcow2 100k; $QIO -c 'write -P 1 0 100k' a.qcow2 >/dev/null; $Q snapshot -c s a.qcow2 | resize --preallocation=full a.qcow2 300k | data a.qcow2 | qread a.qcow2 -c 'read -P 1 0 100k' -c 'read -P 0 100k 200k'
CASES

