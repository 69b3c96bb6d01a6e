#!/usr/bin/env bash
# grade.sh: the grader of lab 03 (virtio).
#
#   grade.sh SRC OUT
#
# Builds hv, the guestkit guests vblk, vcon and vhostile and the hosted
# unit-test program hv_virtq from the tree SRC (a student's work/ or the
# repository itself) into OUT, and prints one line per exercise, "PASS: N
# name" or "FAIL: N name: why", then the score.  Exit status 0 only when all
# three exercises pass.
#
# The guest driver (exercise 1) is judged on plain QEMU's microvm machine,
# whose virtio-mmio devices are the reference; the device side (exercises
# 2 and 3) under the student's hv with bin/hvrun --hv, with the student's
# driver, once that works on QEMU.  The disks are real qcow2 and raw files
# in OUT/disks, and the one hv wrote must hold what the one QEMU wrote.
# The environment it reads (GRADE_MAX_EXITS, GRADE_TIMEOUT, GRADE_JOBS) and
# the helpers are in labs/tools/grade-lib.bash.
set -uo pipefail

LAB=03
NAMES=(queue-setup desc-chain used-ring)
. "$(dirname "$0")/../tools/grade-lib.bash"

for tool in qemu-system-x86_64 qemu-img; do
    if ! command -v "$tool" >/dev/null; then
        echo "lab 03: $tool is not installed (Debian: apt-get install qemu-system-x86 qemu-utils)" >&2
        exit 2
    fi
done

# 1. Build.
grade_build_hv
grade_build_guests vblk vcon vhostile
grade_build_units hv_virtq

