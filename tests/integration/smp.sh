#!/usr/bin/env bash
# Several vCPUs per domain (hv/core/smp.c): the smp guest finds its CPUs in
# the ACPI MADT, starts each application processor with INIT, STARTUP,
# STARTUP and a real-mode trampoline, lets every CPU add to a shared
# counter with a locked instruction and exchanges an IPI with each AP
# (guestkit/tests/smp.c).  Its output is deterministic, so plain QEMU with
# -smp N is the reference: hv with -smp N (hv's smp=N) must print the same
# lines, on QEMU+SVM with 1, 2 and 4 vCPUs and on Bochs+VMX and Bochs+SVM
# with 2 (VT-x's unrestricted guest runs the AP's real mode, SVM runs it
# under nested paging).  At its end every AP spins with interrupts off
# while the BSP finishes: under hv that finish needs the scheduler's
# preemption (SVM's NMI watchdog, VT-x's preemption timer), so a spinning
# AP that starved the BSP would time out here.
#
# Two domains of two vCPUs each both print that output.
#
# A snapshot taken before the AP started and loaded after puts it back
# into wait-for-SIPI, and the guest starts it again.
#
# With `smp wait` the guest stays up: query-cpus-fast lists both vCPUs,
# and the monitor's `info cpus` marks the current one, which `cpu 1`
# changes.
#
# The hostile run (smp hostile, hv only) sends a STARTUP to an APIC ID no
# vCPU has, an INIT to itself, a fixed IPI with an illegal vector and an
# NMI: each gets its "[hv]" line, and the guest then runs as usual.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/smp.elf
HVCTL=$BUILD/mgmt/hvctl
HVMON=$BUILD/mgmt/hvmon
TIMEOUT=${GUEST_TIMEOUT:-120}
MEM=32M

# plain_qemu OUT N: the reference run, QEMU's PC machine with N CPUs, as
# bin/qemu-guest runs a guest (which has no -smp).
plain_qemu() {
    local id=$1 n=$2
    run_logged "$W/$id.plain.out" "$W/$id.plain.err" "$W/$id.plain.st" \
        timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -smp "$n" -m "$MEM" \
        -nodefaults -display none -serial stdio -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$G"
}

# compare ID EMULATOR VENDOR N: plain QEMU and hv with N vCPUs print the same
# lines and end with code 0; hv started the N - 1 APs in real mode.
compare() {
    local id=$1 emu=$2 vendor=$3 n=$4 starts label="$1: hv -smp $4 prints what plain QEMU -smp $4 does"
    plain_qemu "$id" "$n"
    run_logged "$W/$id.out" "$W/$id.err" "$W/$id.st" "$TOP/bin/hvrun" --emulator "$emu" \
        --vendor "$vendor" --hv "$HV" --timeout "$TIMEOUT" -m "$MEM" -smp "$n" -kernel "$G"
    starts=$(grep -c '^\[hv\] domain 0 vCPU [0-9]: started by a STARTUP IPI in real mode at 0x70000' \
        "$W/$id.err")
    # isa-debug-exit: QEMU's status for the guest's code 0 is 1.
    if [ "$(cat "$W/$id.plain.st")" != 1 ]; then
        fail "$label" "plain QEMU -smp $n: status $(cat "$W/$id.plain.st"), want 1 (guest code 0)"
        show_log "$W/$id.plain.out"
    elif ! grep -q "^smp: the MADT lists $n CPU(s)" "$W/$id.plain.out"; then
        fail "$label" "plain QEMU -smp $n: the guest did not find $n CPUs"
        show_log "$W/$id.plain.out"
    elif [ "$(cat "$W/$id.st")" != 0 ]; then
        fail "$label" "hv: status $(cat "$W/$id.st"), want 0"
        show_log "$W/$id.out"
        show_log "$W/$id.err"
    elif ! cmp -s "$W/$id.plain.out" "$W/$id.out"; then
        fail "$label" "hv's output differs from plain QEMU's"
        diff "$W/$id.plain.out" "$W/$id.out" | head -20 | sed 's/^/    /'
    elif [ "$starts" != $((n - 1)) ]; then
        fail "$label" "hv started $starts APs in real mode, want $((n - 1))"
        show_log "$W/$id.err"
    else
        pass "$label"
    fi
}

