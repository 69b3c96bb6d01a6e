#!/usr/bin/env bash
# check and check -r on damaged qcow2 images: imgtool must find, word and
# repair every damage as qemu-img 7.2 does.
#
# Every case starts from the same image: qemu-img create -f qcow2 img 4M,
# then 128 KiB written at 0.  Its clusters (64 KiB each) are 0 header,
# 1 refcount table, 2 refcount block, 3 L1 table, 4 L2 table, 5 and 6 data.
# Each table line is "name | damage | what to compare after check -r all |
# snapshot, compress or - (optional: an internal snapshot is taken, or the
# image is recompressed, before the damage) | qemu-img create options
# (optional)".
# The damage is a list of WHERE=HEX pokes: WHERE is rt, rb, l1 or l2 (the
# start of that structure, read from the image) plus a byte offset, HEX the
# big-endian bytes written there; "grow=N" first extends the file to N
# clusters.  For every case, in both tools:
#   info and convert -O raw (reading must work as in qemu-img),
#   check, check --output=json, check -r leaks, check -r all (human and
#   json, on separate copies): status,
#   stdout and stderr byte for byte (after normalising the program name),
# and the image repaired by imgtool must pass qemu-img check and hold the
# same data.  The last field says how the repaired files compare:
#   same   the two repaired files are byte-identical (same layout);
#   unfixed  QEMU cannot mend this either and reports it again after the
#          repair: the repaired files must still be byte-identical;
#   data   only the guest data is compared (qemu-img compare);
#   qfail  qemu-img 7.2 itself fails to repair (it marks the image corrupt
#          with "Preventing invalid write on metadata"): imgtool must
#          repair it instead, so only imgtool's result is checked.
. "$(dirname "$0")/img-common.bash"
need_tools

be64() { od -An -t x1 -j "$2" -N 8 "$1" | tr -d ' \n' | sed 's/^/0x/'; }

