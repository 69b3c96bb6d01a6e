qemu-img convert -O raw vm.qcow2 vm.raw
qemu-img convert -c -O qcow2 vm.qcow2 vm-small.qcow2
