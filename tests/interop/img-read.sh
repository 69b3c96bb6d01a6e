#!/usr/bin/env bash
# Images written by qemu-img read identically through imgtool.
#
# Each table line is one image: "name | qemu-img create arguments (the file
# is img, 4 MiB unless the arguments say otherwise) | qemu-io commands
# separated by ';' | how to finish: '-' or 'compress' (qemu-img convert -c
# of the result, with the same -o options) or 'snapshot' (an internal
# snapshot, then more writes)".  For every
# image, in both tools:
#   info, info --output=json, map, map --output=json, check,
#   check --output=json (status and output byte for byte), and
#   convert -O raw (the raw result must be identical).
. "$(dirname "$0")/img-common.bash"
need_tools

# A pattern that touches many cases: plain data, a sub-cluster write, data
# crossing a cluster boundary, explicit zeroes, a discard, and the last
# byte of the disk.
IO_MIX='write -P 0x11 0 64k; write -P 0x22 200k 3000; write -P 0x33 1020k 8k; write -z 2M 128k; write -P 0x44 3M 64k; discard 3M 64k; write -P 0x55 4194303 1'

build() { # dir createargs io finish
    local d=$1 cargs=$2 io=$3 finish=$4 cmds=() c
    # shellcheck disable=SC2086
    (cd "$d" && "$QEMU_IMG" create -q $cargs img 4M) || return 1
    IFS=';' read -r -a cmds <<<"$io"
    local args=()
    for c in "${cmds[@]}"; do
        c=$(sed -E 's/^ +| +$//g' <<<"$c")
        [ -n "$c" ] && [ "$c" != - ] && args+=(-c "$c")
    done
    if [ ${#args[@]} -gt 0 ]; then
        "$QEMU_IO" "${args[@]}" "$d/img" >/dev/null || return 1
    fi
    case $finish in
    compress)
        local o
        o=$(grep -oE -- '-o [^ ]+' <<<"$cargs" | head -n1)
        # shellcheck disable=SC2086
        "$QEMU_IMG" convert -c -O qcow2 $o "$d/img" "$d/img.c" && mv "$d/img.c" "$d/img" ;;
    snapshot)
        "$QEMU_IMG" snapshot -c first "$d/img" &&
            "$QEMU_IO" -c 'write -P 0x66 0 32k' -c 'write -P 0x77 1M 64k' "$d/img" >/dev/null ;;
    esac
}

image() { # name createargs io finish
    local name=$1 d
    d=$(case_dir "$name")
    if ! build "$d/q" "$2" "$3" "${4:--}"; then
        fail "$name" "qemu-img could not build the image"
        return
    fi
    # Read-only commands: both tools look at the very same file (a copy
    # could be laid out differently on disk and change "disk size").
    rmdir "$d/i" && ln -s q "$d/i"
    twin "$name/info" "$d" info img
    twin "$name/info-json" "$d" info --output=json img
    twin "$name/map" "$d" map img
    twin "$name/map-json" "$d" map --output=json img
    twin "$name/check" "$d" check img
    twin "$name/check-json" "$d" check --output=json img
    if [ "${4:-}" = snapshot ]; then
        twin "$name/snapshot-list" "$d" snapshot -l img
    fi
    # Reading every byte: the raw images must be identical.
    (cd "$d/q" && "$QEMU_IMG" convert -O raw img out-q.raw)
    if (cd "$d/q" && "$IMGTOOL" convert -O raw img out-i.raw 2>"$d/conv.err") &&
        cmp -s "$d/q/out-q.raw" "$d/q/out-i.raw"; then
        pass "$name/convert-raw"
    else
        fail "$name/convert-raw" "imgtool convert -O raw differs from qemu-img's"
        indent "$d/conv.err"
    fi
    # compare against the raw copy, and against a copy with one byte changed.
    twin "$name/compare" "$d" compare img out-q.raw
    cp "$d/q/out-q.raw" "$d/q/changed.raw"
    printf '\x5a' | dd of="$d/q/changed.raw" bs=1 seek=1049000 conv=notrunc status=none
    local fmt
    fmt=$(awk '{ print $2 }' <<<"$2") # the table's arguments start "-f FMT"
    twin "$name/compare-changed" "$d" compare -f "$fmt" -F raw img changed.raw
}

