#!/usr/bin/env bash
# virsh's snapshot commands on a shut-off domain, against the real virsh on
# libvirt's test driver (layouts, messages, the snapshot tree), and against
# qemu-img for what they do to the disks: hvkit takes an internal snapshot
# in each qcow2 disk, as libvirt's qemu driver does for a shut-off domain,
# so `qemu-img snapshot -l` lists it and a revert brings the data back.
# Normalized before comparing: the domain type ('test' there), UUIDs, and
# the creation times (both sides run a second apart at most).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/virsh.bash"

W=$IT_WORK
V=$BUILD/mgmt/virsh
export HVKIT_STATE_DIR=$W/state

skip_all_if "$(built_missing "$V")" virsh-snapshots
skip_all_if "$(real_virsh_missing)" virsh-snapshots
command -v qemu-img >/dev/null || skip_all_if "qemu-utils is not installed" virsh-snapshots
VIRSH=$V REAL_DIR=$W/real HV_DIR=$W/hv

mkdir -p "$W/hv" "$W/real"
qemu-img create -q -f qcow2 "$W/disk.qcow2" 64M
qemu-img create -q -f qcow2 "$W/data.qcow2" 16M
cat >"$W/hv/demo.xml" <<XML
<domain type='kvm'>
  <name>demo</name>
  <memory unit='MiB'>128</memory>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/srv/hello.elf</kernel>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$W/disk.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$W/data.qcow2'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML
sed "s/type='kvm'/type='test'/" "$W/hv/demo.xml" >"$W/real/demo.xml"

normalize() {
    sed -E -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/UUID/g' \
        -e "s/<domain type='(kvm|test)'>/<domain type=T>/" \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}/TIME/' \
        -e 's#<creationTime>[0-9]+</creationTime>#<creationTime>T</creationTime>#'
}

# same NAME COMMANDS: the domain defined on both sides, then the command line
# (the real side first removes its own "test" domain: 4 lines cut), and
# afterwards every snapshot taken out of the disks again.
same() {
    virsh_same "$1" "destroy test; undefine test; define demo.xml; $2" "define demo.xml; $2" 4 \
        normalize normalize
    rm -rf "$HVKIT_STATE_DIR"
    for d in disk data; do
        for s in $(qemu-img snapshot -l "$W/$d.qcow2" | awk 'NR > 2 {print $2}'); do
            qemu-img snapshot -d "$s" "$W/$d.qcow2"
        done
    done
}

same create-list-info "snapshot-current demo; snapshot-list demo --tree;
    snapshot-create-as demo s1 --print-xml; snapshot-create-as demo s1 'first one';
    snapshot-create-as demo s2; snapshot-list demo; snapshot-list demo --parent;
    snapshot-info demo s1; snapshot-info demo --current; snapshot-current demo --name;
    snapshot-dumpxml demo s1; snapshot-parent demo s2; snapshot-parent demo s1;
    snapshot-info demo; snapshot-info demo s9; snapshot-create-as demo s1"
same tree "snapshot-create-as demo s1; snapshot-create-as demo s2; snapshot-create-as demo s3;
    snapshot-revert demo s1; snapshot-create-as demo s4; snapshot-revert demo s2;
    snapshot-create-as demo s5; snapshot-list demo --tree; snapshot-list demo --roots;
    snapshot-list demo --leaves --name; snapshot-list demo --no-leaves; undefine demo;
    snapshot-delete demo s2; snapshot-list demo --tree; snapshot-current demo --snapshotname s4;
    snapshot-current demo --name; snapshot-delete demo s1 --children-only; snapshot-list demo;
    snapshot-delete demo --current; snapshot-current demo; undefine demo --snapshots-metadata"

# What the disks hold: write, snapshot, write again, revert, read back.
rm -rf "$HVKIT_STATE_DIR"
"$V" -q "define $W/hv/demo.xml" >/dev/null
qemu-io -c 'write -P 0x11 0 64k' "$W/disk.qcow2" >/dev/null
qemu-io -c 'write -P 0x22 0 64k' "$W/data.qcow2" >/dev/null
"$V" -q "snapshot-create-as demo before" >"$W/create.out" 2>&1
qemu-io -c 'write -P 0x33 0 64k' "$W/disk.qcow2" >/dev/null
qemu-io -c 'write -P 0x44 0 64k' "$W/data.qcow2" >/dev/null
if qemu-img snapshot -l "$W/disk.qcow2" | grep -q ' before ' &&
    qemu-img snapshot -l "$W/data.qcow2" | grep -q ' before '; then
    pass "snapshot-create-as: qemu-img snapshot -l lists the snapshot in both disks"
else
    fail "snapshot-create-as: qemu-img snapshot -l lists the snapshot in both disks" "see below"
    show_log "$W/create.out"
fi
"$V" -q "snapshot-revert demo before" >"$W/revert.out" 2>&1
if qemu-io -r -c 'read -P 0x11 0 64k' "$W/disk.qcow2" | grep -q 'read 65536' &&
    qemu-io -r -c 'read -P 0x22 0 64k' "$W/data.qcow2" | grep -q 'read 65536' &&
    qemu-img check -q "$W/disk.qcow2" && qemu-img check -q "$W/data.qcow2"; then
    pass "snapshot-revert: both disks read what they held at the snapshot, qemu-img check clean"
else
    fail "snapshot-revert" "the disks do not hold the snapshot's data"
    show_log "$W/revert.out"
fi
"$V" -q "snapshot-delete demo before" >"$W/delete.out" 2>&1
if ! qemu-img snapshot -l "$W/disk.qcow2" | grep -q ' before ' &&
    ! qemu-img snapshot -l "$W/data.qcow2" | grep -q ' before ' && qemu-img check -q "$W/disk.qcow2"; then
    pass "snapshot-delete: gone from both disks, qemu-img check clean"
else
    fail "snapshot-delete" "a disk still has it"
    show_log "$W/delete.out"
fi
# A raw disk cannot hold an internal snapshot: refused, and no disk changed.
perl -0pe "s/<name>demo/<name>rawdemo/; s/(.*)type='qcow2'/\$1type='raw'/s" "$W/hv/demo.xml" >"$W/raw.xml"
"$V" -q "define $W/raw.xml" >/dev/null 2>&1
"$V" -q "snapshot-create-as rawdemo x" >"$W/raw.out" 2>&1
if grep -q 'internal snapshot for disk vdb unsupported for storage type raw' "$W/raw.out" &&
    ! qemu-img snapshot -l "$W/disk.qcow2" | grep -q ' x ' &&
    ! "$V" -q "snapshot-info rawdemo x" >/dev/null 2>&1; then
    pass "a domain with a raw disk: refused, the qcow2 disk's half-taken snapshot undone"
else
    fail "a domain with a raw disk" "see below"
    show_log "$W/raw.out"
fi
