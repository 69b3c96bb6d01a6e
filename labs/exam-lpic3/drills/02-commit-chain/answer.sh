qemu-img info --backing-chain top.qcow2 >/dev/null
qemu-img commit top.qcow2
qemu-img check base.qcow2
