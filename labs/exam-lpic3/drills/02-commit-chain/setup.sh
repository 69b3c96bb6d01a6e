qemu-img create -q -f qcow2 base.qcow2 64M
qemu-io -c 'write -P 0x11 0 1M' base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2
qemu-io -c 'write -P 0x22 1M 1M' top.qcow2 >/dev/null
