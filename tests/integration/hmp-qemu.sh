#!/usr/bin/env bash
# hvkit's QEMU monitor against QEMU's own.  The pattern guest
# (guestkit/tests/pattern.c: a known page and a counter) runs on plain QEMU
# with `-monitor stdio` and under hv with hvkit's monitor (build/mgmt/hvmon
# on the manager's socket); both monitors get the same command lines, and
# the outputs that have twins must be the same text: help lines, error
# messages for unknown commands and bad arguments, `info status` through
# stop and cont, x/xp in every format on the pattern, print, memory outside
# RAM; with a qcow2 disk on each machine, `info snapshots` before and after
# savevm (QEMU's table, its size, date and clock columns compared by form),
# eject, change, commit and the balloon.  Then the pause proof on both machines (`stop`, `xp` of the counter
# twice gives one value, `cont` moves it), `info registers` in QEMU's
# layout, a dump-guest-memory core of all 128 MiB that gdb reads,
# pmemsave and memsave byte for byte as QEMU's (and their errors), and the
# two other ways in: `bin/hvrun -monitor stdio` and `-monitor
# unix:PATH,server,nowait`.  QEMU+SVM; the pause proof and the bulk path
# also on Bochs+VMX.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/hmp.bash"

G=$BUILD/guestkit/pattern.elf
HMP_READY='^pattern: counting'

# The commands both monitors get, in order.  PAGE and COUNTER stand for the
# addresses the guest prints (the same ELF file on both machines: the same
# addresses, which the test checks); the monitors read "PAGE+0xf0" as the
# expression it is.  The x and xp lines in the middle are lab 05's
# (labs/05-domains-and-the-monitor/dumps.cmds).
{
    cat <<'CMDS'
help x
help info status
help cont
foo
info foo
x
x /4q 0x1000
x /s PAGE+0x100
stop junk
info status junk
p 1 2
p $foo
p 1/0
cpu 1
pmemsave 0 10 /tmp/f
info status
CMDS
    grep -v '^#' "$TOP/labs/05-domains-and-the-monitor/dumps.cmds"
    cat <<'CMDS'
xp /2xg 0x10000000
p 1+2*3
p /x 255
p /o 8
p /c 65
info kvm
balloon 64
info balloon
info mem
info tlb
stop
info status
xp /1gx COUNTER
sleep 1
xp /1gx COUNTER
cont
sleep 1
xp /1gx COUNTER
info status
info registers
help
CMDS
} >"$W/cmds"

# The pause proof alone, for the other ways in.
printf '%s\n' stop 'info status' 'xp /1gx COUNTER' 'sleep 1' 'xp /1gx COUNTER' cont 'sleep 1' \
    'xp /1gx COUNTER' 'info status' >"$W/pause"

# cmd_index LINE: the number of the command LINE in cmds (from 1, "sleep"
# lines not counted), which is the number of its output block.
cmd_index() {
    grep -v '^sleep ' "$W/cmds" | grep -nxF -m1 -- "$1" | cut -d: -f1
}
# The commands whose output must be the same text on both machines: every
# one up to the `info status` after `stop`.
SAME_UPTO=$(($(cmd_index stop) + 1))

# prefixes FILE: the register names of an `info registers` block, in order
# ("RAX", "RBX", ..., "EFER"), without QEMU's FPU and SSE lines and the
# segments' DPL (hv's protocol has no segment attributes yet).
prefixes() {
    grep -oE '(^| )[A-Z][A-Z0-9 ]{1,3}=' "$1" | tr -d ' =' | grep -vE '^(DPL|FCW|FSW|FTW|MXCSR|FPR[0-7]|XMM[0-9]+)$'
}

# pause_proof ID TRANSCRIPT FIRST: `stop` ... `info status` at command
# FIRST, as in cmds: paused, the counter twice the same, then it moves
# after `cont` and the machine runs.
pause_proof() {
    local id=$1 t=$2 f=$3 a b c
    a=$(block "$t" $((f + 2))) b=$(block "$t" $((f + 3))) c=$(block "$t" $((f + 5)))
    if [ "$(block "$t" "$f")" != "" ] || [ "$(block "$t" $((f + 1)))" != "VM status: paused" ]; then
        fail "$id" "after stop: want no output, then 'VM status: paused'"
        show_log "$t" 60
    elif [[ $a != [0-9a-f]*:\ 0x* ]] || [ "$a" != "$b" ]; then
        fail "$id" "stopped, two reads of the counter must agree: '$a' then '$b'"
    elif [ "$c" = "$b" ] || [ "$(block "$t" $((f + 6)))" != "VM status: running" ]; then
        fail "$id" "after cont the counter must move and the machine run: '$b' then '$c'"
    else
        pass "$id"
    fi
}

