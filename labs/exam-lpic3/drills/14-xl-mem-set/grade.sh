. "$(dirname "$0")/../../grade-lib.bash"
check "domain 'cache' is running" sh -c "'$HVKIT_XL' list cache | awk '\$1 == \"cache\" {print \$5}' | grep -q '^[rb]'"
# What the guest has now, as hv counts it (the control protocol's
# query-balloon), not what was asked for.
actual=$(ctl cache query-balloon 2>/dev/null | sed -n 's/.*"actual": \([0-9]*\).*/\1/p')
check "the guest has 24 MiB now (query-balloon)" test "${actual:-0}" = $((24 << 20))
check "xl list shows 24 MiB" test "$(xl_lab list cache 2>/dev/null | awk '$1 == "cache" {print $3}')" = 24
finish
