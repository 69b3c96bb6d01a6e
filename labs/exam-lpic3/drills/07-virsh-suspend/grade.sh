. "$(dirname "$0")/../../grade-lib.bash"
check "domain 'web' is defined (persistent)" test -f "$HVKIT_STATE_DIR/domains/web.xml"
status=$(ctl web query-status 2>/dev/null | sed -n 's/.*"status": "\([a-z-]*\)".*/\1/p')
check "its machine runs" test -n "$status"
check "the machine says the domain is paused" test "$status" = paused
a=$(counter web 2>/dev/null)
sleep 1
b=$(counter web 2>/dev/null)
check "its counter stands still for a second" test -n "$a" -a "$a" = "$b"
finish
