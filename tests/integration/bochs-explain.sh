#!/usr/bin/env bash
# A failed VMX VM entry is explained in plain words (hv/vmx/explain.c).
#
# hv is built three more times with HV_VMX_BREAK=N (hv/vmx/vcpu.c), each
# breaking one rule of SDM Vol. 3C chapter 27 "VM Entries" in the VMCS on
# purpose, and run
# with the hello guest in Bochs (VT-x).  Each run must end with "[hv] exit:
# error (...)", hvrun status 126, the CPU's own verdict (exit reason 33, or
# the VM-instruction error number and its name from SDM vol 3C 31.4 "VM
# Instruction Error Numbers") and a line
# naming the broken check with its SDM section.  The hosted unit test
# tests/unit/test_hv_vmx_explain.c covers the checks one by one; this suite
# shows that the CPU (Bochs) and hv's explainer agree on real VM entries.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
GUEST=$BUILD/guestkit/hello.elf
# The test builds live beside the real one and are rebuilt incrementally.
BREAK_BUILD=$BUILD/tests/hv-vmx-break

# seed_break N: the first build with HV_VMX_BREAK=N starts as a copy of the
# real one ($BUILD/hv), without the objects made from a file that names
# HV_VMX_BREAK (the macro changes nothing else), so make compiles only
# those and links.  The dependency files (.d) name each object by its full
# path: the copy's are rewritten to name its own.
seed_break() {
    local to=$BREAK_BUILD/$1/hv d f
    [ ! -d "$to" ] && [ -d "$BUILD/hv/obj" ] || return 0
    mkdir -p "$BREAK_BUILD/$1"
    cp -a "$BUILD/hv" "$to"
    find "$to" -name '*.d' -exec sed -i "s#$BUILD/hv/#$to/#g" {} +
    for f in $(grep -rl HV_VMX_BREAK "$TOP/hv" "$TOP/include" "$TOP/klib" "$TOP/imgtool/lib"); do
        for d in $(grep -rlF --include='*.d' -e "$f" "$to/obj"); do
            rm -f "${d%.d}.o"
        done
    done
}

# case N NAME CPU-VERDICT CHECK: what each broken build must report.
CASES=(
    "1|guest TR unusable|[hv] exit: error (VM entry failed: invalid guest state (exit reason 33|VM-entry check failed (SDM vol 3C 27.3.1.2 \"Checks on Guest Segment Registers\"): guest TR type 0 must be 11"
    "2|unrestricted guest without EPT|VM-instruction error 7: VM entry with invalid control field(s)|VM-entry check failed (SDM vol 3C 27.2.1.1 \"VM-Execution Control Fields\"): \"unrestricted guest\" is 1 but \"enable EPT\" is 0"
    "3|null host TR selector|VM-instruction error 8: VM entry with invalid host-state field(s)|VM-entry check failed (SDM vol 3C 27.2.3 \"Checks on Host Segment and Descriptor-Table Registers\"): the host TR selector must not be 0"
)

# one_case N NAME VERDICT CHECK
one_case() {
    local n=$1 name="broken VMCS: $2" verdict=$3 check=$4 hv=$BREAK_BUILD/$1/hv/hv.elf st
    seed_break "$n"
    if ! make -s -C "$TOP/hv" BUILD="$BREAK_BUILD/$n" CC="${CC:-gcc} -DHV_VMX_BREAK=$n" \
        >"$W/$n.build" 2>&1; then
        fail "$name" "building hv with HV_VMX_BREAK=$n failed"
        show_log "$W/$n.build"
        return
    fi
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "$TOP/bin/hvrun" --emulator bochs --vendor vmx \
        --hv "$hv" --timeout 60 -m 16M -kernel "$GUEST"
    st=$(cat "$W/$n.st")
    if [ "$st" != 126 ]; then
        fail "$name" "hvrun status $st, expected 126 (hv could not run the guest)"
        show_log "$W/$n.err"
    elif ! grep -q '^\[hv\] exit: error (' "$W/$n.err"; then
        fail "$name" "no '[hv] exit: error (...)' line"
        show_log "$W/$n.err"
    elif ! grep -qF -- "$verdict" "$W/$n.err"; then
        fail "$name" "the CPU's verdict '$verdict' is not reported"
        show_log "$W/$n.err"
    elif ! grep -qF -- "$check" "$W/$n.err"; then
        fail "$name" "no line names the broken check ('$check')"
        show_log "$W/$n.err"
    elif grep -q '^Hello' "$W/$n.out"; then
        fail "$name" "the guest ran although its VMCS is broken"
    else
        pass "$name"
    fi
}

why=$(hv_missing)
[ -n "$why" ] || [ -f "$GUEST" ] || why="the hello guest is not built ($GUEST)"
[ -n "$why" ] || why=$(bochs_missing)
for c in "${CASES[@]}"; do
    IFS='|' read -r n name verdict check <<<"$c"
    if [ -n "$why" ]; then
        skip "broken VMCS: $name" "$why"
        continue
    fi
    run_case "$n" one_case "$n" "$name" "$verdict" "$check"
done
finish_cases