disks=$out/disks
mkdir -p "$disks"
rm -f "$disks"/*
# vblk's disk: 2048 sectors (1 MiB), which it fills with its pattern.
SECTORS=2048

# plain ID NAME APPEND [QEMU OPTION...]: guest NAME on plain QEMU's microvm
# machine (the reference) through bin/qemu-guest, which gives the same exit
# statuses as bin/hvrun; the guest's console in logs/ID.out.
plain() {
    local id=$1 name=$2 append=$3
    shift 3
    "$TOP/bin/qemu-guest" --timeout "$timeout" -kernel "$out/guestkit/$name.elf" \
        -append "$append" "$@" >"$logs/$id.out" 2>"$logs/$id.err"
    status[$id]=$?
}

# plain_vcon: vcon on plain QEMU with QEMU's virtio-console; the text it
# sends through the device lands in logs/q-vcon.text.  bin/qemu-guest has
# disks only, so QEMU is called as tests/integration/virtio-qemu.sh does:
# microvm's last transport (0xfeb02e00, GSI 47) is the one the device gets.
plain_vcon() {
    : >"$logs/q-vcon.text"
    timeout "$timeout" qemu-system-x86_64 -M microvm -global virtio-mmio.force-legacy=false \
        -accel tcg -cpu max -m 128 -nodefaults -display none -no-reboot -serial stdio \
        -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$out/guestkit/vcon.elf" \
        -append "wait=ioapic virtio_mmio.device=512@0xfeb02e00:47" \
        -device virtio-serial-device -device virtconsole,chardev=vcon \
        -chardev "file,id=vcon,path=$logs/q-vcon.text" >"$logs/q-vcon.out" 2>"$logs/q-vcon.err"
    # QEMU's status is (N << 1) | 1 for the guest's exit code N; 124 is
    # timeout's; anything else is the machine's end without an exit code
    # (127, as bin/qemu-guest says).
    local st=$?
    if [ "$st" = 124 ]; then
        status[q-vcon]=124
    elif ((st & 1)); then
        status[q-vcon]=$((st >> 1))
    else
        status[q-vcon]=127
    fi
}

# The text vcon sends (guestkit/tests/vcon.c), with its long line of 300
# bytes: a prefix, the alphabet over and over, a newline.
vcon_text() {
    echo "vcon: written with virtio_console_write"
    for i in 1 2 3; do echo "vcon: printf line $i of 3"; done
    local abc=abcdefghijklmnopqrstuvwxyz line='vcon: long line ' i
    for ((i = 0; i < 283; i++)); do line+=${abc:i%26:1}; done
    echo "$line"
}

# all_pass ID: the guest ended with 0, and its verdicts are all PASS (or
# SKIP) with a SUMMARY of 0 failures.
all_pass() {
    ended "$1" && ! grep -q '^FAIL: ' "$logs/$1.out" &&
        grep -q -E '^SUMMARY: [0-9]+ tests, 0 unexpected failures' "$logs/$1.out"
}

# first_fail ID: the guest's first FAIL line and the line under it (the
# driver's reason), or its last line when it has no FAIL line.
first_fail() {
    local f
    local f info
    f=$(grep -m1 '^FAIL: ' "$logs/$1.out")
    if [ -z "$f" ]; then
        echo "its last line: $(tail -n 1 "$logs/$1.out")"
        return
    fi
    # The guest's own explanation, if any, is indented under the verdict.
    info=$(grep -m1 -A1 '^FAIL: ' "$logs/$1.out" | sed -n '2s/^    //p')
    echo "\"$f\"${info:+ ($info)}"
}

# stuck_budget ID: hv ended the guest when it had used up its exit budget
# (a guest waiting for the device polls a register: every look is an exit).
stuck_budget() {
    grep -q '^\[hv\] exit: guest crashed (exit budget spent' "$logs/$1.err"
}

# refused ID: hv's line for a ring it refused while running guest ID.
refused() {
    grep -m1 -E '^\[hv\] .*device needs reset' "$logs/$1.err"
}

# 2. The driver on plain QEMU (exercise 1); then, once it works, the
# device side under the student's hv.
driver_ok=0 ran_hv=0 done_poll=0
if [ "$built" = 1 ]; then
    qemu-img create -q -f qcow2 "$disks/qemu.qcow2" 1M
    plain q-vblk vblk "sectors=$SECTORS wait=ioapic" -drive "file=$disks/qemu.qcow2,format=qcow2"
    plain_vcon
    vcon_text >"$logs/vcon.expected"
    all_pass q-vblk && all_pass q-vcon && cmp -s "$logs/q-vcon.text" "$logs/vcon.expected" &&
        driver_ok=1
fi
if [ "$driver_ok" = 1 ]; then
    ran_hv=1
    # vblk polling: every request goes through the chain walk and the used
    # ring, none through the interrupt decision.
    qemu-img create -q -f qcow2 "$disks/hv-poll.qcow2" 1M
    run_guest h-vblk vblk "sectors=$SECTORS" -drive "file=$disks/hv-poll.qcow2,format=qcow2,if=virtio"
    if all_pass h-vblk; then
        done_poll=1
        # Then with interrupts (the event-index rule decides each one), the
        # console with interrupts, and the hostile driver.
        qemu-img create -q -f qcow2 "$disks/hv-irq.qcow2" 1M
        run_guest h-vblk-irq vblk "sectors=$SECTORS wait=ioapic" \
            -drive "file=$disks/hv-irq.qcow2,format=qcow2,if=virtio"
        run_guest h-vcon vcon "wait=ioapic" -device virtio-serial-device
        qemu-img create -q -f raw "$disks/hv-hostile.raw" 1M
        run_guest h-vhostile vhostile - -drive "file=$disks/hv-hostile.raw,format=raw"
    fi
fi

# 3. The exercises.
# Exercise 1, queue-setup: the student's driver against QEMU's own devices:
# vblk (one queue, interrupts through the I/O APIC) and vcon (the console's
# two queues: transmit is queue 1, so QueueSel must be right).
if [ "$built" = 1 ]; then
    for g in vblk vcon; do
        if [ "${status[q-$g]}" = 124 ]; then
            fail queue-setup "$g on plain QEMU did not finish in ${timeout}s (its last line: $(tail -n 1 "$logs/q-$g.out")): does QEMU get the size, every address, and QueueReady last? (see $logs/q-$g.out)"
        elif ! all_pass "q-$g"; then
            fail queue-setup "$g on plain QEMU (the reference device) failed with status ${status[q-$g]}: $(first_fail "q-$g") (see $logs/q-$g.out)"
        fi
    done
    if all_pass q-vcon && ! cmp -s "$logs/q-vcon.text" "$logs/vcon.expected"; then
        fail queue-setup "vcon's text did not arrive through QEMU's virtio-console as sent: $(cmp "$logs/q-vcon.text" "$logs/vcon.expected" 2>&1 | head -n 1) (see $logs/q-vcon.text)"
    fi
fi
not_run="the guests were not run under your hv: the driver does not work on plain QEMU yet (exercise 1)"

# Exercise 2, desc-chain: the walk alone (unit tests), then vblk under the
# student's hv: no chain refused, its data where QEMU put it; vhostile's
# broken chains refused.
for t in chain_follows_next chain_through_indirect_table chain_as_long_as_the_table chain_refusals; do
    unit hv_virtq chain "$t" || fail desc-chain "unit test $t fails (see $logs/unit-$t.log)"
done
if [ "$built" = 1 ] && [ "$ran_hv" = 0 ]; then
    fail desc-chain "$not_run"
elif [ "$ran_hv" = 1 ]; then
    if line=$(refused h-vblk); then
        fail desc-chain "hv refused a chain vblk made: \"$line\" (see $logs/h-vblk.err)"
    elif [ "${status[h-vblk]}" = 124 ] && ! stuck_budget h-vblk; then
        fail desc-chain "vblk under your hv was stopped after ${timeout}s with no exit: hv stopped running it (a chain walk that never ends?) (see $logs/h-vblk.out)"
    elif ! stuck h-vblk && ! all_pass h-vblk; then
        fail desc-chain "vblk under your hv: $(first_fail h-vblk) (see $logs/h-vblk.out)"
    elif [ "$done_poll" = 1 ] && ! qemu-img compare -q "$disks/qemu.qcow2" "$disks/hv-poll.qcow2" 2>/dev/null; then
        fail desc-chain "the disk vblk wrote under your hv differs from the one it wrote on plain QEMU: qemu-img compare $disks/qemu.qcow2 $disks/hv-poll.qcow2"
    fi
    if [ "$done_poll" = 1 ]; then
        for c in loop next mmio wrap; do
            has h-vhostile "$c: the device needs a reset and says so" ||
                fail desc-chain "vhostile's \"$c\" chain was not refused with NEEDS_RESET (see $logs/h-vhostile.out and .err)"
        done
        ended h-vhostile || fail desc-chain "vhostile ended with status ${status[h-vhostile]} instead of 0 (see $logs/h-vhostile.out)"
    fi
fi

# Exercise 3, used-ring: the used ring and the interrupt rule alone (unit
# tests), then the guests: vblk polling the used ring, vblk and vcon
# waiting for interrupts.
for t in used_element_then_idx used_idx_wraps interrupt_without_event_idx interrupt_event_idx_rule \
    avail_event_after_pop; do
    unit hv_virtq used "$t" || fail used-ring "unit test $t fails (see $logs/unit-$t.log)"
done
if [ "$built" = 1 ] && [ "$ran_hv" = 0 ]; then
    fail used-ring "$not_run"
elif [ "$ran_hv" = 1 ]; then
    if refused h-vblk >/dev/null; then
        fail used-ring "not tried in the guests: hv refused vblk's chains (exercise 2)"
    elif stuck_budget h-vblk; then
        fail used-ring "vblk under your hv waited for a request that never came back on the used ring ($(stuck_why h-vblk); its last line: $(tail -n 1 "$logs/h-vblk.out")): does hv fill the used ring and its idx, and ask for the next notification in avail_event? (see $logs/h-vblk.out)"
    elif [ "$done_poll" = 0 ]; then
        fail used-ring "not tried in the guests: vblk failed under your hv (exercise 2)"
    else
        if stuck h-vblk-irq; then
            fail used-ring "vblk with wait=ioapic waited for an interrupt that never came ($(stuck_why h-vblk-irq); its last line: $(tail -n 1 "$logs/h-vblk-irq.out")): when does the driver want one? (see $logs/h-vblk-irq.out)"
        elif ! all_pass h-vblk-irq; then
            fail used-ring "vblk with wait=ioapic under your hv: $(first_fail h-vblk-irq) (see $logs/h-vblk-irq.out)"
        fi
        if ! all_pass h-vcon; then
            fail used-ring "vcon with wait=ioapic under your hv: $(first_fail h-vcon) (status ${status[h-vcon]}; see $logs/h-vcon.out)"
        elif ! grep -v -E '^(PASS|FAIL|SKIP|SUMMARY|    )' "$logs/h-vcon.out" | head -n 4 |
            cmp -s - <(head -n 4 "$logs/vcon.expected") ||
            [ "$(grep -A1 '^vcon: long line' "$logs/h-vcon.out" | tr -d '\n')" != "$(tail -n 1 "$logs/vcon.expected")" ]; then
            fail used-ring "vcon's lines did not all arrive through your hv's virtio-console (see $logs/h-vcon.out)"
        fi
    fi
fi

# 4. The verdict.
grade_verdict
