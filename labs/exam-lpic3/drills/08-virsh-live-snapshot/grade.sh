. "$(dirname "$0")/../../grade-lib.bash"
# qemu-img's table: ID, TAG, VM SIZE (a number and a unit), DATE, ...
snaps=$(qemu-img snapshot -l -U app.qcow2 2>/dev/null | awk 'NR > 2')
vmsize=$(awk '$2 == "before-upgrade" {print $3}' <<<"$snaps")
check "app.qcow2 holds a snapshot 'before-upgrade'" test -n "$vmsize"
check "with the guest's state in it (a VM SIZE above 0)" test -n "$vmsize" -a "$vmsize" != 0
check "'after-upgrade' has been deleted from the disk" \
    sh -c "! awk '{print \$2}' <<'EOS' | grep -qx after-upgrade
$snaps
EOS"
check "'before-upgrade' is the domain's current snapshot" \
    sh -c "'$HVKIT_VIRSH' -q snapshot-current app --name | grep -qx before-upgrade"
status=$(ctl app query-status 2>/dev/null | sed -n 's/.*"status": "\([a-z-]*\)".*/\1/p')
check "the domain runs (its machine says running)" test "$status" = running
# Reverted: the guest was put back, so its log shows the counter restarting
# from the snapshot's point -- hv logs each loadvm it carries out.
check "hv loaded the snapshot into the running domain" \
    grep -q "loadvm 'before-upgrade'" "$HVKIT_STATE_DIR/running/app.log"
finish
