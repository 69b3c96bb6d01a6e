#!/usr/bin/env bash
# Lab 05's monitor tasks on a running guest (labs/05-domains-and-the-monitor,
# tasks.sh): for each, once its guest runs the grader must fail (nothing
# done yet), after the task's scripted answer (answer.sh: the monitor
# session a student types, through bin/hvmon, and qemu-img) it must pass,
# and a forged session -- the real one with the counter's values or the VM
# SIZE changed, as someone would type it without doing the task -- must
# fail again.  The graders judge with hv's own record (its STOP events with
# the counter read while paused, its savevm/loadvm log lines), the live
# guest (bin/hvctl) and QEMU's qemu-img.
. "$(dirname "$0")/lib.bash"

L=$TOP/labs/05-domains-and-the-monitor
export LAB05_TASKS_DIR=$IT_WORK/t
D=$LAB05_TASKS_DIR
CASES=("lab 05 task 1 (pause proof)" "lab 05 task 2 (snapshot round trip)")

skip_all_if "$(built_missing "$HV" "$BUILD/guestkit/pattern.elf" "$BUILD/mgmt/hvmon" \
    "$BUILD/mgmt/hvctl" "$BUILD/mgmt/hvmgr")" "${CASES[@]}"
for p in qemu-system-x86_64 qemu-img; do
    command -v "$p" >/dev/null || skip_all_if "$p is not installed" "${CASES[@]}"
done

# grade N LOG: the task's grader, its output appended to LOG; status.
grade() {
    bash "$L/tasks.sh" grade "$1" >>"$2" 2>&1
}

# task_case N NAME FORGE: set task N up, grade (must fail), answer, grade
# (must pass), then run FORGE (a function changing the saved files as a
# forger would) and grade (must fail with the line FORGE names).
task_case() {
    local n=$1 c=$2 forge=$3 log=$IT_WORK/task$1.log addr
    if ! bash "$L/tasks.sh" task "$n" >"$log" 2>&1; then
        fail "$c" "the task's guest did not start"
        show_log "$log"
        return
    fi
    addr=$(sed -n 's/^pattern: counter at \(0x[0-9a-f]*\)$/\1/p' "$D/console.log" | head -n 1)
    if grade "$n" "$log"; then
        fail "$c" "the grader passes before the task is done"
        show_log "$log"
        return
    fi
    (cd "$TOP" && D=$D ADDR=$addr LAB_TASKS=$L/tasks HVCTL=$BUILD/mgmt/hvctl SOCK=$D/ctl.sock \
        bash -e "$(ls -d "$L/tasks/$n"-*/)answer.sh") >>"$log" 2>&1
    if ! grade "$n" "$log"; then
        fail "$c" "the grader fails after the scripted answer"
        show_log "$log" 25
        return
    fi
    echo "--- forged:" >>"$log"
    if ! "$forge" >>"$log" 2>&1; then
        fail "$c" "the forgery could not be made"
        show_log "$log" 25
    elif grade "$n" "$log"; then
        fail "$c" "the grader passes a forged session"
        show_log "$log" 25
    else
        pass "$c: fails before, passes after the scripted answer, catches a forged session"
    fi
}

# The forger of task 1 makes the paused reads one higher: the shape of a
# real session, values the guest never held while paused.
forge_pause() {
    local v
    v=$(grep -o -m1 '0x[0-9a-f]\{16\}$' "$D/pause.txt") || return 1
    sed -i "s/$v\$/$(printf '0x%016x' $((v + 1)))/" "$D/pause.txt"
}

# The forger of task 2 keeps the real session but writes qemu-img's list
# by hand, with a VM SIZE hv did not write.
forge_snapshot() {
    grep -q ' KiB ' "$D/qemu-img.txt" || return 1
    sed -i 's/ [0-9.]* KiB / 64.0 KiB /' "$D/qemu-img.txt"
}

task_case 1 "${CASES[0]}" forge_pause
task_case 2 "${CASES[1]}" forge_snapshot
bash "$L/tasks.sh" stop >/dev/null 2>&1
