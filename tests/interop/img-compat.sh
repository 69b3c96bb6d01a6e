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
}
FIX=$WORK/fixture
mkdir -p "$FIX"
setup "$FIX"

prepare() { # name -> case directory with the fixtures in q/ and i/
    local d
    d=$(case_dir "$1")
    cp -a "$FIX/." "$d/q/"
    cp -a "$FIX/." "$d/i/"
    echo "$d"
}

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
