. "$(dirname "$0")/../../grade-lib.bash"
mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/pattern.elf" kernels/
qemu-img create -q -f qcow2 app.qcow2 16M
cat >app.xml <<XML
<domain type='kvm'>
  <name>app</name>
  <memory unit='MiB'>16</memory>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$PWD/kernels/pattern.elf</kernel>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$PWD/app.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML
virsh -q define app.xml >/dev/null && virsh -q start app >/dev/null || exit 1
console_says app '^pattern: counting' && exit 0
echo "setup: domain app did not start counting" >&2
exit 1
