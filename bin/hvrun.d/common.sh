# shellcheck shell=bash
# shellcheck disable=SC2034  # the constants and EMU_NAME are used by the sourcing scripts
# Helpers shared by bin/hvrun and bin/qemu-guest: option values and the
# exit-status convention of include/hvkit/abi.h.  Sourced, never run.
#
# Exit statuses (abi.h, HVRUN_STATUS_*): the guest's own code 0..123, then
#   124 timeout, 125 usage / missing file / missing emulator,
#   126 hv (or the emulator) could not run the guest, 127 the guest crashed.

HVKIT_STATUS_TIMEOUT=124
HVKIT_STATUS_USAGE=125
HVKIT_STATUS_HVERROR=126
HVKIT_STATUS_CRASH=127

# Print "PROG: MESSAGE" on stderr.  $HVKIT_PROG is set by the sourcing script.
hvkit_say() {
    printf '%s: %s\n' "$HVKIT_PROG" "$*" >&2
}

# A usage error: say what is wrong, point at --help, exit 125.
hvkit_usage_error() {
    hvkit_say "$*"
    printf "Try '%s --help' for more information.\n" "$HVKIT_PROG" >&2
    exit "$HVKIT_STATUS_USAGE"
}

# hvkit_mem_mib SIZE: print SIZE in MiB, accepting QEMU's -m syntax: a number
# of MiB, or a number with a K, M, G or T suffix (also "size=..."), as in
# qemu-system's "-m [size=]megs[M|G]".  Returns 1 for anything else.
hvkit_mem_mib() {
    local s=${1#size=} n unit
    [[ $s =~ ^([0-9]+)([KkMmGgTt]?)[Bb]?$ ]] || return 1
    n=$((10#${BASH_REMATCH[1]}))
    unit=${BASH_REMATCH[2]}
    case $unit in
    K | k)
        # QEMU rounds a size in KiB up to whole MiB as well.
        n=$(((n + 1023) / 1024))
        ;;
    G | g) n=$((n * 1024)) ;;
    T | t) n=$((n * 1024 * 1024)) ;;
    esac
    printf '%s\n' "$n"
}

# hvkit_check_timeout SECONDS: a positive number, as timeout(1) accepts it.
hvkit_check_timeout() {
    [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && [[ $1 =~ [1-9] ]]
}

# hvkit_guest_file PATH: the guest image must be a readable regular file; say
# why not and exit 125 otherwise.
hvkit_guest_file() {
    local f=$1
    if [ -z "$f" ]; then
        hvkit_usage_error "no guest given: use -kernel GUEST"
    elif [ ! -e "$f" ]; then
        hvkit_say "guest '$f' does not exist"
        exit "$HVKIT_STATUS_USAGE"
    elif [ -d "$f" ]; then
        hvkit_say "guest '$f' is a directory, not a kernel image"
        exit "$HVKIT_STATUS_USAGE"
    elif [ ! -r "$f" ]; then
        hvkit_say "guest '$f' is not readable"
        exit "$HVKIT_STATUS_USAGE"
    fi
}

# hvkit_guest_status N: turn a guest exit code into our exit status.  Codes
# 0..123 are passed on; larger ones would be mistaken for the launcher's own
# statuses 124..127, so they are reported and mapped to 126.
hvkit_guest_status() {
    local n=$1
    if [ "$n" -le 123 ]; then
        return "$n"
    fi
    hvkit_say "the guest exited with code $n, which is outside 0..123 (124..127 are reserved" \
        "for the launcher, see include/hvkit/abi.h)"
    return "$HVKIT_STATUS_HVERROR"
}

# hvkit_quote ARGS...: print ARGS as one shell-readable line, quoting only
# the words that need it (for "running: ..." lines students can copy).
hvkit_quote() {
    local a out=()
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./=,:+@%-]+$ ]]; then
            out+=("$a")
        else
            out+=("'${a//\'/\'\\\'\'}'")
        fi
    done
    printf '%s\n' "${out[*]}"
}

# hvkit_catch_interrupt: remember a ^C (SIGINT) or SIGTERM instead of dying
# at once, so that the launcher can stop the emulator it started and say
# what happened, rather than take the emulator's status for an outcome of
# the guest.  Used around a pipeline run in the background and waited for
# (a shell runs traps only once a foreground command has finished, but
# interrupts "wait" at once).
HVKIT_INTERRUPTED=''
hvkit_catch_interrupt() {
    trap 'HVKIT_INTERRUPTED=INT' INT
    trap 'HVKIT_INTERRUPTED=TERM' TERM
}

# hvkit_stop_children: stop every process this launcher started (its
# descendants, found by parent PID), e.g. the emulator and timeout(1):
# SIGINT and SIGTERM first (Bochs ignores SIGTERM but quits on SIGINT),
# SIGKILL for whatever is still there 5 seconds later.
hvkit_stop_children() {
    local pids=() i
    hvkit_descendants() {
        local c
        for c in $(pgrep -P "$1"); do
            pids+=("$c")
            hvkit_descendants "$c"
        done
    }
    hvkit_descendants $$
    [ ${#pids[@]} -gt 0 ] || return 0
    kill -INT "${pids[@]}" 2>/dev/null
    kill -TERM "${pids[@]}" 2>/dev/null
    for i in 1 2 3 4 5 6 7 8 9 10; do
        kill -0 "${pids[@]}" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -KILL "${pids[@]}" 2>/dev/null
}

# hvkit_exit_if_interrupted: if a signal arrived, stop what is left of the
# run and exit 130 (INT) or 143 (TERM), the shell's statuses for them.
hvkit_exit_if_interrupted() {
    [ -n "$HVKIT_INTERRUPTED" ] || return 0
    hvkit_stop_children
    wait
    case $HVKIT_INTERRUPTED in
    INT)
        hvkit_say "interrupted"
        exit 130
        ;;
    *)
        hvkit_say "terminated"
        exit 143
        ;;
    esac
}
