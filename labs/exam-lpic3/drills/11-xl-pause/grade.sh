. "$(dirname "$0")/../../grade-lib.bash"
state=$(xl_lab list db 2>/dev/null | awk '$1 == "db" {print $5}')
check "domain 'db' still exists" test -n "$state"
check "xl list shows it paused (--p---)" test "$state" = "--p---"
a=$(counter db)
sleep 1
b=$(counter db)
check "its counter stands still for a second" test -n "$a" -a "$a" = "$b"
finish
