. "$(dirname "$0")/../../grade-lib.bash"
f=web.qcow2
check "web.qcow2 exists" test -f $f
check "it is qcow2" test "$(info_field $f format)" = qcow2
check "its virtual size is 2 GiB" test "$(info_field $f virtual-size)" = 2147483648
check "its clusters are 128 KiB" test "$(info_field $f cluster-size)" = 131072
check "lazy refcounts are on" test "$(info_field $f lazy-refcounts)" = true
check "qemu-img check finds no error" qemu-img check -q $f
finish
