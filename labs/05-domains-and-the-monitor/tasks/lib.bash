# shellcheck shell=bash
# Helpers for the tasks' grade.sh scripts (sourced; tasks.sh sets D, SOCK,
# HVCTL and ADDR).  A grader prints one line per thing it checks, "ok: ..."
# or "missing: ...", and exits 1 if anything is missing.  It judges the
# state the task left behind and the saved session against what hv itself
# recorded, never the commands alone.
missing=0
ok() { echo "  ok: $1"; }
miss() { echo "  missing: $1"; missing=1; }
finish() { exit "$missing"; }

# reads FILE: the counter's values the monitor showed in the saved session
# FILE, one per line, in hex as `xp /1xg` prints them (16 digits), in the
# order shown.  A session saved by script(1) has CRs and may have
# terminal escapes; a line may start with the monitor's prompt.
reads() {
    local a
    a=$(printf '%016x' "$((ADDR))")
    sed -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/^\((qemu) \)*//' "$1" 2>/dev/null |
        sed -n "s/^$a: 0x\([0-9a-f]\{16\}\)\( .*\)\{0,1\}\$/\1/p"
}

# paused_values: the counter's values the recorder read at hv's STOP
# events, while the guest was paused.
paused_values() {
    sed -n 's/^STOP \([0-9a-f]\{16\}\)$/\1/p' "$D/record"
}

# running: the domain runs now (query-status, through the manager).
running() {
    "$HVCTL" -s "$SOCK" --timeout 10 query-status 2>/dev/null | grep -q '"status": "running"'
}

# counter_now: the counter's value now, 16 hex digits (tasks.sh's reader).
counter_now() {
    local data
    data=$("$HVCTL" -s "$SOCK" --timeout 10 x-read-memory "addr=$ADDR" size=8 physical=true 2>/dev/null |
        sed -n 's/.*"data": "\([0-9a-f]\{16\}\)".*/\1/p')
    [ -n "$data" ] || return 1
    echo "$data" | sed 's/../& /g' | awk '{ for (i = 8; i >= 1; i--) printf "%s", $i; print "" }'
}

# gt A B: hex A > hex B (the counter stays far below 2^63).
gt() { [ $((16#$1)) -gt $((16#$2)) ]; }
