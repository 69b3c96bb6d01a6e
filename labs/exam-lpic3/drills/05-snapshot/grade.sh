. "$(dirname "$0")/../../grade-lib.bash"
check "domain 'demo' is defined" virsh_lab dominfo demo
check "it has a snapshot 'clean'" sh -c "'$HVKIT_VIRSH' -q snapshot-list demo --name | grep -qx clean"
check "the snapshot's description is 'fresh install'" \
    sh -c "'$HVKIT_VIRSH' -q snapshot-dumpxml demo clean | grep -q '<description>fresh install</description>'"
check "qemu-img snapshot -l lists 'clean' in demo.qcow2" \
    sh -c "qemu-img snapshot -l demo.qcow2 | awk 'NR > 2 {print \$2}' | grep -qx clean"
finish
