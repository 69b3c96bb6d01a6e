. "$(dirname "$0")/../../grade-lib.bash"
check "domain 'flaky' is in xl list" sh -c "'$HVKIT_XL' list flaky | awk '\$1 == \"flaky\"' | grep -q ."
# hv's own words for what it did at the crash, as xl dmesg shows them.
check "it crashed and hv restarted it (on_crash=restart)" \
    sh -c "'$HVKIT_XL' dmesg | grep -q 'crashed: .*; restarting (on_crash=restart)\$'"
finish