table image <<CASES
raw                | -f raw                                           | $IO_MIX
qcow2-v3           | -f qcow2                                         | $IO_MIX
qcow2-v2           | -f qcow2 -o compat=0.10                          | $IO_MIX
qcow2-empty        | -f qcow2                                         | -
cluster-512        | -f qcow2 -o cluster_size=512                     | $IO_MIX
cluster-4k         | -f qcow2 -o cluster_size=4k                      | $IO_MIX
cluster-2M         | -f qcow2 -o cluster_size=2M                      | $IO_MIX
refcount-1         | -f qcow2 -o refcount_bits=1                      | $IO_MIX
refcount-8         | -f qcow2 -o refcount_bits=8                      | $IO_MIX
refcount-64        | -f qcow2 -o refcount_bits=64                     | $IO_MIX
lazy-refcounts     | -f qcow2 -o lazy_refcounts=on                    | $IO_MIX
extended-l2        | -f qcow2 -o extended_l2=on                       | $IO_MIX
extended-l2-32k    | -f qcow2 -o extended_l2=on,cluster_size=32k      | $IO_MIX
prealloc-metadata  | -f qcow2 -o preallocation=metadata               | $IO_MIX
prealloc-full      | -f qcow2 -o preallocation=full                   | write -P 0x11 0 64k
compressed-zlib    | -f qcow2 -o compression_type=zlib                | $IO_MIX | compress
compressed-zstd    | -f qcow2 -o compression_type=zstd                | $IO_MIX | compress
compressed-4k      | -f qcow2 -o cluster_size=4k                      | $IO_MIX | compress
snapshot           | -f qcow2                                         | $IO_MIX | snapshot
snapshot-v2        | -f qcow2 -o compat=0.10                          | $IO_MIX | snapshot
CASES

# Backing chains: a base, an overlay with its own writes, read through the
# chain; info --backing-chain in both output formats.
chain() {
    local name=$1 d
    d=$(case_dir "$name")
    (cd "$d/q" && "$QEMU_IMG" create -q -f qcow2 base.qcow2 4M &&
        "$QEMU_IO" -c 'write -P 1 0 1M' -c 'write -P 2 2M 64k' base.qcow2 >/dev/null &&
        "$QEMU_IMG" create -q -f qcow2 $2 top.qcow2 &&
        "$QEMU_IO" -c 'write -P 3 512k 64k' -c 'write -z 2M 4k' top.qcow2 >/dev/null) || {
        fail "$name" "qemu-img could not build the chain"
        return
    }
    rmdir "$d/i" && ln -s q "$d/i"
    twin "$name/info-chain" "$d" info --backing-chain top.qcow2
    twin "$name/info-chain-json" "$d" info --backing-chain --output=json top.qcow2
    twin "$name/map" "$d" map top.qcow2
    twin "$name/map-json" "$d" map --output=json top.qcow2
    (cd "$d/q" && "$QEMU_IMG" convert -O raw top.qcow2 out-q.raw)
    if (cd "$d/q" && "$IMGTOOL" convert -O raw top.qcow2 out-i.raw 2>"$d/conv.err") &&
        cmp -s "$d/q/out-q.raw" "$d/q/out-i.raw"; then
        pass "$name/convert-raw"
    else
        fail "$name/convert-raw" "imgtool convert -O raw differs from qemu-img's"
        indent "$d/conv.err"
    fi
}
table chain <<'CASES'
chain-qcow2 | -b base.qcow2 -F qcow2
chain-v2    | -o compat=0.10 -b base.qcow2 -F qcow2
CASES

