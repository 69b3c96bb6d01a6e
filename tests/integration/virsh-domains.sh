#!/usr/bin/env bash
# hvkit's virsh on defined domains, against the real virsh: Debian's virsh on
# libvirt's offline test driver (`virsh -c test:///default`) is the oracle.
# The same command lines and the same domain XML run on both; before they
# are compared:
#   - the test driver's own running domain "test" is removed first, and the
#     lines that removal prints are cut;
#   - the domain type is the driver's own ('test' there, 'kvm' in hvkit);
#   - UUIDs are replaced by a token, and the dominfo lines that belong to a
#     driver (OS Type, CPU time, Security model, DOI and label) are dropped.
# Everything else, layouts, messages and the empty line after each command,
# must be identical.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/virsh.bash"

W=$IT_WORK
V=$BUILD/mgmt/virsh
export HVKIT_STATE_DIR=$W/state

skip_all_if "$(built_missing "$V")" virsh-domains
skip_all_if "$(real_virsh_missing)" virsh-domains
VIRSH=$V REAL_DIR=$W/real HV_DIR=$W/hv

# A domain the way a student writes one for KVM: hvkit boots the kernel.
mkdir -p "$W/hv" "$W/real"
cat >"$W/hv/demo.xml" <<XML
<domain type='kvm'>
  <name>demo</name>
  <memory unit='MiB'>128</memory>
  <vcpu current='1'>2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/srv/hello.elf</kernel>
    <cmdline>world</cmdline>
  </os>
  <on_crash>preserve</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/srv/disk.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/srv/cd.iso'/>
      <target dev='sdb' bus='sata'/>
      <readonly/>
    </disk>
    <console type='pty'/>
  </devices>
</domain>
XML
sed "s/type='kvm'/type='test'/" "$W/hv/demo.xml" >"$W/real/demo.xml"

# bad NAME BODY: a broken definition, the same on both sides.
bad() {
    for side in hv real; do
        local type=kvm
        [ $side = real ] && type=test
        echo "<domain type='$type'>$2</domain>" >"$W/$side/$1.xml"
    done
}
OS="<os><type arch='x86_64'>hvm</type></os>"
bad noname "<memory>1024</memory>$OS"
bad nomemory "<name>x</name>$OS"
bad noos "<name>x</name><memory>1024</memory>"
bad badunit "<name>x</name><memory unit='Q'>1</memory>$OS"
bad badvcpu "<name>x</name><memory>1024</memory><vcpu>abc</vcpu>$OS"
bad vcpus "<name>x</name><memory>1024</memory><vcpu current='3'>2</vcpu>$OS"
bad crash "<name>x</name><memory>1024</memory><on_crash>explode</on_crash>$OS"
bad slash "<name>x/y</name><memory>1024</memory>$OS"
bad uuid "<name>x</name><uuid>zz</uuid><memory>1024</memory>$OS"
bad notarget "<name>x</name><memory>1024</memory>$OS<devices><disk type='file' device='disk'><source file='/a'/></disk></devices>"
bad duptarget "<name>x</name><memory>1024</memory>$OS<devices><disk type='file' device='disk'><source file='/a'/><target dev='vda' bus='virtio'/></disk><disk type='file' device='disk'><source file='/b'/><target dev='vda' bus='virtio'/></disk></devices>"
for side in hv real; do
    printf '<domain type="test"><name>x</name>' >"$W/$side/truncated.xml"
    printf '<dom/>' >"$W/$side/root.xml"
done

normalize() {
    sed -E -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/UUID/g' \
        -e "s/^<domain type='(kvm|test)'>/<domain type=T>/" \
        -e '/^(OS Type|CPU time|Security model|Security DOI|Security label):/d'
}

# same NAME COMMANDS: run one command line in each side's directory, the
# real side first removing its own "test" domain (4 lines of output cut).
same() {
    virsh_same "$1" "destroy test; undefine test; $2" "$2" 4 normalize normalize
    # The test driver forgets everything; hvkit's state is emptied to match.
    rm -rf "$HVKIT_STATE_DIR"
}

same define-and-inspect "define demo.xml; list --all; list; list --inactive --name; dominfo demo;
    domstate demo; domstate demo --reason; domid demo; domname demo; dumpxml demo;
    domblklist demo; domblklist demo --details; vcpucount demo; undefine demo; list --all"
same autostart "define demo.xml; autostart demo; dominfo demo; list --all --autostart;
    autostart demo --disable; list --all --no-autostart; list --all --title"
same set-config "define demo.xml; setmaxmem demo 256M --config; setmem demo 200M --config;
    setvcpus demo 2 --config --maximum; setvcpus demo 2 --config; vcpucount demo; dominfo demo;
    dumpxml demo; setmem demo 512M --config; setvcpus demo 4 --config"