# damage FILE SPEC...: apply the pokes of one table line.
damage() {
    local f=$1 p where hex base off esc
    shift
    local rt rb l1 l2
    rt=$(($(be64 "$f" 48)))
    rb=$(($(be64 "$f" "$rt") & ~0x1ff))
    l1=$(($(be64 "$f" 40)))
    l2=$(($(be64 "$f" "$l1") & 0x00fffffffffffe00))
    for p in "$@"; do
        case $p in
        grow=*)
            truncate -s $((${p#grow=} * 65536)) "$f"
            continue
            ;;
        esac
        where=${p%%=*}
        hex=${p#*=}
        base=${where%%+*}
        off=0
        [ "$base" != "$where" ] && off=$((${where#*+}))
        case $base in
        rt) off=$((rt + off)) ;;
        rb) off=$((rb + off)) ;;
        l1) off=$((l1 + off)) ;;
        l2) off=$((l2 + off)) ;;
        *) return 1 ;;
        esac
        esc=$(sed -E 's/(..)/\\x\1/g' <<<"$hex")
        printf "$esc" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none || return 1
    done
}

repair_case() { # name damage compare [snapshot|-] [create options]
    local name=$1 spec=$2 how=$3 extra=${4:-} opts=${5:-} d
    d=$(case_dir "$name")
    # shellcheck disable=SC2086  # the pokes and options are split on purpose
    (cd "$d/q" && "$QEMU_IMG" create -q -f qcow2 $opts img 4M &&
        "$QEMU_IO" -c 'write -P 0x11 0 128k' img >/dev/null &&
        case $extra in
        snapshot) "$QEMU_IMG" snapshot -c s1 img ;;
        compress) "$QEMU_IMG" convert -c -O qcow2 img img.c && mv img.c img ;;
        esac &&
        damage img $spec) || {
        fail "$name" "could not build the damaged image"
        return
    }
    cp "$d/q/img" "$d/orig.img"
    # Reading: both tools look at the very same file.
    rmdir "$d/i" && ln -s q "$d/i"
    twin "$name/info" "$d" info img
    twin "$name/check" "$d" check img
    twin "$name/check-json" "$d" check --output=json img
    # Reading every byte: where qemu-img fails (an unaligned cluster marks
    # the image corrupt) imgtool must fail too, else the data must match.
    (cd "$d/q" && "$QEMU_IMG" convert -O raw img out-q.raw 2>/dev/null)
    local sq=$? si
    (cd "$d/q" && "$IMGTOOL" convert -O raw img out-i.raw 2>"$d/conv.err")
    si=$?
    if [ "$sq" != 0 ] && [ "$si" != 0 ] && [ -s "$d/conv.err" ]; then
        pass "$name/convert-raw-fails"
    elif [ "$sq" = 0 ] && [ "$si" = 0 ] && cmp -s "$d/q/out-q.raw" "$d/q/out-i.raw"; then
        pass "$name/convert-raw"
    else
        fail "$name/convert-raw" "imgtool convert -O raw (status $si) differs from qemu-img's ($sq)"
        indent "$d/conv.err"
    fi
    # Repairs change the file: each tool gets its own copy.
    local mode r
    for mode in leaks all all-json; do
        r=$(case_dir "$name-r-$mode")
        cp "$d/orig.img" "$r/q/img"
        cp "$d/orig.img" "$r/i/img"
        if [ "$mode" = all-json ]; then
            [ "$how" = qfail ] || twin "$name/check-r-all-json" "$r" check -r all --output=json img
            continue
        fi
        if [ "$mode" = all ] && [ "$how" = qfail ]; then
            (cd "$r/i" && "$IMGTOOL" check -r all img >"$r/i.out" 2>"$r/i.err")
            local st=$?
            if [ "$st" = 0 ]; then
                pass "$name/check-r-all-repairs"
            else
                fail "$name/check-r-all-repairs" "imgtool check -r all exits $st"
                indent "$r/i.err"
            fi
        else
            twin "$name/check-r-$mode" "$r" check -r "$mode" img
        fi
        [ "$mode" = all ] || continue
        if [ "$how" = unfixed ]; then
            # Damage no refcount repair can mend (QEMU leaves it too): the
            # repaired files must be the same, and equally unclean.
            if cmp -s "$r/q/img" "$r/i/img"; then
                pass "$name/repaired-layout"
            else
                fail "$name/repaired-layout" "the repaired files differ from qemu-img's"
                cmp "$r/q/img" "$r/i/img" | indent
            fi
            continue
        fi
        if "$QEMU_IMG" check "$r/i/img" >"$r/recheck.out" 2>&1; then
            pass "$name/repaired-clean"
        else
            fail "$name/repaired-clean" "qemu-img check finds problems after imgtool check -r all"
            indent "$r/recheck.out"
        fi
        # The data is compared where qemu-img could read the damaged image.
        if [ "$sq" != 0 ]; then
            :
        elif "$QEMU_IMG" compare -q "$d/orig.img" "$r/i/img" 2>/dev/null; then
            pass "$name/repaired-data"
        else
            fail "$name/repaired-data" "the guest data changed in the repair"
        fi
        if [ "$how" = same ]; then
            if cmp -s "$r/q/img" "$r/i/img"; then
                pass "$name/repaired-layout"
            else
                fail "$name/repaired-layout" "the repaired files differ from qemu-img's"
                cmp "$r/q/img" "$r/i/img" | indent
            fi
        fi
    done
}

# A damaged refcount table is accepted read-only, but nothing else may
# write through it: imgtool refuses with a clear message, before any write.
refuse_write() { # name damage
    local name=$1 d
    d=$(case_dir "$name")
    # shellcheck disable=SC2086
    (cd "$d/i" && "$QEMU_IMG" create -q -f qcow2 img 4M &&
        "$QEMU_IO" -c 'write -P 0x11 0 128k' img >/dev/null && damage img $2) || {
        fail "$name" "could not build the damaged image"
        return
    }
    cp "$d/i/img" "$d/orig.img"
    (cd "$d/i" && "$IMGTOOL" resize img 8M >"$d/out" 2>"$d/err")
    local st=$?
    if [ "$st" = 1 ] && grep -q "check -r all" "$d/err" && cmp -s "$d/orig.img" "$d/i/img"; then
        pass "$name"
    else
        fail "$name" "resize exits $st (want 1 with a message naming check -r all, file unchanged)"
        indent "$d/err"
    fi
}

