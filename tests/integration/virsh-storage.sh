#!/usr/bin/env bash
# hvkit's virsh (build/mgmt/virsh) against the real one: Debian's virsh on
# libvirt's offline test driver (`virsh -c test:///default`) is the oracle
# for layouts and messages, and qemu-img for what the volumes contain.
#
# The same command lines run on both.  The test driver invents its pool
# sizes (100 GiB) and keeps volumes in memory, while hvkit's pools are real
# directories, so before comparing:
#   - UUIDs and the sizes of a pool's file system are replaced by tokens;
#   - in pool-list --details, whose column widths follow those sizes, runs
#     of spaces are squeezed and the dash line shortened;
#   - what libvirt's real dir backend reports and the test driver does not
#     (a file's <physical> size, <permissions>, <timestamps>, and qcow2's
#     <compat>, <clusterSize>, <features>) is dropped from hvkit's XML.
# Everything else, including every column width of the other tables, the
# empty line after each command and each error line, must be identical.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/virsh.bash"

W=$IT_WORK
V=$BUILD/mgmt/virsh
export HVKIT_STATE_DIR=$W/state
P=$W/pools

skip_all_if "$(built_missing "$V")" virsh-storage
skip_all_if "$(real_virsh_missing)" virsh-storage
VIRSH=$V

# Both have a started "default-pool", so pool lists have the same rows.
mkdir -p "$P/default-pool"
"$V" -q "pool-define-as default-pool dir --target $P/default-pool; pool-start default-pool" \
    >/dev/null

# normalize: the replacements described above, for both outputs.
normalize() {
    sed -E -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/UUID/g' \
        -e '/^(Capacity|Allocation|Available):/s/ [0-9.]+( [KMGTPE]?i?B)?$/ SIZE/' \
        -e "s#<(capacity|allocation|available) unit='bytes'>[0-9]+</(capacity|allocation|available)># <\1 SIZE>#" |
        perl -0pe 's#\n *<physical [^\n]*##g; s#\n *<permissions>.*?</permissions>##gs;
            s#\n *<timestamps>.*?</timestamps>##gs; s#\n *<(compat|clusterSize)[^\n]*##g;
            s#\n *<features/>##g'
}

# squeeze: for tables whose widths follow the file system's sizes.
squeeze() {
    sed -E -e 's/[0-9]+\.[0-9]{2} [KMGTPE]?i?B/SIZE/g' -e 's/  +/ /g' -e 's/^-+$/---/'
}

# same NAME [squeeze] COMMANDS: run one command line on both, compare.
same() {
    local name=$1 filter=normalize
    shift
    if [ "$1" = squeeze ]; then
        filter="normalize | squeeze"
        shift
    fi
    virsh_same "$name" "$1" "$1" 0 "$filter" normalize
}

# The test driver forgets everything between runs, so each line sets up
# what it needs (hvkit's state is reset to the default pool alone before it).
reset() {
    "$V" -q "pool-list --all --name" | while read -r p; do
        [ "$p" = default-pool ] && continue
        "$V" -q "pool-destroy $p" >/dev/null 2>&1
        "$V" -q "pool-undefine $p" >/dev/null 2>&1
    done
    rm -rf "$P/p1" "$P/p2"
}

reset
same pool-lifecycle "pool-define-as p1 dir --target $P/p1; pool-build p1; pool-list --all;
    pool-info p1; pool-start p1; pool-list; pool-info p1; pool-autostart p1; pool-list --all;
    pool-autostart p1 --disable; pool-refresh p1; pool-destroy p1; pool-list --inactive;
    pool-undefine p1; pool-list --all"
reset
same pool-details squeeze "pool-define-as p1 dir --target $P/p1; pool-build p1;
    pool-list --all --details; pool-start p1; pool-list --all --details; pool-list --name --all"
reset
same pool-dumpxml "pool-define-as p1 dir - - - - $P/p1; pool-build p1; pool-start p1;
    pool-dumpxml p1; pool-info p1 --bytes"
reset
same pool-errors "pool-info nope; pool-define-as p1 dir; pool-define-as p1 dir --target $P/p1;
    pool-define-as p2 dir --target $P/p1; pool-define-as p1 dir --target $P/p2; pool-destroy p1;
    pool-refresh p1; pool-build p1; pool-start p1; pool-undefine p1; pool-build p1"
reset
same volumes "pool-define-as p1 dir --target $P/p1; pool-build p1; pool-start p1;
    vol-create-as p1 b.img 1M; vol-create-as p1 a.img 10M --allocation 0; vol-list p1;
    vol-list p1 --details; vol-info a.img --pool p1; vol-info b.img p1 --bytes;
    vol-dumpxml --pool p1 b.img; vol-path a.img --pool p1; vol-name $P/p1/a.img;
    vol-key b.img p1; vol-delete a.img --pool p1; vol-list p1"
reset
same vol-errors "pool-define-as p1 dir --target $P/p1; pool-build p1;
    vol-create-as p1 v 1M; pool-start p1; vol-create-as p1 v 1Q; vol-create-as p1 v 1.5G;
    vol-create-as p1 v -1; vol-create-as p1 v 20E; vol-create-as p1 v 1M; vol-create-as p1 v 1M;
    vol-info nope; vol-info nope --pool p1; vol-info v --pool nope"
for line in "pool-info" "pool-info --foo x" "pool-info a b" "vol-create-as default-pool x" \
    "nosuchcommand" "pool-define-as x dir --target" "pool-list --name=x"; do
    same "syntax: $line" "$line"
done