same disk-errors "define demo.xml; detach-disk demo vdz --config; change-media demo vdz /x --config;
    domblklist demo --inactive; domblkinfo nope; domblkinfo demo"
same redefine "define demo.xml; define demo.xml; dominfo nope; undefine nope; define nope.xml"
same bad-xml "define noname.xml; define nomemory.xml; define noos.xml; define badunit.xml;
    define badvcpu.xml; define vcpus.xml; define crash.xml; define slash.xml; define uuid.xml;
    define notarget.xml; define duptarget.xml; define root.xml; list --all"
# help COMMAND: every page the real virsh has too (options hvkit lacks cut).
virsh_help_same

# edit: an unchanged file is not redefined; a changed one is, and checked.
"$V" -q "define $W/hv/demo.xml" >/dev/null
EDITOR=true "$V" edit demo >"$W/edit1.out" 2>&1
EDITOR="sed -i s/world/planet/" "$V" edit demo >"$W/edit2.out" 2>&1
EDITOR="sed -i s/<vcpu[^>]*>2/<vcpu>0/" "$V" edit demo >"$W/edit3.out" 2>&1
if grep -q "Domain 'demo' XML configuration not changed." "$W/edit1.out" &&
    grep -q "Domain 'demo' XML configuration edited." "$W/edit2.out" &&
    "$V" -q dumpxml demo | grep -q '<cmdline>planet</cmdline>' &&
    grep -q 'error: Failed to define domain from' "$W/edit3.out" &&
    "$V" -q dumpxml demo | grep -q "<vcpu placement='static' current='1'>2</vcpu>"; then
    pass "virsh edit: unchanged, changed, and a broken edit refused with the old definition kept"
else
    fail "virsh edit" "see the logs"
    show_log "$W/edit2.out"
    show_log "$W/edit3.out"
fi
# A domain type hvkit cannot run is refused by name (the test driver takes any).
echo "<domain type='lxc'><name>c</name><memory>1024</memory>$OS</domain>" >"$W/lxc.xml"
"$V" -q "define $W/lxc.xml" >"$W/lxc.out" 2>&1
if grep -q "hvkit runs domains of type 'kvm', 'qemu' or 'hvkit', not 'lxc'" "$W/lxc.out" &&
    ! "$V" -q "dominfo c" >/dev/null 2>&1; then
    pass "define of a domain type hvkit lacks is refused by name, nothing defined"
else
    fail "define of a domain type hvkit lacks" "accepted, or another message"
fi
# domname turns a UUID (not a name) into the name.
u=$("$V" -q domuuid demo)
if [ "$("$V" -q domname "$u")" = demo ] && ! "$V" -q domname demo >/dev/null 2>&1; then
    pass "virsh domname: by UUID, and a name is not a key"
else
    fail "virsh domname" "UUID $u"
fi

# attach-disk, change-media, detach-disk change the definition (the test
# driver cannot attach, so hvkit's own dumpxml is the judge), and
# domblkinfo's sizes are qemu-img's.
rm -rf "$HVKIT_STATE_DIR"
qemu-img create -q -f qcow2 "$W/extra.qcow2" 1G
qemu-io -c 'write 0 1M' "$W/extra.qcow2" >/dev/null
"$V" -q "define $W/hv/demo.xml; attach-disk demo $W/extra.qcow2 vdc --subdriver qcow2 --config;
    change-media demo sdb --eject --config; detach-disk demo vda --config" >"$W/attach.out" 2>&1
"$V" -q "dumpxml demo" >"$W/attach.xml"
"$V" -q "attach-disk demo /x vdc --config" >"$W/attach2.out" 2>&1
if grep -q "<source file='$W/extra.qcow2'/>" "$W/attach.xml" &&
    grep -q "<target dev='vdc' bus='virtio'/>" "$W/attach.xml" &&
    ! grep -q "/srv/disk.qcow2\|/srv/cd.iso" "$W/attach.xml" &&
    grep -q 'target vdc already exists' "$W/attach2.out"; then
    pass "attach-disk, change-media --eject, detach-disk change the definition"
else
    fail "attach-disk, change-media --eject, detach-disk" "see below"
    show_log "$W/attach.out"
    show_log "$W/attach.xml" 40
fi
"$V" -q domblkinfo demo vdc >"$W/blkinfo.out" 2>&1
want_cap=$(qemu-img info --output=json "$W/extra.qcow2" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
want_phys=$(stat -c %s "$W/extra.qcow2")
if grep -qx "Capacity:       $want_cap" "$W/blkinfo.out" &&
    grep -qx "Physical:       $want_phys" "$W/blkinfo.out"; then
    pass "domblkinfo: capacity is qemu-img's virtual size, physical the file's length"
else
    fail "domblkinfo" "want capacity $want_cap, physical $want_phys"
    show_log "$W/blkinfo.out"
fi
