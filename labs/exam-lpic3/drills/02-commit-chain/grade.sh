. "$(dirname "$0")/../../grade-lib.bash"
check "base.qcow2 still holds its own data (0x11 in the first MiB)" holds base.qcow2 0x11 0 1M
check "base.qcow2 holds the overlay's data (0x22 in the second MiB)" holds base.qcow2 0x22 1M 1M
check "qemu-img check finds no error in base.qcow2" qemu-img check -q base.qcow2
finish
