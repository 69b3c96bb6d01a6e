#!/usr/bin/env bash
# hv's second-level tables at run time (hv/core/guestmem.c), judged from
# real runs under QEMU+SVM and Bochs+VMX:
#   - npt=lazy: the guest's output is the same as eager, and every first
#     touch is one nested page fault, mapped and counted ("npt=lazy: N pages
#     mapped", N = the MEM_VIOLATION count = the trace's "first touch"
#     lines); the memory guest, which writes every free page, passes with
#     all of its RAM faulted in page by page;
#   - dirty log: the pages hv names in its "dirty log:" line are the ones
#     the dirty guest wrote (its buffer's pages 1 5 17 42 63, then 5 7),
#     eager on QEMU+SVM and lazy on Bochs+VMX;
#   - per-page permissions: the protect guest writing its read-only page, or
#     calling into its no-execute page, is ended as crashed with the address
#     and the access named (QEMU+SVM and Bochs+VMX);
#   - slat-dot: docs/slatgraph.sh draws a graph Graphviz accepts, with the
#     memory map's ranges in it.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit
cases=(lazy-qemu-svm lazy-memory-qemu-svm dirty-qemu-svm dirty-lazy-bochs-vmx protect-write-qemu-svm
    protect-exec-qemu-svm protect-exec-bochs-vmx slat-dot)
skip_all_if "$(built_missing "$HV" "$G"/{hello,memory,dirty,protect}.elf)" "${cases[@]}"
# Bochs: the same test as bin/hvrun.d/bochs.sh's emu_check.
bochs_why=$(
    # shellcheck disable=SC2034  # read by the sourced back end
    HVKIT_PROG=slat
    # shellcheck source=../../bin/hvrun.d/bochs.sh
    . "$TOP/bin/hvrun.d/bochs.sh"
    emu_check vmx 2>&1 >/dev/null
)

# hvrun_case NAME ARGS...: run bin/hvrun, logs in $W/NAME.{out,err,st}.
hvrun_case() {
    local n=$1
    shift
    run_logged "$W/$n.out" "$W/$n.err" "$W/$n.st" "$TOP/bin/hvrun" --hv "$HV" --timeout 120 "$@"
}

# The number in hv's statistics line for REASON, or 0.
stat_of() { sed -nE "s/^\[hv\]   $2 +([0-9]+)$/\1/p" "$1" | head -n 1 | grep . || echo 0; }

lazy_qemu_svm() {
    local n=lazy-qemu-svm
    hvrun_case $n.eager -kernel "$G/hello.elf" -append world
    hvrun_case $n --npt lazy --trace -kernel "$G/hello.elf" -append world
    local mapped faults touches
    mapped=$(sed -nE 's/^\[hv\] npt=lazy: ([0-9]+) pages mapped on first touch$/\1/p' "$W/$n.err")
    faults=$(stat_of "$W/$n.err" MEM_VIOLATION)
    touches=$(grep -c 'first touch, mapped page' "$W/$n.err")
    if [ "$(cat "$W/$n.st")" != 0 ] || ! cmp -s "$W/$n.out" "$W/$n.eager.out"; then
        fail $n "the guest did not run as in eager mode (status $(cat "$W/$n.st"))"
        show_log "$W/$n.err"
    elif [ -z "$mapped" ] || [ "$mapped" -lt 10 ]; then
        fail $n "no 'npt=lazy: N pages mapped' line with N >= 10 (got '$mapped')"
    elif [ "$faults" != "$mapped" ] || [ "$touches" != "$mapped" ]; then
        fail $n "$mapped pages mapped, but $faults nested page faults and $touches trace lines"
    elif [ "$(stat_of "$W/$n.eager.err" MEM_VIOLATION)" != 0 ]; then
        fail $n "eager mode took nested page faults"
    else
        pass $n
    fi
}

lazy_memory_qemu_svm() {
    local n=lazy-memory-qemu-svm mapped
    hvrun_case $n --npt lazy -m 64M -kernel "$G/memory.elf"
    mapped=$(sed -nE 's/^\[hv\] npt=lazy: ([0-9]+) pages mapped on first touch$/\1/p' "$W/$n.err")
    # The free RAM above 1 MiB (64 MiB less 1 MiB and the reserved 128 KiB)
    # is 15840 pages; the guest's own image and low memory come on top.
    if [ "$(cat "$W/$n.st")" != 0 ] || grep -q '^FAIL' "$W/$n.out"; then
        fail $n "the memory guest failed in lazy mode (status $(cat "$W/$n.st"))"
        show_log "$W/$n.err"
    elif [ -z "$mapped" ] || [ "$mapped" -lt 15840 ] || [ "$mapped" -gt 16384 ]; then
        fail $n "want 15840..16384 pages mapped on first touch, got '$mapped'"
    else
        pass $n
    fi
}

