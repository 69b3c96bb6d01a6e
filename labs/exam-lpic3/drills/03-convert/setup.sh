qemu-img create -q -f qcow2 vm.qcow2 32M
qemu-io -c 'write -P 0x5a 0 4M' -c 'write -P 0xa5 20M 1M' vm.qcow2 >/dev/null