table repair_case <<'CASES'
# Refcount table entries (QEMU's check_refblocks).
rt-reserved-bits   | rt+7=01                            | qfail
rt-block-outside   | rt=0000000010000000                | same
rt-block-twice     | rt+8=0000000000020000              | same
rt-block-on-data   | rt+8=0000000000050000              | same
# Stored refcounts (16-bit entries at rb + 2 * cluster).
leak-header        | rb+0=0002                          | same
leak-data          | rb+10=0003                         | same
leak-refblock      | rb+4=0002                          | same
leak-past-data     | grow=9 rb+16=0001                  | same
zero-data          | rb+10=0000                         | same
zero-l2            | rb+8=0000                          | same
zero-reftable      | rb+2=0000                          | same
zero-header        | rb+0=0000                          | same
# References (the L2 table's 8-byte entries, the L1 table's).
unreferenced       | l2+8=0000000000000000              | same
twice-copied       | l2+8=8000000000050000              | same
twice-plain        | l2+8=0000000000050000              | same
copied-clear-data  | l2+0=0000000000050000              | same
copied-clear-l1    | l1+0=0000000000040000              | same
copied-set-shared  | rb+10=0002 l2+8=0000000000000000   | same
# Entries no refcount repair can mend: QEMU reports them again after -r all.
l2-past-end        | l2+16=8000000010000000             | unfixed
l2-unaligned       | l2+16=8000000000058000             | unfixed
l2-unaligned-zero  | l2+16=8000000000058001             | same
l1-past-end        | l1+8=8000000010000000              | unfixed
l1-unaligned       | l1+8=8000000000048000              | unfixed
l2-reserved-bits   | l2+16=8000000000070002             | unfixed
# With an internal snapshot (no writes after it): the L2 table and the
# data are shared, refcount 2, COPIED clear.
snap-leak-data     | rb+10=0003                         | same | snapshot
snap-low-data      | rb+10=0001                         | same | snapshot
snap-zero-data     | rb+10=0000                         | same | snapshot
snap-copied-set    | l2+0=8000000000050000              | same | snapshot
snap-copied-set-l1 | l1+0=8000000000040000              | same | snapshot
# Other refcount widths (1 bit: clusters 0..7 in byte 0, least significant
# bit first), cluster sizes and extended L2 entries (16 bytes each).
rc1-zero-data      | rb+0=5f                            | same | - | -o refcount_bits=1
rc1-overflow       | l2+8=8000000000050000              | unfixed | - | -o refcount_bits=1
rc8-leak-data      | rb+5=02                            | same | - | -o refcount_bits=8
rc8-zero-l2        | rb+4=00                            | same | - | -o refcount_bits=8
rc64-leak-data     | rb+40=0000000000000003             | same | - | -o refcount_bits=64
cs4k-zero-data     | rb+20=0000                         | same | - | -o cluster_size=4096
cs4k-twice         | l2+8=8000000000005000              | same | - | -o cluster_size=4096
extl2-zero-data    | rb+10=0000                         | same | - | -o extended_l2=on
extl2-copied-clear | l2+0=0000000000050000              | same | - | -o extended_l2=on
extl2-twice        | l2+16=8000000000050000             | same | - | -o extended_l2=on
v2-zero-data       | rb+10=0000                         | same | - | -o compat=0.10
# Compressed clusters (qemu-img convert -c: both 64 KiB of 0x11 are packed
# into cluster 5).
comp-leak          | rb+10=0002                         | same | compress
comp-zero          | rb+10=0000                         | same | compress
comp-unreferenced  | l2+0=0000000000000000              | same | compress
# The snapshot table (cluster 8 after a snapshot) counted as free.
snap-zero-table    | rb+16=0000                         | same | snapshot
CASES

table refuse_write <<'CASES'
rt-reserved-bits/resize-refused | rt+7=01
rt-block-outside/resize-refused | rt=0000000010000000
CASES
