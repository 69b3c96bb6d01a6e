. "$(dirname "$0")/../../grade-lib.bash"
xml=$(virsh_lab dumpxml web 2>/dev/null)
check "domain 'web' is defined (persistent)" test -f "$HVKIT_STATE_DIR/domains/web.xml"
f=$LAB_HOME/data.qcow2
check "data.qcow2 is a qcow2 image" test "$(info_field "$f" format)" = qcow2
check "data.qcow2 is 64 MiB" test "$(info_field "$f" virtual-size)" = 67108864
disk=$(sed -n "/<disk /,/<\/disk>/p" <<<"$xml" | tr -d '\n')
check "web's definition has a disk vdb" grep -q "<target dev='vdb'" <<<"$disk"
check "  whose source is LAB_HOME/data.qcow2" grep -q "<source file='$f'/>" <<<"$disk"
check "  read as qcow2" grep -q "<driver name='qemu' type='qcow2'/>" <<<"$disk"
check "domain 'old' is no longer defined" sh -c "! '$HVKIT_VIRSH' -q dominfo old >/dev/null 2>&1"
finish
