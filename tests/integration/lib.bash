# shellcheck shell=bash
# Helpers for the tests/integration/*.sh scripts (sourced; the .bash suffix
# keeps tests/run from running it as a suite of its own).
#
# A script prints one line per case, "PASS: name", "FAIL: name: why" or
# "SKIP: name: why" (tests/run counts them).  Anything else it prints, such as
# the tail of a log after a failure, is indented so it can never be mistaken
# for a result line.
set -uo pipefail

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
export TOP BUILD
# The hypervisor under test (HV=... overrides, e.g. to try another build).
HV=${HV:-$BUILD/hv/hv.elf}

# Every script keeps its logs in its own directory under build/.
IT_NAME=$(basename "$0" .sh)
IT_WORK=$BUILD/tests/integration/$IT_NAME
rm -rf "$IT_WORK"
mkdir -p "$IT_WORK"

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
skip() { echo "SKIP: $1: $2"; }

# show_log FILE [LINES]: the last lines of a log, indented, after a failure.
show_log() {
    [ -s "$1" ] || return 0
    echo "    --- ${1#"$TOP"/} (last ${2:-15} lines):"
    tail -n "${2:-15}" "$1" | sed 's/^/    | /'
}

# Cases run in the background, at most IT_JOBS at once (the machine is shared:
# two emulators at a time is the budget).  Each case's output is kept in a
# file and printed in the order the cases were started.
IT_JOBS=${IT_JOBS:-2}
IT_CASES=()

# run_case ID COMMAND...: start one case.
run_case() {
    local id=$1
    shift
    while [ "$(jobs -rp | wc -l)" -ge "$IT_JOBS" ]; do
        wait -n
    done
    "$@" >"$IT_WORK/$id.result" 2>&1 &
    IT_CASES+=("$id")
}

# finish_cases: wait for every case and print the results in order.
finish_cases() {
    local id
    wait
    for id in "${IT_CASES[@]}"; do
        cat "$IT_WORK/$id.result"
    done
    IT_CASES=()
}

# run_logged OUT ERR STATUSFILE COMMAND...: run a launcher, keeping stdout,
# stderr and the exit status in files.
run_logged() {
    local out=$1 err=$2 st=$3
    shift 3
    "$@" >"$out" 2>"$err" </dev/null
    echo $? >"$st"
}

# wait_for FILE TEXT SECONDS [PID]: until FILE has a line matching TEXT (a
# grep pattern), checked ten times a second; 1 if it never does, or as
# soon as process PID (when given) has ended without it.
wait_for() {
    wait_for_nth "$1" "$2" 1 "$3" "${4:-}"
}

# wait_for_nth FILE TEXT N SECONDS [PID]: until FILE has N lines matching
# TEXT (a grep pattern), up to SECONDS; false then, or as soon as process
# PID (when given) has ended without them.
wait_for_nth() {
    local i n
    for ((i = 0; i < $4 * 10; i++)); do
        n=$(grep -c "$2" "$1" 2>/dev/null)
        [ "${n:-0}" -ge "$3" ] && return 0
        [ -z "${5:-}" ] || kill -0 "$5" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# qemu_monitor_start OUT MON QEMU-ARGS...: the guest on the reference
# machine (bin/hvrun.d/qemu.sh's, 128 MiB) with its serial console into
# the file OUT and QEMU's monitor on stdio: what the monitor prints goes
# into MON, what it reads comes from the FIFO MON.in, which the caller
# writes on file descriptor 3 (and closes with `exec 3>&-` when done).
# QEMU's pid is in QEMU_PID; the run is cut after $TIMEOUT s.
qemu_monitor_start() {
    local out=$1 mon=$2 a args=()
    shift 2
    # shellcheck source=../../bin/hvrun.d/qemu.sh
    . "$TOP/bin/hvrun.d/qemu.sh"
    qemu_machine_args
    # The same machine with the serial console in a file: stdio is the
    # monitor's.
    for a in "${QEMU_ARGS[@]}"; do
        [ "$a" = stdio ] && a=file:$out
        args+=("$a")
    done
    rm -f "$mon.in"
    mkfifo "$mon.in"
    : >"$out"
    timeout -k 5 "$TIMEOUT" "$HVRUN_QEMU" "${args[@]}" -m 128M -monitor stdio "$@" \
        <"$mon.in" >"$mon" 2>&1 &
    QEMU_PID=$!
    exec 3>"$mon.in"
}

# bochs_missing: why Bochs cannot run hv here, or nothing (the same test as
# bin/hvrun.d/bochs.sh's emu_check, which names the packages), for the
# scripts that run hv in Bochs.
bochs_missing() {
    (
        # shellcheck disable=SC2034  # read by the sourced back end
        HVKIT_PROG=$IT_NAME
        # shellcheck source=../../bin/hvrun.d/bochs.sh
        . "$TOP/bin/hvrun.d/bochs.sh"
        # shellcheck disable=SC2069  # the message into the capture, stdout away
        emu_check vmx 2>&1 >/dev/null
    )
}

# hv_missing: why hv cannot be tested yet, or nothing.
hv_missing() {
    [ -f "$HV" ] || echo "hv is not built ($HV is missing; run make)"
}

# built_missing FILE...: why a script cannot run yet because hv or a guest
# it needs is not built, or nothing.  The reason names the first missing
# file, so the skip line tells the reader what to build.
built_missing() {
    local f
    for f in "$@"; do
        [ -f "$f" ] && continue
        if [ "$f" = "$HV" ]; then
            hv_missing
        else
            echo "the $(basename "$f" .elf) guest is not built ($f)"
        fi
        return
    done
}

# skip_all_if WHY CASE...: when WHY is not empty, report every CASE as
# skipped for that reason and end the script; otherwise do nothing.  This
# is the head of every script that needs built guests: a fresh checkout
# without a build gets one clear reason per case instead of failures.
skip_all_if() {
    local why=$1 c
    shift
    [ -n "$why" ] || return 0
    for c in "$@"; do skip "$c" "$why"; done
    exit 0
}

# emulator_of PID: the qemu-system process among PID's descendants (the
# outer QEMU of a bin/hvrun), for a test that stops it (SIGSTOP).
emulator_of() {
    local c p
    for c in $(pgrep -P "$1"); do
        case $(cat "/proc/$c/comm" 2>/dev/null) in
        qemu-system*) echo "$c" && return ;;
        esac
        p=$(emulator_of "$c")
        [ -n "$p" ] && echo "$p" && return
    done
}
