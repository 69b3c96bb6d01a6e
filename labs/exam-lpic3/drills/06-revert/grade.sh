. "$(dirname "$0")/../../grade-lib.bash"
check "the disk holds what it held before the upgrade (0x11)" holds demo.qcow2 0x11 0 1M
check "the snapshot is gone from virsh" \
    sh -c "! '$HVKIT_VIRSH' -q snapshot-list demo --name | grep -q before-upgrade"
check "the snapshot is gone from the disk" \
    sh -c "! qemu-img snapshot -l demo.qcow2 | grep -q before-upgrade"
check "qemu-img check finds no error" qemu-img check -q demo.qcow2
finish