# pause_seq ID FILE: the same proof for a transcript with console lines in
# it: its "VM status" lines and counter reads, in order, must be: paused,
# the same value twice, another value, running.
pause_seq() {
    local id=$1 seq
    mapfile -t seq < <(grep -E '^(VM status: |[0-9a-f]{16}: 0x)' "$2")
    if [ "${#seq[@]}" -ne 5 ] || [ "${seq[0]}" != "VM status: paused" ] ||
        [ "${seq[4]}" != "VM status: running" ] || [[ ${seq[1]} != [0-9a-f]*:\ 0x* ]] ||
        [ "${seq[1]}" != "${seq[2]}" ] || [ "${seq[3]}" = "${seq[2]}" ]; then
        fail "$id" "want paused, one counter value twice, another value, running; got: ${seq[*]}"
        show_log "$2" 30
    else
        pass "$id"
    fi
}

main_qemu_svm() {
    qemu_session "$W/cmds" "$W/qemu.out"
    hv_session "$W/cmds" "$W/hv.out"
    if ! grep -q '^pattern: counting' "$W/hv.out.console" ||
        ! cmp -s "$W/qemu.out.console" "$W/hv.out.console"; then
        fail "pattern guest" "the guest must print the same addresses on both machines"
        show_log "$W/qemu.out.console"
        show_log "$W/hv.out.console"
        show_log "$W/hv.out.err"
        return
    fi
    compare_same "$W/qemu.out" "$W/hv.out"
    local stop regs help
    stop=$(cmd_index stop) regs=$(cmd_index "info registers") help=$(cmd_index help)
    pause_proof "pause proof on plain QEMU" "$W/qemu.out" "$stop"
    pause_proof "pause proof under hv (QEMU+SVM)" "$W/hv.out" "$stop"
    if [ "$(prefixes <(block "$W/qemu.out" "$regs"))" = "$(prefixes <(block "$W/hv.out" "$regs"))" ] &&
        block "$W/hv.out" "$regs" | grep -qE '^RIP=0000000000[0-9a-f]{6} RFL=[0-9a-f]{8} \['; then
        pass "info registers: QEMU's layout, without its FPU lines"
    else
        fail "info registers" "the register names must follow QEMU's order"
        diff <(prefixes <(block "$W/qemu.out" "$regs")) <(prefixes <(block "$W/hv.out" "$regs")) | head
    fi
    local missing
    missing=$(block "$W/hv.out" "$help" | grep -vxF -f <(block "$W/qemu.out" "$help"))
    if [ -z "$missing" ] && [ "$(block "$W/hv.out" "$help" | wc -l)" -ge 30 ]; then
        pass "help: every line is one of QEMU's"
    else
        fail "help" "lines QEMU's help does not have: $missing"
    fi
    quit_ended "quit ends hv" "$W/hv.out.err" "$W/hv.out.status"
}

# quit_ended ID ERR STATUS: hv logged the monitor's quit and hvrun ended
# with status 0, as QEMU does after quit.
quit_ended() {
    if grep -qx '\[hv\] ctl: quit' "$2" && [ "$(cat "$3")" = 0 ]; then
        pass "$1"
    else
        fail "$1" "hv did not end on quit (hvrun's status $(cat "$3"))"
        show_log "$2"
    fi
}

