mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/pattern.elf" kernels/
cat >web.xml <<XML
<domain type='kvm'>
  <name>web</name>
  <memory unit='MiB'>16</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$PWD/kernels/pattern.elf</kernel>
  </os>
</domain>
XML
