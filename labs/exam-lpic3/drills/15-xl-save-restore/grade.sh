. "$(dirname "$0")/../../grade-lib.bash"
log=$HVKIT_STATE_DIR/running/app.log
check "LAB_HOME/app.save is a saved domain (hvkit's HVKITVMS state)" \
    sh -c "head -c 8 app.save 2>/dev/null | grep -qx HVKITVMS"
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
finish