# hostile ID: each bad IPI has its line, and the run ends well.
hostile() {
    local id=$1 want line missing=''
    run_logged "$W/$id.out" "$W/$id.err" "$W/$id.st" "$TOP/bin/hvrun" --hv "$HV" \
        --timeout "$TIMEOUT" -m "$MEM" -smp 2 -kernel "$G" -append hostile
    for want in 'STARTUP IPI to physical APIC ID 0x7e: no vCPU of the domain (it has 2) has it; dropped' \
        'INIT IPI to itself: ignored' 'fixed IPI with vector 3: vectors 0-15 are illegal' \
        'NMI IPI: hv does not deliver it; dropped'; do
        line="[hv] domain 0 vCPU 0: $want"
        grep -qF "$line" "$W/$id.err" || missing="$want"
    done
    if [ "$(cat "$W/$id.st")" != 0 ] || ! grep -q '^PASS: hostile IPIs sent, the BSP runs on$' "$W/$id.out" ||
        ! grep -qx 'SUMMARY: [0-9]* tests, 0 unexpected failures, 0 skipped' "$W/$id.out"; then
        fail "$id" "status $(cat "$W/$id.st"), want 0 and every test passed"
        show_log "$W/$id.out"
        show_log "$W/$id.err"
    elif [ -n "$missing" ]; then
        fail "$id" "no [hv] line for: $missing"
        show_log "$W/$id.err"
    else
        pass "$id"
    fi
}

# monitor ID: the vCPUs through the control protocol and the monitor
# (docs/control-protocol.md query-cpus-fast, QEMU's `info cpus` and `cpu N`)
# while the guest (smp wait) halts its BSP and spins its AP.
monitor() {
    local id=$1 d=$W/monitor run why=''
    mkdir -p "$d"
    "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" -m "$MEM" -smp 2 --control "$d/ctl.sock" \
        -kernel "$G" -append wait >"$d/out" 2>"$d/err" </dev/null &
    run=$!
    for _ in $(seq 600); do
        [ -S "$d/ctl.sock" ] && grep -q '^smp: waiting for the monitor' "$d/out" && break
        sleep 0.2
    done
    "$HVCTL" -s "$d/ctl.sock" --timeout 60 query-cpus-fast domain=0 >"$d/cpus" 2>&1
    printf 'info cpus\ncpu 1\ninfo cpus\ninfo registers\ncpu 9\n' |
        timeout 120 "$HVMON" "$d/ctl.sock" >"$d/mon" 2>&1
    "$HVCTL" -s "$d/ctl.sock" --timeout 60 quit >/dev/null 2>&1
    wait "$run"
    tr -d '\r' <"$d/mon" >"$d/mon.txt"
    if ! grep -q '"cpu-index": 1, "target": "x86_64", "halted": false, "state": "running"' "$d/cpus"; then
        why="query-cpus-fast does not show vCPU 1 running"
    elif ! grep -qx '\* CPU #0: (halted)' "$d/mon.txt" || ! grep -qx '  CPU #1:' "$d/mon.txt"; then
        why="info cpus does not list CPU #0 (current, halted) and CPU #1"
    elif ! grep -qx '\* CPU #1:' "$d/mon.txt" || ! grep -qx 'CPU#1' "$d/mon.txt"; then
        why="after cpu 1, info cpus and info registers are not about CPU #1"
    elif ! grep -q 'invalid CPU index' "$d/mon.txt"; then
        why="cpu 9 is not refused with QEMU's message"
    fi
    if [ -n "$why" ]; then
        fail "$id" "$why"
        show_log "$d/cpus"
        show_log "$d/mon.txt" 30
        show_log "$d/err"
    else
        pass "$id"
    fi
}

# two_domains ID: --domains 2 -smp 2: each domain has its two vCPUs and
# prints what plain QEMU -smp 2 prints; all their memory comes back.
two_domains() {
    local id=$1 d=$W/two
    plain_qemu two 2
    run_logged "$d.out" "$d.err" "$d.st" "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" \
        -m "$MEM" --domains 2 -smp 2 -kernel "$G"
    grep -v '^\[d1\] ' "$d.out" >"$d.d0"
    sed -n 's/^\[d1\] //p' "$d.out" >"$d.d1"
    if [ "$(cat "$d.st")" != 0 ] || ! cmp -s "$d.d0" "$W/two.plain.out" ||
        ! cmp -s "$d.d1" "$W/two.plain.out"; then
        fail "$id" "status $(cat "$d.st"), or a domain's output differs from plain QEMU -smp 2"
        diff "$W/two.plain.out" "$d.d1" | head -10 | sed 's/^/    /'
        show_log "$d.err"
    elif ! grep -qE '^\[hv\] heap: ([0-9]+) KiB free after teardown, \1 KiB before' "$d.err"; then
        fail "$id" "the heap did not get all the domains' memory back"
        show_log "$d.err"
    else
        pass "$id"
    fi
}

