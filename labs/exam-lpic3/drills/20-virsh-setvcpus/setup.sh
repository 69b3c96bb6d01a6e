. "$(dirname "$0")/../../grade-lib.bash"
mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/vcpuhot.elf" kernels/
cat >api.xml <<XML
<domain type='kvm'>
  <name>api</name>
  <memory unit='MiB'>16</memory>
  <vcpu current='1'>4</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$PWD/kernels/vcpuhot.elf</kernel>
  </os>
</domain>
XML
virsh -q define api.xml >/dev/null && virsh -q start api >/dev/null || exit 1
# The guest says which CPUs it runs once it is up.
console_says api '^vcpuhot: 1 CPU online' && exit 0
echo "setup: domain api's guest did not start" >&2
exit 1
