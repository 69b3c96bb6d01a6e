. "$(dirname "$0")/../../grade-lib.bash"
# What runs, as hv counts it (the control protocol's query-domains), and
# what the guest says: each of its CPUs counts.
online=$(ctl web query-domains 2>/dev/null | sed -n 's/.*"vcpus-online": \([0-9]*\).*/\1/p')
check "3 vCPUs of domain web run (query-domains)" test "${online:-0}" = 3
last=$(grep '^vcpuhot: ' "$HVKIT_STATE_DIR/running/web.log" 2>/dev/null | tail -1)
check "the guest runs CPUs 0, 1 and 2, each counting" test "$last" = 'vcpuhot: 3 CPUs online (0 1 2), each counting'
check "xl list shows 3 VCPUs" test "$(xl_lab list web 2>/dev/null | awk '$1 == "web" {print $4}')" = 3
finish
