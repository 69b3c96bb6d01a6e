. "$(dirname "$0")/../../grade-lib.bash"
check "vm.raw is a raw image" test "$(info_field vm.raw format)" = raw
check "vm.raw holds the same data as vm.qcow2" qemu-img compare -q vm.qcow2 vm.raw
check "vm-small.qcow2 is qcow2" test "$(info_field vm-small.qcow2 format)" = qcow2
check "vm-small.qcow2 holds the same data as vm.qcow2" qemu-img compare -q vm.qcow2 vm-small.qcow2
check "vm-small.qcow2's data is compressed" \
    sh -c "qemu-img check vm-small.qcow2 | grep -Eq ' [1-9][0-9.]*% compressed clusters'"
finish
