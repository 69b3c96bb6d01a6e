mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/pattern.elf" kernels/
cat >db.xml <<XML
<domain type='kvm'>
  <name>db</name>
  <memory unit='MiB'>16</memory>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$PWD/kernels/pattern.elf</kernel>
  </os>
</domain>
XML
virsh -q define db.xml >/dev/null && virsh -q start db >/dev/null || exit 1