# loadvm ID: a snapshot taken before the AP started (1 ms in), loaded once
# the guest waits (5 s in): the AP is back waiting for its STARTUP IPI
# (vmstate's cpu section, version 2), the guest starts it again and ends
# waiting again.  The guest then waits for ever, so the run is ended once
# it says so the second time (or at the timeout): hvrun runs in a process
# group of its own, which takes its emulator with it.
loadvm() {
    local id=$1 d=$W/loadvm order pid
    mkdir -p "$d"
    qemu-img create -q -f qcow2 "$d/disk.qcow2" 16M
    setsid "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" -m "$MEM" \
        -smp 2 -drive "file=$d/disk.qcow2,format=qcow2" --savevm s1@1 --loadvm s1@5000 \
        -kernel "$G" -append wait >"$d/out" 2>"$d/err" </dev/null &
    pid=$!
    wait_for_nth "$d/out" '^smp: waiting for the monitor$' 2 "$TIMEOUT" "$pid"
    kill -- -"$pid" 2>/dev/null
    wait "$pid"
    order=$(grep -oE "^\[hv\] (savevm 's1'|loadvm 's1'|domain 0 vCPU 1: started)" "$d/err" |
        sed 's/^\[hv\] //' | tr '\n' ',')
    if [ "$order" != "savevm 's1',domain 0 vCPU 1: started,loadvm 's1',domain 0 vCPU 1: started," ]; then
        fail "$id" "want savevm, the AP's start, loadvm, its start again; got '$order'"
        show_log "$d/err"
    elif [ "$(grep -c '^smp: CPU 1 (APIC ID 1) is up in 64-bit mode$' "$d/out")" != 2 ] ||
        [ "$(grep -c '^smp: waiting for the monitor$' "$d/out")" != 2 ]; then
        fail "$id" "the guest did not run through twice"
        show_log "$d/out" 30
    elif ! qemu-img check -q "$d/disk.qcow2"; then
        fail "$id" "qemu-img check finds the image damaged"
    else
        pass "$id"
    fi
}

skip_all_if "$(built_missing "$G" "$HV")" smp
# hvrun refuses a count hv would refuse.
run_logged "$W/bad.out" "$W/bad.err" "$W/bad.st" "$TOP/bin/hvrun" -smp 9 -kernel "$G"
if [ "$(cat "$W/bad.st")" = 125 ] && grep -q "bad -smp '9'" "$W/bad.err"; then
    pass "hvrun -smp 9 is a usage error"
else
    fail "hvrun -smp 9 is a usage error" "status $(cat "$W/bad.st"), want 125 with a message"
fi
for n in 1 2 4; do
    run_case "qemu-svm-smp$n" compare "qemu-svm-smp$n" qemu svm "$n"
done
run_case hostile hostile "qemu-svm-hostile"
run_case two two_domains "qemu-svm-two-domains: two domains of two vCPUs each"
run_case loadvm loadvm "qemu-svm-loadvm: a snapshot from before the AP started puts it back waiting"
if [ -x "$HVMON" ] && [ -x "$HVCTL" ]; then
    run_case monitor monitor "qemu-svm-monitor: query-cpus-fast, info cpus and cpu N with two vCPUs"
else
    skip "qemu-svm-monitor" "the monitor is not built ($HVMON; run make)"
fi
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip "bochs-vmx: smp=2 against plain QEMU -smp 2" "$why"
    skip "bochs-svm: smp=2 against plain QEMU -smp 2" "$why"
else
    run_case bochs-vmx-smp2 compare "bochs-vmx-smp2" bochs vmx 2
    run_case bochs-svm-smp2 compare "bochs-svm-smp2" bochs svm 2
fi
finish_cases
