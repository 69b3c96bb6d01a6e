. "$(dirname "$0")/../../grade-lib.bash"
check "domain 'db' is defined" test -f "$HVKIT_STATE_DIR/domains/db.xml"
check "its definition has 48 MiB (virsh dumpxml --inactive)" \
    sh -c "'$HVKIT_VIRSH' -q dumpxml db --inactive | grep -q \"<memory unit='KiB'>49152</memory>\""
mem=$(ctl db query-domains 2>/dev/null | sed -n 's/.*"memory": \([0-9]*\).*/\1/p')
check "it runs" test -n "$mem"
check "its machine gives it 48 MiB" test "$mem" = $((48 << 20))
finish
