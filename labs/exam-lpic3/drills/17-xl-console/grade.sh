. "$(dirname "$0")/../../grade-lib.bash"
state=$(xl_lab list web 2>/dev/null | awk '$1 == "web" {print $5}')
check "domain 'web' still runs (xl list: r----- or -b----)" \
    sh -c "test '$state' = 'r-----' || test '$state' = '-b----'"
# The guest's answer, as its console shows it (a few seconds' grace: the
# keys reach the guest through the domain's manager).
answered() {
    local _
    for _ in $(seq 50); do
        grep -qx 'shout: EXAM READY' "$HVKIT_STATE_DIR/running/web.log" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}
check "the guest answered 'exam ready' on its console" answered
finish
