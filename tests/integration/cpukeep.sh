#!/usr/bin/env bash
# The CPU state hv itself never uses stays each vCPU's own: XCR0 and the
# AVX upper halves (both vendors: neither world switch touches them), and
# under VT-x also CR2, DR6 and the system-call MSRs (a VMCS holds none of
# them; SVM's VMCB and VMLOAD/VMSAVE do), and TSC_AUX on both (neither
# holds it).  Three domains run the cpukeep
# guest at once with seeds 1, 2 and 3 -- XCR0 with AVX and YMM15 patterns
# of their own for 1 and 3, XCR0 without AVX for 2, and different CR2, DR6
# MSR and TSC_AUX values each -- and check them every 20 ms while hv switches the
# CPU between them every time slice.  Each domain's lines must be the lines
# the same seed prints alone on plain QEMU.  QEMU+SVM, Bochs+VMX and
# Bochs+SVM.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/cpukeep.elf
CASES=("QEMU+SVM" "Bochs+VMX" "Bochs+SVM")
PERIODS=50

skip_all_if "$(built_missing "$HV" "$G")" "${CASES[@]}"

# The lines each seed prints alone on plain QEMU, the reference.
for s in 1 2 3; do
    "$TOP/bin/qemu-guest" --timeout 120 -kernel "$G" -append "seed=$s periods=$PERIODS" \
        >"$W/qemu.$s" 2>&1
done

# three NAME EMULATOR VENDOR: the three domains under hv; each domain's
# lines (domain N's start with "[dN] ") against its seed's on QEMU.
three() {
    local n=$1 out=$W/$1.out bad="" d
    "$TOP/bin/hvrun" --emulator "$2" --vendor "$3" --hv "$HV" --timeout 600 -m 16M \
        -kernel "$G" -append "seed=1 periods=$PERIODS" \
        --domain "$G seed=2 periods=$PERIODS" --domain "$G seed=3 periods=$PERIODS" \
        >"$out" 2>&1 </dev/null
    for d in 0 1 2; do
        if [ "$d" = 0 ]; then
            grep -v -e '^\[hv\]' -e '^\[d[0-9]\] ' "$out" >"$out.$d"
        else
            sed -n "s/^\[d$d\] //p" "$out" | grep -v '^\[hv\]' >"$out.$d"
        fi
        cmp -s "$out.$d" "$W/qemu.$((d + 1))" || bad+=" domain $d (seed $((d + 1)))"
    done
    if [ -z "$bad" ] && grep -q "^cpukeep 1: kept to period $PERIODS\$" "$W/qemu.1"; then
        pass "$n: three domains keep XCR0, YMM15, CR2, DR6, the system-call MSRs and TSC_AUX, the same lines as plain QEMU"
    else
        fail "$n" "not the lines of plain QEMU:$bad"
        for d in 0 1 2; do
            diff "$W/qemu.$((d + 1))" "$out.$d" | sed 's/^/    /' | head -8
        done
        show_log "$out" 10
    fi
}

run_case qemu-svm three "QEMU+SVM" qemu svm
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip "Bochs+VMX" "$why"
    skip "Bochs+SVM" "$why"
else
    run_case bochs-vmx three "Bochs+VMX" bochs vmx
    run_case bochs-svm three "Bochs+SVM" bochs svm
fi
finish_cases
