# shellcheck shell=bash
# Helpers of the control protocol's tests (ctl-domain.sh, ctl-save.sh,
# hotdisk.sh), sourced after lib.bash, whose wait_for they wait with.

HVCTL=$BUILD/mgmt/hvctl

# ctl_state SOCK: query-host and query-domains without the counters that
# move by themselves (exits, guest time), to compare before and after a
# refusal.
ctl_state() {
    "$HVCTL" -s "$1" --timeout 120 query-host
    "$HVCTL" -s "$1" --timeout 120 query-domains | sed 's/"exits": [0-9]*, "cpu-tsc": [0-9]*//g; s/"cpu-time-ns": [0-9]*//g'
}

# ctl_refused SOCK CLASS WORDS COMMAND ARGS...: bin/hvctl's COMMAND with
# ARGS is refused with an error of CLASS whose words contain WORDS, and
# changes nothing (ctl_state the same before and after); the reply is kept
# in the suite's "refusals" file.  Otherwise prints why and returns 1.
ctl_refused() {
    local sock=$1 cls=$2 words=$3 before after r
    shift 3
    before=$(ctl_state "$sock")
    r=$("$HVCTL" -s "$sock" --timeout 120 "$@")
    after=$(ctl_state "$sock")
    echo "$*: $r" >>"$IT_WORK/refusals"
    [[ $r == "{\"error\": {\"class\": \"$cls\", \"desc\": \""*"$words"* ]] ||
        { echo "$*: want a $cls error with '$words': $r"; return 1; }
    [ "$before" = "$after" ] ||
        { echo "$* changed hv: before $before, after $after"; return 1; }
}

# ctl_machine DIR EMULATOR VENDOR CHECKS LOG HVRUN-ARGS...: one machine,
# bin/hvrun --control DIR/ctl.sock with 16 MiB and HVRUN-ARGS, its standard
# output into DIR/out and its errors into LOG (which may be DIR/out too),
# and CHECKS DIR SOCK PID run while it runs.  When CHECKS prints why it
# failed: prints that, ends the machine and returns 1; otherwise waits for
# the machine to end.
ctl_machine() {
    local d=$1 emu=$2 vendor=$3 checks=$4 log=$5 run why
    shift 5
    # Both streams appended, so that one file can take both in order.
    : >"$d/out"
    : >"$log"
    "$TOP/bin/hvrun" --emulator "$emu" --vendor "$vendor" --hv "$HV" --timeout "$TIMEOUT" \
        -m 16M --control "$d/ctl.sock" "$@" >>"$d/out" 2>>"$log" </dev/null &
    run=$!
    why=$("$checks" "$d" "$d/ctl.sock" "$run")
    if [ -n "$why" ]; then
        echo "$why"
        kill "$run" 2>/dev/null
        wait "$run"
        return 1
    fi
    wait "$run"
}
