#!/usr/bin/env bash
# tasks.sh: lab 05's monitor tasks on a running guest (README.md "Tasks").
#
#   tasks.sh list          the tasks
#   tasks.sh task N        start a fresh counting guest and print task N
#   tasks.sh grade N       check what task N left behind
#   tasks.sh stop          end the guest
#
# `task` boots the pattern guest (it counts for ever in a 64-bit word of
# RAM) under the repository's hv with a manager on a control socket
# (bin/hvrun --control), keeps its console and hv's lines in files, and
# starts a recorder: a front-end of its own on the same socket that waits
# for hv's STOP and RESUME events and, at each STOP, reads the counter the
# paused guest holds.  The graders judge the student's saved monitor
# session against that record, hv's own log lines, the live guest (through
# bin/hvctl) and the disk (through QEMU's qemu-img): numbers typed into a
# transcript by hand match none of them.
#
# Everything lives in LAB05_TASKS_DIR (default
# build/labs/05-domains-and-the-monitor/tasks).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
LAB=$TOP/labs/05-domains-and-the-monitor
D=${LAB05_TASKS_DIR:-$BUILD/labs/05-domains-and-the-monitor/tasks}
SOCK=$D/ctl.sock
HVCTL=$BUILD/mgmt/hvctl
TASK=task.md # each task's text
# read_counter, shared with the graders.
. "$LAB/tasks/lib.bash"

die() {
    echo "lab 05: $*" >&2
    exit 2
}

task_dir() {
    local t n
    [[ $1 =~ ^[0-9]+$ ]] && n=$((10#$1)) || n=$1
    t=$(ls -d "$LAB/tasks/$n"-*/ 2>/dev/null | head -n 1)
    t=${t%/}
    [ -n "$t" ] || die "no task '$1' (make -C labs/05-domains-and-the-monitor tasks)"
    echo "$t"
}

# alive PIDFILE: the process whose id the file holds still runs.
alive() {
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# stop: quit the machine through its manager, then end what task started
# (each in a process group of its own, by the ids it recorded).
stop() {
    local f
    if alive "$D/hvrun.pid"; then
        "$HVCTL" -s "$SOCK" --timeout 10 quit >/dev/null 2>&1
        for _ in $(seq 20); do
            alive "$D/hvrun.pid" || break
            sleep 0.5
        done
    fi
    for f in "$D/recorder.pid" "$D/hvrun.pid"; do
        alive "$f" && kill -- -"$(cat "$f")" 2>/dev/null
        rm -f "$f"
    done
    return 0
}

# counter_at: the counter's address, as the guest printed it.
counter_at() {
    sed -n 's/^pattern: counter at \(0x[0-9a-f]*\)$/\1/p' "$D/console.log" 2>/dev/null | head -n 1
}

# recorder ADDR: STOP and RESUME as hv announces them, in the file
# "record", each STOP with the counter read while the guest is paused.
recorder() {
    "$HVCTL" -s "$SOCK" --events --count 1000000 --timeout 86400 2>/dev/null |
        while IFS= read -r line; do
            case $line in
            *'"event": "STOP"'*) echo "STOP $(read_counter "$1")" >>"$D/record" ;;
            *'"event": "RESUME"'*) echo "RESUME" >>"$D/record" ;;
            esac
        done
}

start() {
    local b addr
    for b in "$BUILD/hv/hv.elf" "$BUILD/guestkit/pattern.elf" "$BUILD/mgmt/hvmon" "$HVCTL" \
        "$BUILD/mgmt/hvmgr" "$BUILD/imgtool/imgtool"; do
        [ -e "$b" ] || die "$b is not built: run make in $TOP first"
    done
    command -v qemu-img >/dev/null || die "qemu-img is not installed (Debian: apt-get install qemu-utils)"
    [ ${#SOCK} -lt 100 ] || die "the socket path $SOCK is too long for a Unix socket: set LAB05_TASKS_DIR"
    stop
    rm -rf "$D"
    mkdir -p "$D"
    qemu-img create -q -f qcow2 "$D/disk.qcow2" 16M || die "qemu-img could not make $D/disk.qcow2"
    # The machine lives half an hour unless ended (make task-stop).
    setsid "$TOP/bin/hvrun" --control "$SOCK" --timeout 1800 -kernel "$BUILD/guestkit/pattern.elf" \
        -drive "file=$D/disk.qcow2,format=qcow2" >"$D/console.log" 2>"$D/hv.log" </dev/null &
    echo $! >"$D/hvrun.pid"
    for _ in $(seq 240); do
        addr=$(counter_at)
        [ -n "$addr" ] && "$HVCTL" -s "$SOCK" --timeout 10 query-status >/dev/null 2>&1 && break
        alive "$D/hvrun.pid" || break
        sleep 0.5
    done
    if [ -z "$addr" ] || ! alive "$D/hvrun.pid"; then
        tail -n 5 "$D/hv.log" >&2
        stop
        die "the guest did not start (see $D/hv.log)"
    fi
    : >"$D/record"
    setsid bash -c "$(declare -f read_counter recorder); D='$D' SOCK='$SOCK' HVCTL='$HVCTL' recorder '$addr'" \
        </dev/null >/dev/null 2>&1 &
    echo $! >"$D/recorder.pid"
    # The recorder is listening once the manager has its connection: give
    # it that moment before the student's first command.
    sleep 1
}

case ${1:-} in
list)
    for t in "$LAB"/tasks/*/; do
        printf '  %s  %s\n' "$(basename "$t" | cut -d- -f1)" "$(head -n 1 "$t/$TASK" | sed 's/^# //')"
    done
    ;;
task)
    t=$(task_dir "${2:?usage: make task N=1}")
    start
    # The task's paths as the student types them, from the top of the
    # repository (bin/hvmon is there too).
    sed -e "s#TASKDIR#${D#"$TOP"/}#g" -e "s#COUNTER#$(counter_at)#g" "$t/$TASK"
    echo
    echo "(Commands from the top of the repository, $TOP.  The guest runs for 30 minutes;"
    echo " make -C labs/05-domains-and-the-monitor task-stop ends it sooner.)"
    echo "When you are done: make -C labs/05-domains-and-the-monitor task-grade N=$2"
    ;;
grade)
    t=$(task_dir "${2:?usage: make task-grade N=1}")
    [ -s "$D/console.log" ] || die "no task is running: make -C labs/05-domains-and-the-monitor task N=$2"
    if D=$D SOCK=$SOCK HVCTL=$HVCTL ADDR=$(counter_at) LAB_TASKS=$LAB/tasks bash "$t/grade.sh"; then
        echo "PASS: task $(basename "$t")"
    else
        echo "FAIL: task $(basename "$t") (the lines above say what is missing)"
        exit 1
    fi
    ;;
stop)
    stop
    echo "lab 05: the task's guest is stopped"
    ;;
*)
    echo "usage: tasks.sh list|task N|grade N|stop" >&2
    exit 2
    ;;
esac
