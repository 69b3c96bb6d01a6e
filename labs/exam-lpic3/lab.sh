#!/usr/bin/env bash
# The exam lab's driver: see README.md.  lab.sh shell|list|task N|grade N|reset
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
LAB=$TOP/labs/exam-lpic3
TASK=task.md # each drill's task text
EXAM=${HVKIT_EXAM_DIR:-$BUILD/exam}
export LAB_HOME=$EXAM/home HVKIT_STATE_DIR=$EXAM/state

# The lab's own bin/: hvkit's tools under the names the exam uses.  It is
# put first on PATH only inside the lab shell and the drills' scripts, so
# the host's own qemu-img and virsh are never shadowed elsewhere.
make_bin() {
    mkdir -p "$EXAM/bin" "$LAB_HOME" "$HVKIT_STATE_DIR"
    ln -sf "$BUILD/imgtool/imgtool" "$EXAM/bin/qemu-img"
    # virsh's launcher: it tells virsh where bin/hvrun is (HVKIT_TOP).
    ln -sf "$TOP/bin/virsh" "$EXAM/bin/virsh"
    ln -sf "$TOP/bin/xl" "$EXAM/bin/xl"
}

# The running domains (xl's and virsh's machines, in the registry under
# $HVKIT_STATE_DIR/running, docs/xl.md) are processes, not files: a drill
# that starts afresh, and a reset, end them before removing the lab's files.
stop_domains() {
    local rec pid pids=()
    for rec in "$HVKIT_STATE_DIR"/running/*; do
        pid=$(sed -n 's/^pid=//p' "$rec" 2>/dev/null)
        [ -n "$pid" ] && kill -- -"$pid" 2>/dev/null && pids+=("$pid")
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
}

drill_dir() {
    local d
    d=$(ls -d "$LAB/drills/$1"-* 2>/dev/null | head -n 1)
    [ -n "$d" ] || { echo "lab: no drill '$1' (make -C labs/exam-lpic3 list)" >&2; exit 2; }
    echo "$d"
}

case ${1:-} in
shell)
    make_bin
    echo "hvkit exam lab: qemu-img, virsh and xl here are hvkit's ($EXAM/bin)."
    echo "Your files: $LAB_HOME.  Drills: make -C labs/exam-lpic3 list"
    cd "$LAB_HOME" && PATH=$EXAM/bin:$PATH PS1='[hvkit exam \W]\$ ' exec bash --norc -i
    ;;
list)
    for d in "$LAB"/drills/*/; do
        printf '  %s  %s\n' "$(basename "$d" | cut -c1-2)" "$(head -n 1 "$d/$TASK" | sed 's/^# //')"
    done
    ;;
task)
    d=$(drill_dir "${2:?usage: make task N=01}")
    make_bin
    # Each drill starts from a clean lab: no domain running, its files and
    # its virsh and xl state gone.
    stop_domains
    rm -rf "$LAB_HOME" "$HVKIT_STATE_DIR"
    mkdir -p "$LAB_HOME" "$HVKIT_STATE_DIR"
    if [ -f "$d/setup.sh" ]; then
        (cd "$LAB_HOME" && PATH=$EXAM/bin:$PATH HVKIT_BUILD=$BUILD bash "$d/setup.sh") || exit 1
    fi
    sed "s#LAB_HOME#$LAB_HOME#g" "$d/$TASK"
    echo
    echo "Work in the lab shell (make -C labs/exam-lpic3 shell), then: make -C labs/exam-lpic3 grade N=${2}"
    ;;
grade)
    d=$(drill_dir "${2:?usage: make grade N=01}")
    # The grader judges with the real qemu-img (QEMU's own driver), not the
    # lab's: what you made must be right by QEMU's standard.
    if (cd "$LAB_HOME" 2>/dev/null && HVKIT_VIRSH=$BUILD/mgmt/virsh HVKIT_XL=$TOP/bin/xl \
        HVKIT_TOP=$TOP bash "$d/grade.sh"); then
        echo "PASS: drill $(basename "$d")"
    else
        echo "FAIL: drill $(basename "$d") (the lines above say what is missing)"
        exit 1
    fi
    ;;
reset)
    [ -d "$HVKIT_STATE_DIR" ] && stop_domains
    rm -rf "$EXAM"
    echo "lab: reset"
    ;;
*)
    echo "usage: lab.sh shell|list|task N|grade N|reset" >&2
    exit 2
    ;;
esac