# Damaged images: refcounts poked with dd, then check (and check -r, which
# changes the file, so each tool repairs its own copy).  Each line: "name |
# host cluster whose 16-bit refcount is overwritten | the new value | what
# of check -r all must match qemu-img: stdout (and status) or status".
be64() { od -An -t x1 -j "$2" -N 8 "$1" | tr -d ' \n' | sed 's/^/0x/'; }
poke_refcount() { # file cluster value
    local rt rb
    rt=$(be64 "$1" 48)          # header: refcount_table_offset
    rb=$(be64 "$1" $((rt)))     # refcount table entry 0: the first block
    printf "$(printf '\\x%02x\\x%02x' $(($3 >> 8)) $(($3 & 255)))" |
        dd of="$1" bs=1 seek=$((rb + 2 * $2)) conv=notrunc status=none
}
damaged() { # name cluster value
    local name=$1 d
    d=$(case_dir "$name")
    (cd "$d/q" && "$QEMU_IMG" create -q -f qcow2 img 4M &&
        "$QEMU_IO" -c 'write -P 0x11 0 128k' img >/dev/null) || {
        fail "$name" "qemu-img could not build the image"
        return
    }
    poke_refcount "$d/q/img" "$2" "$3"
    cp "$d/q/img" "$d/repair.img"
    rmdir "$d/i" && ln -s q "$d/i"
    twin "$name/check" "$d" check img
    twin "$name/check-json" "$d" check --output=json img
    if [ "${4:-}" = snapshot ]; then
        twin "$name/snapshot-list" "$d" snapshot -l img
    fi
    # Repairs: separate copies.
    local r
    r=$(case_dir "$name-repair")
    cp "$d/repair.img" "$r/q/img"
    cp "$d/repair.img" "$r/i/img"
    # "stdout" compares status, stdout and the per-cluster lines on stderr
    # (more damage cases, and the repaired layout: img-repair.sh).
    if [ "$4" = stdout ]; then
        twin "$name/check-r-all" "$r" check -r all img
    else
        (cd "$r/q" && "$QEMU_IMG" check -r all img >/dev/null 2>&1)
        local sq=$?
        (cd "$r/i" && "$IMGTOOL" check -r all img >/dev/null 2>&1)
        local si=$?
        if [ "$sq" = "$si" ]; then
            pass "$name/check-r-all-status"
        else
            fail "$name/check-r-all-status" "imgtool exits $si, qemu-img $sq"
        fi
    fi
    if "$QEMU_IMG" check "$r/i/img" >/dev/null 2>&1; then
        pass "$name/repaired-clean"
    else
        fail "$name/repaired-clean" "qemu-img check still finds problems after imgtool check -r all"
    fi
}
table damaged <<'CASES'
leak-header      | 0 | 2 | stdout
leak-l2          | 4 | 3 | stdout
corrupt-data     | 5 | 0 | stdout
CASES