# A core of all 128 MiB of guest RAM from dump-guest-memory, by the bulk
# path (the staging disk), read back by gdb: the pattern's bytes at their
# address and the vCPU's RIP from the NT_PRSTATUS note.  The time it took
# is shown, not judged (docs/monitor.md "Memory in bulk" quotes it).
dump_case() {
    local id="dump-guest-memory: a 128 MiB core that gdb reads" t=$W/dump
    if ! command -v gdb >/dev/null; then
        skip "$id" "gdb is not installed (mk/deps.sh group test installs it)"
        return
    fi
    printf 'stop\ninfo registers\ndump-guest-memory core.elf\n' >"$t.cmds"
    mkdir -p "$t.d"
    (cd "$t.d" && hv_session "$t.cmds" "$t.out")
    local rip gdbout page took
    page=$(sed -n 's/^pattern: page at //p' "$t.out.console")
    rip=$(block "$t.out" 2 | sed -nE 's/^RIP=([0-9a-f]+) .*/\1/p')
    gdbout=$(gdb -q -batch -ex "x/4xb $page" -ex "x/s $page+0x100" -ex 'p/x $rip' \
        -core "$t.d/core.elf" 2>&1)
    took=$(grep -c '^\[hv\] pmemsave: ' "$t.out.err")
    echo "    (the core: $(stat -c %s "$t.d/core.elf" 2>/dev/null) bytes, $took pmemsave requests;" \
        "hv's times: $(sed -n 's/^\[hv\] pmemsave: .* in \([0-9]*\) ms$/\1/p' "$t.out.err" |
            awk '{ s += $1 } END { print s / 1000 }') s)"
    if [ -n "$(block "$t.out" 3)" ] || [ ! -s "$t.d/core.elf" ]; then
        fail "$id" "dump-guest-memory printed '$(block "$t.out" 3)'"
    elif [ "$(readelf -l "$t.d/core.elf" | grep -A1 LOAD | tr -s ' ' | tail -1)" != \
        " 0x0000000008000000 0x0000000008000000 0x0" ]; then
        fail "$id" "the core's PT_LOAD must hold all 128 MiB"
        readelf -l "$t.d/core.elf" | sed 's/^/    /'
    elif ! grep -qE "^$page:\s+0x00\s+0x01\s+0x02\s+0x03$" <<<"$gdbout" ||
        ! grep -q '"hvkit pattern"' <<<"$gdbout" || ! grep -qx "\$1 = 0x${rip#"${rip%%[!0]*}"}" <<<"$gdbout"; then
        fail "$id" "gdb must read the pattern and RIP $rip from the core"
        sed 's/^/    /' <<<"$gdbout"
    elif [ "$(ls -A "$t.d")" != core.elf ]; then
        fail "$id" "the dump left files behind: $(ls -A "$t.d" | tr '\n' ' ')"
    else
        pass "$id"
    fi
    rm -f "$t.d/core.elf"
}

# pmemsave and memsave on both machines, each in a directory of its own:
# the pattern page by physical and by virtual address, and memory far
# beyond RAM, which QEMU's pmemsave reads as zeros, must be the same
# bytes; memsave of pages that are not mapped, or map beyond RAM, and a
# file in a missing directory get the same messages.  Under hv a failed
# save leaves no file (QEMU leaves an empty one), and nothing else is left.
memsave_case() {
    local t=$W/msave f
    printf '%s\n' 'pmemsave PAGE 4096 page.bin' 'memsave PAGE 4096 vpage.bin' \
        'pmemsave 0x10000000000 16 far.bin' 'memsave 0x7fffff8 16 bad.bin' \
        'memsave 0x10000000000 16 bad2.bin' 'pmemsave 0 16 nodir/x' >"$t.cmds"
    mkdir -p "$t.q.d" "$t.h.d"
    (cd "$t.q.d" && qemu_session "$t.cmds" "$t.q")
    (cd "$t.h.d" && hv_session "$t.cmds" "$t.h")
    compare_same "$t.q" "$t.h" "$t.cmds" 1000 "same output as QEMU"
    for f in page.bin vpage.bin far.bin; do
        if [ -s "$t.q.d/$f" ] && cmp -s "$t.q.d/$f" "$t.h.d/$f"; then
            pass "pmemsave/memsave: $f byte for byte as QEMU's"
        else
            fail "pmemsave/memsave: $f" "hv's file differs from QEMU's"
            cmp "$t.q.d/$f" "$t.h.d/$f" 2>&1 | sed 's/^/    /'
        fi
    done
    if [ "$(ls -A "$t.h.d" | tr '\n' ' ')" = "far.bin page.bin vpage.bin " ]; then
        pass "memsave: a failed save leaves no file under hv"
    else
        fail "memsave: failed saves" "hv's directory holds: $(ls -A "$t.h.d" | tr '\n' ' ')"
    fi
}

# The pause proof through `bin/hvrun -monitor stdio`: the monitor on hvrun's
# own stdin and stdout, among the guest's console lines.
stdio_case() {
    local id="hvrun -monitor stdio: pause proof" t=$W/stdio
    mkfifo "$t.in"
    "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" -m 128M -monitor stdio -kernel "$G" \
        <"$t.in" >"$t.raw" 2>"$t.err" &
    local pid=$!
    exec {fd}>"$t.in"
    if wait_for "$t.raw" '^pattern: counting' "$TIMEOUT" && wait_for "$t.raw" '(qemu) ' 30; then
        feed "$fd" <(expand "$t.raw" "$W/pause" && echo quit) "$t.raw"
    fi
    exec {fd}>&-
    wait "$pid"
    echo $? >"$t.status"
    pause_seq "$id" "$t.raw"
    quit_ended "hvrun -monitor stdio: quit ends hv" "$t.err" "$t.status"
}

