bash "$(dirname "$0")/../05-snapshot/setup.sh"
qemu-io -c 'write -P 0x11 0 1M' demo.qcow2 >/dev/null
virsh -q define demo.xml >/dev/null
virsh -q snapshot-create-as demo before-upgrade >/dev/null
qemu-io -c 'write -P 0x99 0 1M' demo.qcow2 >/dev/null