# What the volumes hold, judged by qemu-img.
reset
mkdir -p "$P/p1"
"$V" -q "pool-define-as p1 dir --target $P/p1; pool-start p1; vol-create-as p1 d.qcow2 64M --format qcow2" >"$W/q.out" 2>&1
if qemu-img info --output=json "$P/p1/d.qcow2" 2>&1 | grep -q '"virtual-size": 67108864' &&
    qemu-img check -q "$P/p1/d.qcow2"; then
    pass "vol-create-as --format qcow2: qemu-img reads a clean 64 MiB qcow2"
else
    fail "vol-create-as --format qcow2: qemu-img reads a clean 64 MiB qcow2" "see below"
    show_log "$W/q.out"
fi
qemu-io -c 'write -P 0x5a 1M 64k' -c 'write -P 0xa5 40M 4k' "$P/p1/d.qcow2" >/dev/null
"$V" -q "vol-clone d.qcow2 e.qcow2 --pool p1; vol-resize e.qcow2 128M --pool p1" >"$W/clone.out" 2>&1
if qemu-img check -q "$P/p1/e.qcow2" &&
    qemu-img info --output=json "$P/p1/e.qcow2" | grep -q '"virtual-size": 134217728' &&
    qemu-img convert -O raw "$P/p1/d.qcow2" "$W/d.raw" && qemu-img convert -O raw "$P/p1/e.qcow2" "$W/e.raw" &&
    [ "$(stat -c %s "$W/e.raw")" = 134217728 ] && cmp -s -n 67108864 "$W/d.raw" "$W/e.raw" &&
    [ "$(tail -c 64M "$W/e.raw" | tr -d '\0' | wc -c)" = 0 ] &&
    [ "$(tr -d '\0' <"$W/d.raw" | wc -c)" = $((65536 + 4096)) ]; then
    pass "vol-clone + vol-resize: the clone holds the same bytes, qemu-img check clean"
else
    fail "vol-clone + vol-resize" "qemu-img disagrees"
    show_log "$W/clone.out"
fi
"$V" -q "vol-resize e.qcow2 64M --pool p1" >"$W/shrink.out" 2>&1
if grep -q "Can't shrink capacity below current capacity unless shrink flag" "$W/shrink.out" &&
    qemu-img info --output=json "$P/p1/e.qcow2" | grep -q '"virtual-size": 134217728'; then
    pass "vol-resize refuses to shrink without --shrink and leaves the volume alone"
else
    fail "vol-resize refuses to shrink without --shrink" "see below"
    show_log "$W/shrink.out"
fi
"$V" -q "vol-create-as p1 f.vmdk 1M --format vmdk; vol-create-as p1 g 1M --format qcow2 --backing-vol nope" \
    >"$W/nofile.out" 2>&1
if [ ! -e "$P/p1/f.vmdk" ] && [ ! -e "$P/p1/g" ] && grep -q 'not .vmdk.' "$W/nofile.out"; then
    pass "a refused vol-create-as leaves no file behind"
else
    fail "a refused vol-create-as leaves no file behind" "see below"
    show_log "$W/nofile.out"
fi
"$V" -q "vol-create-as p1 top.qcow2 64M --format qcow2 --backing-vol d.qcow2 --backing-vol-format qcow2" \
    >"$W/overlay.out" 2>&1
if [ "$(qemu-img info --output=json "$P/p1/top.qcow2" | grep -c "\"backing-filename\": \"$P/p1/d.qcow2\"")" = 1 ] &&
    qemu-img compare -q "$P/p1/top.qcow2" "$P/p1/d.qcow2"; then
    pass "vol-create-as --backing-vol: an overlay qemu-img reads through to its base"
else
    fail "vol-create-as --backing-vol" "see below"
    show_log "$W/overlay.out"
fi

# Only dir pools exist in hvkit: another type is refused by name and
# nothing is defined (the test driver accepts any type, so no comparison).
"$V" -q "pool-define-as p3 logical --target $P/p3" >"$W/logical.out" 2>&1
if grep -q "hvkit implements only 'dir' storage pools, not 'logical'" "$W/logical.out" &&
    ! "$V" -q "pool-info p3" >/dev/null 2>&1; then
    pass "pool-define-as of a type hvkit lacks is refused by name, nothing defined"
else
    fail "pool-define-as of a type hvkit lacks" "see below"
    show_log "$W/logical.out"
fi

# Front-ends run at once never lose each other's changes.
for i in 1 2 3 4 5 6; do
    mkdir -p "$P/c$i"
    "$V" -q "pool-define-as c$i dir --target $P/c$i; pool-start c$i" >/dev/null 2>&1 &
done
wait
if [ "$("$V" -q "pool-list --name" | grep -c '^c[1-6] *$')" = 6 ]; then
    pass "six virsh commands at once: all six pools defined and started"
else
    fail "six virsh commands at once" "$("$V" -q "pool-list --all --name" | tr '\n' ' ')"
fi

# The interactive shell, fed a script as a student would pipe one in: the
# banner, the prompts, the echoed commands and the goodbye line are virsh's.
reset
printf 'pool-list --all\nvol-list default-pool\nnosuch\nquit\n' >"$W/shell.in"
virsh -c test:///default <"$W/shell.in" >"$W/shell.real" 2>&1
"$V" <"$W/shell.in" >"$W/shell.hv" 2>&1
if cmp -s "$W/shell.real" "$W/shell.hv"; then
    pass "virsh: the interactive shell's transcript"
else
    fail "virsh: the interactive shell's transcript" "differs (- real, + hvkit)"
    diff "$W/shell.real" "$W/shell.hv" | sed 's/^/    | /' | head -20
fi
