#!/usr/bin/env bash
# The exam lab's drills (labs/exam-lpic3): for each, after its set-up the
# grader must fail (nothing done yet), and after the drill's scripted
# correct answer (answer.sh, typed as a student would, with the lab's
# qemu-img and virsh) it must pass.  The graders judge with the real
# qemu-img and qemu-io, so this also proves hvkit's tools give QEMU's result.
# The drills on running domains (xl's, 10 and up) start hvkit machines
# (QEMU+SVM); the lab's reset ends them at the end.
. "$(dirname "$0")/lib.bash"

LAB=$TOP/labs/exam-lpic3
export HVKIT_EXAM_DIR=$IT_WORK/exam
drills=()
for d in "$LAB"/drills/*/; do drills+=("$(basename "$d")"); done

skip_all_if "$(built_missing "$BUILD/mgmt/virsh" "$BUILD/mgmt/xl" "$BUILD/imgtool/imgtool" \
    "$BUILD/hv/hv.elf" "$BUILD/guestkit/pattern.elf" "$BUILD/guestkit/counter.elf" \
    "$BUILD/guestkit/hotdisk.elf")" \
    "${drills[@]/#/drill }"
if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
    for d in "${drills[@]}"; do skip "drill $d" "qemu-utils is not installed"; done
    exit 0
fi

for d in "${drills[@]}"; do
    n=${d:0:2}
    log=$IT_WORK/$d.log
    if ! bash "$LAB/lab.sh" task "$n" >"$log" 2>&1; then
        fail "drill $d" "set-up failed"
        show_log "$log"
        continue
    fi
    if bash "$LAB/lab.sh" grade "$n" >>"$log" 2>&1; then
        fail "drill $d" "the grader passes before the task is done"
        show_log "$log"
        continue
    fi
    (cd "$HVKIT_EXAM_DIR/home" && PATH=$HVKIT_EXAM_DIR/bin:$PATH \
        LAB_HOME=$HVKIT_EXAM_DIR/home HVKIT_STATE_DIR=$HVKIT_EXAM_DIR/state \
        bash -e "$LAB/drills/$d/answer.sh") >>"$log" 2>&1
    if bash "$LAB/lab.sh" grade "$n" >>"$log" 2>&1; then
        pass "drill $d: fails before, passes after the scripted answer"
    else
        fail "drill $d" "the grader fails after the scripted answer"
        show_log "$log" 25
    fi
done
# No machine a drill started outlives the suite.
bash "$LAB/lab.sh" reset >/dev/null
