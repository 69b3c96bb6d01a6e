#!/usr/bin/env bash
# Hostile guests: accesses hv must refuse, on every platform it runs on
# (QEMU+SVM, Bochs+VMX, Bochs+SVM).  Each case runs one guest that first
# prints the RIP of the instruction that will do the damage, then does it.
# hv must end the guest as crashed (bin/hvrun status 127) with one
# "[hv] exit: guest crashed (...)" line that names the access, after its
# exit statistics (hv itself is still running and reports), and the guest
# must not get past the access.  What hv refuses, in hv/README.md's words
# ("What the guest sees", Memory):
#   - holes touched with odd sizes and alignments, and an access that runs
#     from RAM into the hole above it (poke read|write ADDR SIZE);
#   - a store that runs from the I/O APIC's page into the hole after it;
#   - code fetched from the local APIC (poke exec);
#   - the guest's own page tables at a hole (CR3) or on a device (a PDE
#     pointing at the local APIC), an emulated MOVS into a page the guest
#     made read-only, INS into a page its tables map to a hole, an
#     exception delivered onto a stack in the local APIC (hv must not run
#     the instruction at RIP again as if it had made the access), and an
#     instruction the MMIO emulator does not do (the hostile guest);
#   - the guest's own store into a read-only page on Bochs+VMX (protect
#     write; tests/integration/slat.sh runs it on QEMU+SVM).
# What completes (accesses across the RAM/MMIO boundary, odd-size APIC
# accesses, the legacy window) is compared with plain QEMU in
# guests-qemu-svm.sh and bochs-guests.sh (the hostile and legacy guests).
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit
TIMEOUT=${GUEST_TIMEOUT:-90}
# 64 MiB of RAM: its top, 0x4000000, is where the RAM/hole case crosses.
MEM=64M

# crash_case PLATFORM NAME GUEST ARGS REGEX: run GUEST with ARGS on PLATFORM
# (qemu-svm, bochs-vmx, bochs-svm) and expect the crash line to match the
# extended REGEX, in which @RIP stands for the RIP the guest printed.  The
# verdict is "PLATFORM: NAME", the logs $W/PLATFORM-NAME.*.
crash_case() {
    local platform=$1 guest=$3 args=$4 regex=$5 emu vendor rip line
    local id="$platform: $2" f=$W/$platform-$2
    emu=${platform%-*} vendor=${platform#*-}
    run_logged "$f.out" "$f.err" "$f.st" "$TOP/bin/hvrun" --emulator "$emu" \
        --vendor "$vendor" --hv "$HV" --timeout "$TIMEOUT" -m "$MEM" -kernel "$G/$guest.elf" \
        -append "$args"
    rip=$(sed -nE 's/^(poke|hostile|protect): .* by rip (0x[0-9a-f]+)$/\2/p' "$f.out" | head -n 1)
    line=$(grep '^\[hv\] exit: ' "$f.err" | tail -n 1)
    if [ "$guest" != protect ] && [ -z "$rip" ]; then
        fail "$id" "the guest did not say which RIP would make the access"
        show_log "$f.out"
    elif [ "$(cat "$f.st")" != 127 ]; then
        fail "$id" "hvrun status $(cat "$f.st"), want 127 (guest crashed)"
        show_log "$f.out"
        show_log "$f.err"
    elif grep -qE '^(FAIL|poke: (read [0-9a-fx]*|wrote .*|returned .*))$' "$f.out"; then
        fail "$id" "the guest went on after the access"
    elif ! grep -q '^\[hv\]   total ' "$f.err"; then
        fail "$id" "hv printed no exit statistics before its last line"
    elif ! grep -qE "^\[hv\] exit: guest crashed \(${regex//@RIP/$rip}\)$" <<<"$line"; then
        fail "$id" "last line '$line' does not match '${regex//@RIP/$rip}'"
    else
        pass "$id"
    fi
}

for f in poke hostile protect; do
    [ -f "$G/$f.elf" ] || {
        skip hostile "the $f guest is not built ($G/$f.elf)"
        exit 0
    }
done
why=$(hv_missing)
if [ -n "$why" ]; then
    skip hostile "$why"
    exit 0
fi
bochs_why=$(bochs_missing)

# ID-suffix, guest, arguments, the crash line's regex.  A walk of the
# guest's page tables is reported as a read on VT-x and, as the CPU sets
# accessed bits, as a write on SVM.
CASES=(
    "hole-read1|poke|read 0xd0000003 1|read from guest-physical 0xd0000003 at rip @RIP: nothing there, outside the memory map"
    "hole-write2|poke|write 0xfffc0001 2|wrote to guest-physical 0xfffc0001 at rip @RIP: nothing there, the reserved firmware flash range"
    "ram-top-read8|poke|read 0x3fffffc 8|read from guest-physical 0x4000000 at rip @RIP: nothing there, outside the memory map"
    "ioapic-edge-write8|poke|write 0xfec00ffc 8|wrote to guest-physical 0xfec00ffc at rip @RIP: cannot write data: guest-physical 0xfec01000 \(nothing there\), in the I/O APIC's range"
    "apic-exec|poke|exec 0xfee00000|executed at guest-physical 0xfee00000 at rip @RIP: the local APIC's MMIO, which holds no code"
    "cr3-hole|hostile|cr3-hole|(read from|wrote to) guest-physical 0xd0000000 at rip @RIP: nothing there, outside the memory map \(while walking the guest's page tables\)"
    "pt-apic|hostile|pt-apic|(read from|wrote to) guest-physical 0xfee00000 at rip @RIP: the guest's page tables point into the local APIC's MMIO \(while walking the guest's page tables\)"
    "movs-ro|hostile|movs-ro|read from guest-physical 0xfee00030 at rip @RIP: cannot write data: guest-physical 0x[0-9a-f]+ \(write-protected\), in the local APIC's range"
    "ins-hole|hostile|ins-hole|string I/O \(INS\) at linear 0x40000000, rip @RIP: not mapped guest RAM the guest may write"
    "stack-apic|hostile|stack-apic|wrote to guest-physical 0xfee007f8 at rip @RIP: the local APIC's MMIO, while delivering an interrupt or exception \(the guest's stack, IDT, GDT or TSS is there\)"
    "div-apic|hostile|div-apic|read from guest-physical 0xfee00030 at rip @RIP: MMIO access by an instruction hv does not emulate: f7 /6 \(div\), in the local APIC's range"
)
for platform in qemu-svm bochs-vmx bochs-svm; do
    for c in "${CASES[@]}"; do
        IFS='|' read -r name guest args regex <<<"$c"
        if [ "$platform" != qemu-svm ] && [ -n "$bochs_why" ]; then
            skip "$platform: $name" "$bochs_why"
            continue
        fi
        run_case "$platform-$name" crash_case "$platform" "$name" "$guest" "$args" "$regex"
    done
done
# The guest's own store into its read-only page, on VT-x (EPT).
if [ -n "$bochs_why" ]; then
    skip "bochs-vmx: protect-write" "$bochs_why"
else
    run_case bochs-vmx-protect-write crash_case bochs-vmx protect-write protect write \
        "wrote to guest-physical 0x[0-9a-f]+ at rip 0x[0-9a-f]+: a RAM page that does not allow it, in the RAM range"
fi
finish_cases