# The pause proof through `-monitor unix:PATH,server,nowait`, with socat as
# the client, as people reach QEMU's monitor socket.
unix_case() {
    local id="hvrun -monitor unix:PATH,server,nowait: pause proof" t=$W/unix
    if ! command -v socat >/dev/null; then
        skip "$id" "socat is not installed (mk/deps.sh group test installs it)"
        return
    fi
    "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" -m 128M \
        -monitor "unix:$t.sock,server,nowait" -kernel "$G" >"$t.console" 2>"$t.err" &
    local pid=$!
    if wait_for "$t.console" '^pattern: counting' "$TIMEOUT"; then
        local i=0
        while [ ! -S "$t.sock" ] && [ $((i++)) -lt 300 ]; do sleep 0.1; done
        feed 1 <(expand "$t.console" "$W/pause" && echo quit) "$t.raw" |
            socat - "UNIX-CONNECT:$t.sock" >"$t.raw"
    fi
    wait "$pid"
    echo $? >"$t.status"
    # The monitor does not echo to a socket client: each answer follows
    # its prompt on the same line.
    sed -E 's/\(qemu\) /\n/g' "$t.raw" >"$t.out"
    pause_seq "$id" "$t.out"
    quit_ended "hvrun -monitor unix: quit ends hv" "$t.err" "$t.status"
}

# The disk commands on both machines, each with a qcow2 disk of its own:
# `info snapshots` with none, after savevm and after delvm; eject and
# change of a virtio disk (not removable); commit of a disk without a
# backing file; the balloon of a machine without one.  Every output must
# be the same text, but for the snapshot table's size, date and clock
# columns, whose form is checked instead.
disk_case() {
    local t=$W/disk
    printf '%s\n' 'info snapshots' 'savevm s1' 'info snapshots' 'delvm s1' 'info snapshots' \
        'eject virtio0' 'eject -f virtio0' 'change virtio0 missing.img' "change virtio0 $t.o.qcow2" \
        'commit virtio0' \
        'commit all' 'commit foo' 'balloon 64' 'info balloon' >"$t.cmds"
    qemu-img create -q -f qcow2 "$t.q.qcow2" 16M
    qemu-img create -q -f qcow2 "$t.h.qcow2" 16M
    qemu-img create -q -f qcow2 "$t.o.qcow2" 1M
    MEM=32 QEMU_EXTRA=(-drive "file=$t.q.qcow2,if=virtio") HV_EXTRA=(-drive "file=$t.h.qcow2,format=qcow2")
    qemu_session "$t.cmds" "$t.q"
    hv_session "$t.cmds" "$t.h"
    MEM=128 QEMU_EXTRA=() HV_EXTRA=()
    if [ "$(block "$t.q" 1)" != "There is no snapshot available." ]; then
        fail "disk commands" "QEMU's session did not run"
        show_log "$t.q"
        return
    fi
    compare_same "$t.q" "$t.h" "$t.cmds" 1000 "same output as QEMU with a qcow2 disk"
}

# The pause proof under hv on Bochs with VT-x, through hvmon.
# Then the bulk path once on VT-x: the pattern page by physical and by
# virtual address (the same bytes as QEMU's pmemsave in memsave_case) and
# a core of it that gdb reads.
bochs_case() {
    local id="pause proof under hv (Bochs+VMX)" t=$W/bochs page
    { cat "$W/pause" && printf '%s\n' 'pmemsave PAGE 4096 page.bin' 'memsave PAGE 4096 vpage.bin' \
        'dump-guest-memory core.elf PAGE 0x1000'; } >"$t.cmds"
    mkdir -p "$t.d"
    (cd "$t.d" && hv_session "$t.cmds" "$t.out" bochs vmx)
    pause_seq "$id" "$t.out"
    quit_ended "quit ends hv (Bochs+VMX)" "$t.out.err" "$t.out.status"
    id="pmemsave, memsave, dump-guest-memory under hv (Bochs+VMX)"
    page=$(sed -n 's/^pattern: page at //p' "$t.out.console")
    if ! cmp -s "$t.d/page.bin" "$W/msave.q.d/page.bin" || ! cmp -s "$t.d/vpage.bin" "$t.d/page.bin"; then
        fail "$id" "the page must be QEMU's pmemsave's bytes"
        show_log "$t.out" 30
    elif command -v gdb >/dev/null &&
        ! gdb -q -batch -ex "x/s $page+0x100" -core "$t.d/core.elf" 2>&1 | grep -q '"hvkit pattern"'; then
        fail "$id" "gdb must read the pattern from the core"
    else
        pass "$id"
    fi
}

if [ ! -x "$HVMON" ] || [ ! -f "$G" ]; then
    fail "hmp-qemu" "build first: $HVMON and $G must exist (make)"
    exit 1
fi
main_qemu_svm
disk_case
dump_case
memsave_case
stdio_case
unix_case
bochs_case
