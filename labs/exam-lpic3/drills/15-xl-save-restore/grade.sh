. "$(dirname "$0")/../../grade-lib.bash"
log=$HVKIT_STATE_DIR/running/app.log
check "LAB_HOME/app.save is xl's save file (hvkit's HVKITSAV image) with app's configuration" \
    sh -c "head -c 8 app.save 2>/dev/null | grep -qx HVKITSAV && grep -qa 'app.qcow2' app.save"
state=$(xl_lab list app 2>/dev/null | awk '$1 == "app" {print $5}')
check "domain 'app' runs" test -n "$state" -a "${state#--p}" = "$state"
# hv's own line when it put a saved state into the domain.
check "it was restored from a saved state" grep -q "^\[hv\] domain-restore: into domain 0 'app'" "$log"
# The first count after the restore, then a later one: a fresh boot would
# print count 1 first; the restored guest goes on from its saved count.
first=$(awk "f && /^count [0-9]+\$/ { print \$2; exit } /^\\[hv\\] domain-restore: / { f = 1 }" "$log" 2>/dev/null)
check "it continued from the saved count (not from count 1)" test "${first:-0}" -gt 1
sleep 1
last=$(sed -n 's/^count \([0-9]*\)$/\1/p' "$log" 2>/dev/null | tail -n 1)
check "and it is still counting" test "${last:-0}" -gt "${first:-0}"
# The disk was not in the file: the restored domain writes the same one.
disk=$(qemu-io -r -U -f qcow2 -c 'read -v 0 16' app.qcow2 2>/dev/null |
    sed -n 's/^00000000: .*  count\.\([0-9]*\)\..*/\1/p')
check "and it writes its disk after the restore (app.qcow2 holds a count from after it)" \
    test "${disk:-0}" -ge "${first:-1}" -a "${first:-0}" -gt 1
finish
