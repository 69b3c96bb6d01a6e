. "$(dirname "$0")/../../grade-lib.bash"
# xl list's columns: Name ID Mem VCPUs State Time(s).
row() { xl_lab list 2>/dev/null | awk '$1 == "web"'; }
check "web.cfg exists" test -f web.cfg
check "domain 'web' is running" sh -c "'$HVKIT_XL' list web | awk '\$1 == \"web\" {print \$5}' | grep -q '^[rb]'"
check "it has 32 MiB of memory" test "$(row | awk '{print $3}')" = 32
check "it has one vCPU" test "$(row | awk '{print $4}')" = 1
# The disk as hv opened it, not as the cfg says.
check "hv opened web.img as a writable raw disk" \
    sh -c "'$HVKIT_TOP/bin/hvctl' -s '$HVKIT_STATE_DIR/running/web.sock' query-block |
        grep -Eq '\"file\": \"([^\"]*/)?web.img\", \"format\": \"raw\", \"ro\": false'"
finish
