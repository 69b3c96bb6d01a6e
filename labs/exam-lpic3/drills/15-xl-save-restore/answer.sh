xl save app "$LAB_HOME/app.save"
xl list
xl restore "$LAB_HOME/app.save"
xl list app
# The console goes on from the saved count (a fresh boot would start at 1),
# and the disk gets the counts from after the restore.
sleep 1
grep -m 3 '^count' "$HVKIT_STATE_DIR/running/app.log"
qemu-io -r -U -f qcow2 -c 'read -v 0 16' "$LAB_HOME/app.qcow2"
