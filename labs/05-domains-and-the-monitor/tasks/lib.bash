# shellcheck shell=bash
# Helpers for the tasks' grade.sh scripts and tasks.sh (sourced; tasks.sh
# sets D, SOCK, HVCTL and ADDR).  A grader prints one line per thing it checks, "ok: ..."
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

# read_counter ADDR: the counter's value now, in hex (16 digits), read
# through the control protocol; x-read-memory gives the bytes in memory
# order, and the word is little-endian.
read_counter() {
    local data
    data=$("$HVCTL" -s "$SOCK" --timeout 10 x-read-memory "addr=$1" size=8 physical=true 2>/dev/null |
        sed -n 's/.*"data": "\([0-9a-f]\{16\}\)".*/\1/p')
    [ -n "$data" ] || return 1
    echo "$data" | sed 's/../& /g' | awk '{ for (i = 8; i >= 1; i--) printf "%s", $i; print "" }'
}

# gt A B: hex A > hex B (the counter stays far below 2^63).
gt() { [ $((16#$1)) -gt $((16#$2)) ]; }

# The scripted answers (answer.sh) type into a monitor whose standard input
# is a FIFO, and wait as a person would until they have seen the effect of
# a command: answer_start, answer_type LINE..., answer_until FILE REGEX
# [COUNT], answer_end.
answer_start() {
    mkfifo "$D/answer.fifo"
    bin/hvmon "$D/ctl.sock" <"$D/answer.fifo" >"$D/$1" &
    answer_pid=$!
    exec {answer_fd}>"$D/answer.fifo"
}
answer_type() {
    printf '%s\n' "$@" >&"$answer_fd"
}
# answer_until FILE REGEX [COUNT]: until FILE has COUNT (default 1) lines
# matching REGEX, for at most a minute.
answer_until() {
    local i
    for ((i = 0; i < 600; i++)); do
        [ "$(grep -c -E "$2" "$1" 2>/dev/null)" -ge "${3:-1}" ] && return 0
        sleep 0.1
    done
    echo "answer: '$2' never came in $1" >&2
    return 1
}
answer_end() {
    exec {answer_fd}>&-
    wait "$answer_pid"
    rm -f "$D/answer.fifo"
}
