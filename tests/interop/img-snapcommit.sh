#!/usr/bin/env bash
# convert from an internal snapshot (-l) and commit, against qemu-img 7.2.
#
# Both tools run the same command in directories prepared identically
# (twin: status, stdout and stderr must match); then the files they leave
# are compared: the converted disks byte for byte, and for commit the base
# by content and the emptied (or kept) top image through qemu-img check's
# allocation summary and, where QEMU rebuilds the top from scratch, byte
# for byte.
. "$(dirname "$0")/img-common.bash"
need_tools

# --- convert -l: a qcow2 image with two snapshots and newer writes.
FIX=$WORK/fixture
mkdir -p "$FIX"
(
    cd "$FIX" || exit 1
    "$QEMU_IMG" create -q -f qcow2 a.qcow2 4M &&
        "$QEMU_IO" -c 'write -P 1 0 1M' a.qcow2 >/dev/null &&
        "$QEMU_IMG" snapshot -c s1 a.qcow2 &&
        "$QEMU_IO" -c 'write -P 2 512k 1M' -c 'write -z 0 64k' a.qcow2 >/dev/null &&
        "$QEMU_IMG" snapshot -c s2 a.qcow2 &&
        "$QEMU_IO" -c 'write -P 3 3M 64k' a.qcow2 >/dev/null
) || { fail "$SUITE" "could not build the fixture"; exit 0; }

# Each line: "name | convert options naming the snapshot | output format".
# The result (if any) must be the same file in both directories.
snapconv() { # name options format
    local name=$1 d
    d=$(case_dir "$name")
    cp -a "$FIX/." "$d/q/"
    cp -a "$FIX/." "$d/i/"
    # shellcheck disable=SC2086  # the options are split on purpose
    twin "$name" "$d" convert $2 -O "$3" a.qcow2 out.img || return
    if [ -e "$d/q/out.img" ] || [ -e "$d/i/out.img" ]; then
        if "$QEMU_IMG" compare -q "$d/q/out.img" "$d/i/out.img"; then
            pass "$name/content"
        else
            fail "$name/content" "the converted disks differ"
        fi
    fi
}
table snapconv <<'CASES'
l-name            | -l s1                                  | raw
l-id              | -l 1                                   | raw
l-second          | -l s2                                  | qcow2
l-opt-name        | -l snapshot.name=s2                    | raw
l-opt-id          | -l snapshot.id=1                       | qcow2
l-opt-both        | -l snapshot.id=1,snapshot.name=s1      | raw
l-opt-mismatch    | -l snapshot.id=2,snapshot.name=s1      | raw
l-missing         | -l nosuch                              | raw
l-empty-name      | -l snapshot.name=                      | raw
l-compressed      | -c -l s2                               | qcow2
s-is-not-an-option | -s s1                                 | raw
CASES

# --- commit.  Each line: "name | qemu-img create options of the top |
# extra commit options | what the top must look like afterwards: 'empty'
# (byte for byte as QEMU leaves it), 'kept' (unchanged) or 'check' (the
# same qemu-img check summary: allocation and end offset)".  The chain is
# base (4M, data at 0 and 3M) <- top (data over both, zeroes over 3M).
commit_case() { # name createopts commitopts expect
    local name=$1 d t
    d=$(case_dir "$name")
    for t in q i; do
        (cd "$d/$t" && "$QEMU_IMG" create -q -f qcow2 base.qcow2 4M &&
            "$QEMU_IO" -c 'write -P 1 0 1M' -c 'write -P 2 3M 128k' base.qcow2 >/dev/null &&
            # shellcheck disable=SC2086
            "$QEMU_IMG" create -q -f qcow2 $2 -b base.qcow2 -F qcow2 top.qcow2 &&
            "$QEMU_IO" -c 'write -P 3 512k 1M' -c 'write -z 3M 64k' -c 'write -z 2M 64k' \
                top.qcow2 >/dev/null) || {
            fail "$name" "qemu-img could not build the chain"
            return
        }
    done
    (cd "$d/q" && "$QEMU_IMG" convert -O raw top.qcow2 view.raw && cp top.qcow2 top.before)
    cp "$d/q/top.before" "$d/i/top.before"
    # shellcheck disable=SC2086
    twin "$name" "$d" commit $3 top.qcow2 || return
    # The base now holds what the top showed.
    if "$QEMU_IMG" compare -q "$d/q/view.raw" "$d/i/base.qcow2" &&
        "$QEMU_IMG" compare -q "$d/q/base.qcow2" "$d/i/base.qcow2"; then
        pass "$name/base-content"
    else
        fail "$name/base-content" "the base does not hold the committed data"
    fi
    if "$QEMU_IMG" check -q "$d/i/base.qcow2" && "$QEMU_IMG" check -q "$d/i/top.qcow2"; then
        pass "$name/check-clean"
    else
        fail "$name/check-clean" "qemu-img check finds problems after imgtool commit"
    fi
    # What the top reads as, through the chain, must still be the same.
    if "$QEMU_IMG" compare -q "$d/q/view.raw" "$d/i/top.qcow2"; then
        pass "$name/top-content"
    else
        fail "$name/top-content" "the top reads differently after imgtool commit"
    fi
    case $4 in
    empty)
        if cmp -s "$d/q/top.qcow2" "$d/i/top.qcow2"; then
            pass "$name/top-emptied"
        else
            fail "$name/top-emptied" "the top differs from the one qemu-img emptied"
        fi ;;
    kept)
        if cmp -s "$d/i/top.before" "$d/i/top.qcow2"; then
            pass "$name/top-kept"
        else
            fail "$name/top-kept" "imgtool changed the top although it must keep it"
        fi ;;
    check)
        twin "$name/top-check" "$d" check top.qcow2 ;;
    esac
}
table commit_case <<'CASES'
commit-empties     |                                | -q       | empty
commit-d           |                                | -d       | kept
commit-b-implies-d |                                | -b base.qcow2 | kept
commit-v2-top      | -o compat=0.10                 |          | check
commit-small-cl    | -o cluster_size=4k             |          | empty
CASES

# A top with an internal snapshot keeps the snapshot's clusters: QEMU then
# discards the active clusters one by one instead of rebuilding the image.
d=$(case_dir commit-snapshot-top)
for t in q i; do
    (cd "$d/$t" && "$QEMU_IMG" create -q -f qcow2 base.qcow2 4M &&
        "$QEMU_IMG" create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2 &&
        "$QEMU_IO" -c 'write -P 5 0 256k' top.qcow2 >/dev/null &&
        "$QEMU_IMG" snapshot -c snap top.qcow2 &&
        "$QEMU_IO" -c 'write -P 6 128k 256k' top.qcow2 >/dev/null)
done
(cd "$d/q" && "$QEMU_IMG" convert -O raw top.qcow2 view.raw)
if twin commit-snapshot-top "$d" commit top.qcow2; then
    twin commit-snapshot-top/top-check "$d" check top.qcow2
    # (The snapshot tables' dates differ between the two directories.)
    if "$QEMU_IMG" snapshot -l "$d/i/top.qcow2" | grep -q ' snap '; then
        pass "commit-snapshot-top/snapshot-kept"
    else
        fail "commit-snapshot-top/snapshot-kept" "the top's snapshot is gone"
    fi
    if "$QEMU_IMG" compare -q "$d/q/view.raw" "$d/i/base.qcow2"; then
        pass "commit-snapshot-top/base-content"
    else
        fail "commit-snapshot-top/base-content" "the base does not hold the committed data"
    fi
fi