# Header fields poked with dd: feature bits and hostile values.  Both tools
# must give the same answer (status and messages) for info and check.
# Each line: "name | qemu-img create arguments | file offset | bytes
# (printf escapes) | what to compare (default: info info-json check)", or
# "truncate:N" in the offset field to cut the file.
# Known differences, left out: an L1 table offset past the end of the file
# (qemu-img opens such an image and check reports it; imgtool's library
# refuses to open it), and check's wording for a truncated image.
poked() { # name createargs offset bytes
    local name=$1 d
    d=$(case_dir "$name")
    # shellcheck disable=SC2086
    (cd "$d/q" && "$QEMU_IMG" create -q $2 img 4M && "$QEMU_IO" -c 'write -P 1 0 64k' img >/dev/null) || {
        fail "$name" "qemu-img could not build the image"
        return
    }
    case $3 in
    truncate:*) truncate -s "${3#truncate:}" "$d/q/img" ;;
    *) printf "$4" | dd of="$d/q/img" bs=1 seek="$3" conv=notrunc status=none ;;
    esac
    rmdir "$d/i" && ln -s q "$d/i"
    local what=${5:-info info-json check} w
    for w in $what; do
        case $w in
        info) twin "$name/info" "$d" info img ;;
        info-json) twin "$name/info-json" "$d" info --output=json img ;;
        check) twin "$name/check" "$d" check img ;;
        esac
    done
}
table poked <<'CASES'
dirty-bit          | -f qcow2 -o lazy_refcounts=on | 79 | \x01
corrupt-bit        | -f qcow2                      | 79 | \x02
unknown-incompat   | -f qcow2                      | 78 | \x02
unknown-compat     | -f qcow2                      | 87 | \x80
unknown-autoclear  | -f qcow2                      | 95 | \x04
bad-version        | -f qcow2                      | 7  | \x04
bad-cluster-bits   | -f qcow2                      | 23 | \x08
huge-l1-size       | -f qcow2                      | 36 | \x7f\xff\xff\xff
truncated          | -f qcow2                      | truncate:200000 | | info info-json
CASES

# A backing chain that loops: info --backing-chain gives qemu-img's answer;
# commands that read through the chain must refuse it quickly and clearly
# (qemu-img 7.2 itself spins forever in map, so there is no twin for those).
d=$(case_dir backing-loop)
(cd "$d/q" && "$QEMU_IMG" create -q -f qcow2 -u -b l2.qcow2 -F qcow2 l1.qcow2 1M &&
    "$QEMU_IMG" create -q -f qcow2 -u -b l1.qcow2 -F qcow2 l2.qcow2 1M)
rmdir "$d/i" && ln -s q "$d/i"
twin "backing-loop/info-chain" "$d" info --backing-chain l1.qcow2
for cmd in "map l1.qcow2" "convert -O raw l1.qcow2 out.raw" "compare l1.qcow2 l2.qcow2"; do
    # shellcheck disable=SC2086
    (cd "$d/q" && timeout 20 "$IMGTOOL" $cmd >"$d/loop.out" 2>"$d/loop.err")
    st=$?
    if [ "$st" != 0 ] && [ "$st" != 124 ] && grep -q 'loop' "$d/loop.err"; then
        pass "backing-loop/${cmd%% *}"
    else
        fail "backing-loop/${cmd%% *}" "status $st, no clear loop message"
        indent "$d/loop.err"
    fi
done

# A refcount table entry zeroed: the refcounts of every cluster are gone,
# which only a rebuild (-r all) can mend.  check -r leaks must then stop as
# qemu-img does: "Check failed: Input/output error", status 1, after the
# same ERROR lines; check -r all must rebuild and leave a clean image.
d=$(case_dir refblock-gone)
(cd "$d/q" && "$QEMU_IMG" create -q -f qcow2 img 4M &&
    "$QEMU_IO" -c 'write -P 1 0 128k' img >/dev/null) &&
    rt=$(be64 "$d/q/img" 48) &&
    printf '\0\0\0\0\0\0\0\0' | dd of="$d/q/img" bs=1 seek=$((rt)) conv=notrunc status=none &&
    cp "$d/q/img" "$d/i/img" || fail "refblock-gone" "could not build the image"
twin "refblock-gone/check-r-leaks" "$d" check -r leaks img
twin "refblock-gone/check" "$d" check img
(cd "$d/i" && "$IMGTOOL" check -r all img >/dev/null 2>&1)
if "$QEMU_IMG" check "$d/i/img" >/dev/null 2>&1 && "$QEMU_IMG" compare -q "$d/q/img" "$d/i/img"; then
    pass "refblock-gone/check-r-all"
else
    fail "refblock-gone/check-r-all" "imgtool check -r all did not rebuild a clean image"
fi
