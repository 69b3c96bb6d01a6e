. "$(dirname "$0")/../../grade-lib.bash"
# What runs, as hv counts it (query-domains), what the guest says, and the
# definition for the next start.
online=$(ctl api query-domains 2>/dev/null | sed -n 's/.*"vcpus-online": \([0-9]*\).*/\1/p')
check "2 vCPUs of domain api run (query-domains)" test "${online:-0}" = 2
last=$(grep '^vcpuhot: ' "$HVKIT_STATE_DIR/running/api.log" 2>/dev/null | tail -1)
check "the guest runs CPUs 0 and 1, each counting" test "$last" = 'vcpuhot: 2 CPUs online (0 1), each counting'
check "its definition starts it with 2 of 4 vCPUs (virsh dumpxml --inactive)" \
    sh -c "'$HVKIT_VIRSH' -q dumpxml api --inactive | grep -q \"<vcpu placement='static' current='2'>4</vcpu>\""
finish
