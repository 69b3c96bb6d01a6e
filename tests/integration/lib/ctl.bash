# shellcheck shell=bash
# Helpers of the control protocol's tests (ctl-domain.sh, ctl-save.sh),
# sourced after lib.bash.

HVCTL=$BUILD/mgmt/hvctl

# wait_for FILE REGEX RUN_PID: until a line of FILE matches (up to 120 s);
# 1 if it never does or hvrun ends first (RUN_PID "": a machine a
# front-end started, whose pid the test does not have).
wait_for() {
    local i
    for ((i = 0; i < 600; i++)); do
        grep -Eq "$2" "$1" 2>/dev/null && return 0
        [ -z "$3" ] || kill -0 "$3" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

# ctl_state SOCK: query-host and query-domains without the counters that
# move by themselves (exits, guest time), to compare before and after a
# refusal.
ctl_state() {
    "$HVCTL" -s "$1" --timeout 120 query-host
    "$HVCTL" -s "$1" --timeout 120 query-domains | sed 's/"exits": [0-9]*, "cpu-tsc": [0-9]*//g'
}
