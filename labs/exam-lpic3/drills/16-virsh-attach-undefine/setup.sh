mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/pattern.elf" kernels/
for name in web old; do
    cat >"$name.xml" <<XML
<domain type='kvm'>
  <name>$name</name>
  <memory unit='MiB'>16</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$PWD/kernels/pattern.elf</kernel>
  </os>
</domain>
XML
done
virsh -q define old.xml
rm old.xml