# dirty_check NAME: the dirty guest passed, and hv's "dirty log:" lines name
# exactly the pages the guest wrote, relative to its buffer.
dirty_check() {
    local n=$1 base want1 want2 got1 got2 b
    base=$(sed -nE 's/^\[hv\] dirty log: [0-9]+ of 64 pages from (0x[0-9a-f]+) written:.*/\1/p' \
        "$W/$n.err" | head -n 1)
    if [ "$(cat "$W/$n.st")" != 0 ] || grep -q '^FAIL' "$W/$n.out" || [ -z "$base" ]; then
        fail "$n" "the dirty guest failed or hv printed no dirty log (status $(cat "$W/$n.st"))"
        show_log "$W/$n.out"
        show_log "$W/$n.err"
        return
    fi
    want1="" want2=""
    for b in 1 5 17 42 63; do want1+=" $(printf '%#x' $((base + b * 4096)))"; done
    for b in 5 7; do want2+=" $(printf '%#x' $((base + b * 4096)))"; done
    got1=$(grep -m1 ' 5 of 64 pages' "$W/$n.err" | sed 's/.*written://')
    got2=$(grep -m1 ' 2 of 64 pages' "$W/$n.err" | sed 's/.*written://')
    if [ "$got1" != "$want1" ] || [ "$got2" != "$want2" ]; then
        fail "$n" "hv named other pages: '$got1' / '$got2', want '$want1' / '$want2'"
    else
        pass "$n"
    fi
}

dirty_qemu_svm() {
    hvrun_case dirty-qemu-svm -kernel "$G/dirty.elf"
    dirty_check dirty-qemu-svm
}

dirty_lazy_bochs_vmx() {
    if [ -n "$bochs_why" ]; then
        skip dirty-lazy-bochs-vmx "$bochs_why"
        return
    fi
    hvrun_case dirty-lazy-bochs-vmx --emulator bochs --vendor vmx --npt lazy -m 32M \
        -kernel "$G/dirty.elf"
    dirty_check dirty-lazy-bochs-vmx
}

# protect_check NAME ACCESS OFFSET: the guest was ended as crashed for
# ACCESS ("wrote to", "executed at") at OFFSET in its page, not let through.
protect_check() {
    local n=$1 access=$2 off=$3 page addr
    page=$(sed -nE 's/^protect: page (0x[0-9a-f]+) .*/\1/p' "$W/$n.out" | head -n 1)
    if [ "$(cat "$W/$n.st")" = 2 ]; then
        skip "$n" "this CPU cannot forbid execution"
    elif [ "$(cat "$W/$n.st")" != 127 ] || [ -z "$page" ]; then
        fail "$n" "want the guest crashed (127), got status $(cat "$W/$n.st")"
        show_log "$W/$n.out"
        show_log "$W/$n.err"
    elif addr=$(printf '%#x' $((page + off))) &&
        ! grep -F "[hv] exit: guest crashed ($access guest-physical $addr" "$W/$n.err" |
        grep -qF "a RAM page that does not allow it"; then
        fail "$n" "hv's crash line does not name '$access' at $addr in a RAM page that forbids it"
        grep '^\[hv\] exit:' "$W/$n.err" | sed 's/^/    /'
    else
        pass "$n"
    fi
}

protect_write_qemu_svm() {
    hvrun_case protect-write-qemu-svm -kernel "$G/protect.elf" -append write
    protect_check protect-write-qemu-svm "wrote to" 16
}

protect_exec_qemu_svm() {
    hvrun_case protect-exec-qemu-svm -kernel "$G/protect.elf" -append exec
    protect_check protect-exec-qemu-svm "executed at" 0
}

protect_exec_bochs_vmx() {
    if [ -n "$bochs_why" ]; then
        skip protect-exec-bochs-vmx "$bochs_why"
        return
    fi
    hvrun_case protect-exec-bochs-vmx --emulator bochs --vendor vmx -m 32M \
        -kernel "$G/protect.elf" -append exec
    protect_check protect-exec-bochs-vmx "executed at" 0
}

slat_dot() {
    local out=$W/slat.dot
    if ! bash "$TOP/docs/slatgraph.sh" "$out" --hv "$HV" -kernel "$G/hello.elf" \
        >"$W/slat-dot.log" 2>&1; then
        fail slat-dot "docs/slatgraph.sh failed"
        show_log "$W/slat-dot.log"
    elif ! grep -q 'legacy VGA/ROM window' "$out" || ! grep -q 'in 2 MiB pages, RWX' "$out"; then
        fail slat-dot "the graph lacks the legacy window or the 2 MiB pages"
    elif command -v dot >/dev/null && ! dot -Tsvg "$out" -o "$W/slat.svg" 2>"$W/dot.err"; then
        fail slat-dot "Graphviz refused the graph: $(head -n 3 "$W/dot.err")"
    else
        pass slat-dot
    fi
}

run_case lazy-qemu-svm lazy_qemu_svm
run_case lazy-memory-qemu-svm lazy_memory_qemu_svm
run_case dirty-qemu-svm dirty_qemu_svm
run_case dirty-lazy-bochs-vmx dirty_lazy_bochs_vmx
run_case protect-write-qemu-svm protect_write_qemu_svm
run_case protect-exec-qemu-svm protect_exec_qemu_svm
run_case protect-exec-bochs-vmx protect_exec_bochs_vmx
run_case slat-dot slat_dot
finish_cases
