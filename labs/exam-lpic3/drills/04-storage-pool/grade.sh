. "$(dirname "$0")/../../grade-lib.bash"
info=$(virsh_lab pool-info images 2>/dev/null)
check "pool 'images' is defined" test -n "$info"
check "it is running" sh -c "echo '$info' | grep -q '^State: *running'"
check "it autostarts" sh -c "echo '$info' | grep -q '^Autostart: *yes'"
check "its directory is LAB_HOME/images" \
    sh -c "virsh_out=\$('$HVKIT_VIRSH' -q pool-dumpxml images); echo \"\$virsh_out\" | grep -q '<path>$LAB_HOME/images</path>'"
f=$LAB_HOME/images/disk1.qcow2
check "disk1.qcow2 is a qcow2 image in the pool's directory" test "$(info_field "$f" format)" = qcow2
check "disk1.qcow2 is 1 GiB" test "$(info_field "$f" virtual-size)" = 1073741824
finish
