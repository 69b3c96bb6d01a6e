. "$(dirname "$0")/../../grade-lib.bash"
f=$LAB_HOME/extra.qcow2
log=$HVKIT_STATE_DIR/running/files.log
blocks=$(ctl files query-block 2>/dev/null)
# The running domain answers query-block, and vdb is not among its disks.
no_vdb() { grep -q '^{"return": \[' <<<"$blocks" && ! grep -q '"device": "vdb"' <<<"$blocks"; }
check "extra.qcow2 is a qcow2 image" test "$(info_field "$f" format)" = qcow2
check "extra.qcow2 is 32 MiB" test "$(info_field "$f" virtual-size)" = 33554432
check "domain 'files' runs" test "$(virsh_lab domstate files)" = running
check "the guest found a disk of 32 MiB while it ran" grep -qx 'hotdisk: disk at 0x[0-9a-f]*: 65536 sectors' "$log"
check "  wrote its mark (0xc3, 4 KiB at 4096) into extra.qcow2" holds "$f" 0xc3 4096 4096
check "  and saw it go again" grep -qx 'hotdisk: the disk at 0x[0-9a-f]* is gone' "$log"
check "the running domain has no disk vdb any more" no_vdb
check "files's definition has no disk vdb (the disk was for this run only)" \
    sh -c "! '$HVKIT_VIRSH' -q dumpxml files --inactive | grep -q \"<target dev='vdb'\""
finish
