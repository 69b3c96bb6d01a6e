#!/usr/bin/env bash
# grade.sh: the grader of lab 05 (domains and the monitor), its code part.
#
#   grade.sh SRC OUT
#
# Builds hv, the guestkit guests hello, counter and pattern, the monitor
# (mgmt: hvmon and its manager) and the hosted unit-test programs
# hv_sched, hv_vmstate and mgmt_hmp from the tree SRC (a student's work/ or
# the repository itself) into OUT, and prints one line per exercise, "PASS:
# N name" or "FAIL: N name: why", then the score.  Exit status 0 only when
# all three exercises pass.  (The monitor tasks on a running guest are
# graded by tasks.sh: README.md "Tasks".)
#
# Exercise 1 (the scheduler's pick) is judged by the unit tests of
# sched_pick and by two domains under the student's hv: the counter guest
# in domain 0, which keeps the CPU busy for half a second and never halts,
# and hello in domain 1, which must get its turns and finish before the
# counter does.  Exercise 2 (the PIT's vmstate) is judged by the unit tests
# of the vmstate and by a snapshot round trip: the counter guest takes a
# savevm into a qcow2 disk while it counts, and a new run of another guest
# loads it (as QEMU's loadvm, the snapshot replaces everything): the
# counter must count on from the saved count to its end, which it can only
# do if the 8254's channel 0 came back as it was.  Exercise 3 (x and xp's
# output) is judged by the monitor's unit tests and by real QEMU: the
# pattern guest on plain QEMU with QEMU's monitor, and under the student's
# hv with the student's monitor, get the same x and xp commands and must
# print the same lines.
# The environment it reads (GRADE_MAX_EXITS, GRADE_TIMEOUT, GRADE_JOBS)
# and the helpers are in labs/tools/grade-lib.bash.
set -uo pipefail

LAB=05
NAMES=(sched-pick pit-state memory-dump)
. "$(dirname "$0")/../tools/grade-lib.bash"

for p in qemu-system-x86_64 qemu-img; do
    command -v "$p" >/dev/null || {
        echo "lab 05: $p is not installed (Debian: apt-get install qemu-system-x86 qemu-utils)" >&2
        exit 2
    }
done

# 1. Build.
grade_build_hv
grade_build_guests hello counter pattern
grade_build_units hv_sched hv_vmstate mgmt_hmp
# The monitor and its manager, from the student's mgmt/ (hvrun's -monitor
# runs them from BUILD).
mon_built=1
if ! make -j"$jobs" -C "$src/mgmt" BUILD="$out" "$out/mgmt/hvmon" "$out/mgmt/hvmgr" \
    >"$logs/build-mgmt.log" 2>&1; then
    mon_built=0
    echo "lab 05: the monitor does not build (log $logs/build-mgmt.log)" >&2
    grep -E ': (fatal )?error:|undefined reference' "$logs/build-mgmt.log" | head -n 10 | sed 's/^/    /' >&2
    fail memory-dump "the monitor does not build (see $logs/build-mgmt.log)"
fi

# run_ordered ID NAME APPEND [HVRUN OPTION...]: run_guest with the guest's
# console and hv's lines in one file, logs/ID.out, in the order printed (a
# count after hv's "savevm" line is one the guest printed after it); hv's
# lines also in logs/ID.err, for stuck().
run_ordered() {
    local id=$1 name=$2 append=$3
    shift 3
    "$TOP/bin/hvrun" --hv "$out/hv/hv.elf" --timeout "$timeout" --max-exits "$max_exits" "$@" \
        -kernel "$out/guestkit/$name.elf" -append "$append" >"$logs/$id.out" 2>&1 </dev/null
    status[$id]=$?
    grep '^\[hv\] ' "$logs/$id.out" >"$logs/$id.err"
}

# first_count_after ID REGEX: the first "count N" the guest printed after
# hv's line matching REGEX.
first_count_after() {
    awk -v p="$2" 'f && /^count [0-9]+$/ { print $2; exit } $0 ~ p { f = 1 }' "$logs/$1.out"
}

# counts_from ID FROM LIMIT: after hv's loadvm line the counts go FROM,
# FROM+1, ... to LIMIT without a gap.
counts_from() {
    awk -v n="$2" -v limit="$3" '
        /^\[hv\] loadvm / { f = 1; next }
        f && /^count [0-9]+$/ { if ($2 != n) bad = 1; n++ }
        END { exit !(f && !bad && n == limit + 1) }' "$logs/$1.out"
}

# dumps ID: the lines of x and xp's output in the monitor session
# logs/ID.out (terminal escapes, CRs and prompts taken away).
dumps() {
    tr -d '\r' <"$logs/$1.out" | sed -E 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/^(\(qemu\) )+//' |
        grep -E '^[0-9a-f]{16}:'
}

# wait_line FILE REGEX: until FILE has a line matching REGEX (at most the
# grader's time limit); false if it never came.
wait_line() {
    local i
    for ((i = 0; i < timeout * 10; i++)); do
        grep -q -E "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# monitor_session ID CONSOLE COMMAND...: COMMAND runs the pattern guest
# with a monitor on its standard input, which is a FIFO; once CONSOLE (a
# file COMMAND writes) says the guest counts, the monitor gets the x and
# xp commands (PAGE: the address the guest printed), then quit.  Its
# output in logs/ID.out.
monitor_session() {
    local id=$1 console=$2 fifo=$logs/$1.fifo page fd
    shift 2
    rm -f "$fifo"
    mkfifo "$fifo"
    "$@" <"$fifo" >"$logs/$id.out" 2>"$logs/$id.err" &
    local pid=$!
    exec {fd}>"$fifo"
    if wait_line "$console" 'pattern: counting$'; then
        page=$(sed -n 's/.*pattern: page at \(0x[0-9a-f]*\)$/\1/p' "$console" | head -n 1)
        sed "s/PAGE/$page/g" "$logs/dump.cmds" >&"$fd"
    fi
    echo quit >&"$fd"
    exec {fd}>&-
    wait "$pid"
    status[$id]=$?
    rm -f "$fifo"
}

# x and xp as both monitors get them (dumps.cmds, which
# tests/integration/hmp-qemu.sh gives them too): every format and size,
# lines that wrap, and a read that ends outside RAM.
grep -v '^#' "$TOP/labs/05-domains-and-the-monitor/dumps.cmds" >"$logs/dump.cmds"

# run_domains: the counter in domain 0 (25 counts, half a second of
# polling the PIT, never halting) and hello in domain 1, under the
# student's hv.  hello runs only if the scheduler takes turns.  Once the
# counter has printed its last count without hello having finished, the
# verdict is known: a scheduler that never leaves domain 0 would keep the
# machine up until the time limit, so the run is ended there (its
# emulator with it: hvrun runs in a process group of its own), and
# starved=1 says so.
starved=0
run_domains() {
    local pid
    setsid "$TOP/bin/hvrun" --hv "$out/hv/hv.elf" --timeout "$timeout" --max-exits "$max_exits" \
        --domain "$out/guestkit/hello.elf" -kernel "$out/guestkit/counter.elf" -append 25 \
        >"$logs/domains.out" 2>"$logs/domains.err" </dev/null &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if grep -q '^count 25$' "$logs/domains.out" &&
            ! grep -q '^\[d1\] SUMMARY: ' "$logs/domains.out"; then
            starved=1
            kill -- -"$pid" 2>/dev/null
            break
        fi
        sleep 0.1
    done
    wait "$pid"
    status[domains]=$?
}

# 2. The guests under the student's hv.
LIMIT=40
if [ "$built" = 1 ]; then
    run_domains
    # The snapshot round trip: savevm after 300 ms of counting (about 15
    # counts of 20 ms), then a new run that loads it into a guest that never
    # programs the PIT (pattern, which counts in RAM): only the snapshot
    # can bring back the channel 0 the counter waits for: the counter
    # programs it once, before its first count, and never again, so a
    # snapshot taken at any later point is decisive.  (A new run of
    # the counter itself would hide a PIT left out of the state: it
    # programs channel 0 the same way before the snapshot is loaded.)
    disk=$out/counter.qcow2
    rm -f "$disk"
    if ! qemu-img create -q -f qcow2 "$disk" 16M 2>"$logs/qemu-img.log"; then
        fail pit-state "qemu-img could not make the disk (see $logs/qemu-img.log)"
    else
        run_ordered savevm counter "$LIMIT" -drive "file=$disk,format=qcow2" --savevm s1@300
        run_ordered loadvm pattern - -drive "file=$disk,format=qcow2" --loadvm s1@200
    fi
    # x and xp: the pattern guest on plain QEMU with QEMU's own monitor
    # (the reference), then under the student's hv with the student's
    # monitor (hvrun -monitor stdio, which shares stdout with the console).
    monitor_session qemu-mon "$logs/qemu-mon.serial" timeout -k 5 "$timeout" \
        qemu-system-x86_64 -accel tcg -cpu max -nodefaults -display none -no-reboot \
        -serial "file:$logs/qemu-mon.serial" -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -m 128 -kernel "$out/guestkit/pattern.elf" -monitor stdio
    if [ "$mon_built" = 1 ]; then
        monitor_session hv-mon "$logs/hv-mon.out" env BUILD="$out" "$TOP/bin/hvrun" \
            --hv "$out/hv/hv.elf" --timeout "$timeout" -monitor stdio \
            -kernel "$out/guestkit/pattern.elf"
    fi
fi

# 3. The exercises.
# Exercise 1, sched-pick: the unit tests, then the two domains: both end
# well, and hello (domain 1, "[d1] " lines) has finished before the
# counter's last count.
for t in round_robin_goes_round blocked_paused_and_ended_are_skipped; do
    unit hv_sched sched "$t" || fail sched-pick "unit test $t fails (see $logs/unit-$t.log)"
done
if [ "$built" = 1 ]; then
    hello_end=$(grep -n -m1 '^\[d1\] SUMMARY: [0-9]* tests, 0 unexpected failures' "$logs/domains.out" | cut -d: -f1)
    count_end=$(grep -n -m1 '^count 25$' "$logs/domains.out" | cut -d: -f1)
    if [ "$starved" = 1 ]; then
        fail sched-pick "hello in domain 1 never finished while the counter in domain 0 counted: does it ever get the CPU? (see $logs/domains.out)"
    elif [ -z "$hello_end" ] && stuck domains; then
        fail sched-pick "hello in domain 1 never finished ($(stuck_why domains)): does it ever get the CPU? (see $logs/domains.out)"
    elif [ -z "$hello_end" ] || ! ended domains; then
        fail sched-pick "the two domains did not both end well (status ${status[domains]}; see $logs/domains.out)"
    elif [ -z "$count_end" ] || [ "$hello_end" -gt "$count_end" ]; then
        fail sched-pick "hello in domain 1 ran only after the counter in domain 0 had finished: the CPU must go round (see $logs/domains.out)"
    fi
fi

# Exercise 2, pit-state: the unit tests, then the round trip.
for t in timers_continue_from_the_saved_point save_load_save_gives_the_same_bytes \
    refusals_name_the_section; do
    unit hv_vmstate vmstate "$t" || fail pit-state "unit test $t fails (see $logs/unit-$t.log)"
done
if [ "$built" = 1 ] && [ -n "${status[savevm]:-}" ]; then
    saved=$(first_count_after savevm "^\\[hv\\] savevm 's1': [0-9]+ bytes")
    loaded=$(first_count_after loadvm "^\\[hv\\] loadvm 's1': [0-9]+ bytes")
    if ! ended savevm || [ -z "$saved" ]; then
        fail pit-state "the counter did not take its snapshot and end well (status ${status[savevm]}; see $logs/savevm.out)"
    elif [ "$saved" -lt 2 ]; then
        # Before its first count the counter has still to program the
        # PIT, so a load would prove nothing (the guest's own set-up would
        # bring channel 0 back): a machine too slow for the 300 ms.
        fail pit-state "the snapshot came before the counter's first count, so it proves nothing: the machine was too slow; grade again (see $logs/savevm.out)"
    elif stuck loadvm; then
        fail pit-state "after loadvm the counter never finished ($(stuck_why loadvm)): it waits for the PIT's channel 0, which did not come back (see $logs/loadvm.out)"
    elif ! ended loadvm || [ "$loaded" != "$saved" ] || ! counts_from loadvm "$saved" "$LIMIT"; then
        fail pit-state "after loadvm the counter did not go on from count $saved to $LIMIT (first count '${loaded}', status ${status[loadvm]}; see $logs/loadvm.out)"
    fi
fi

# Exercise 3, memory-dump: the unit tests, then the same x and xp on both
# machines: the student's monitor must print QEMU's lines.
for t in test_x_layouts test_fmt_remembered; do
    unit mgmt_hmp hmp "$t" || fail memory-dump "unit test $t fails (see $logs/unit-$t.log)"
done
if [ "$built" = 1 ] && [ "$mon_built" = 1 ]; then
    dumps qemu-mon >"$logs/qemu-mon.dumps"
    dumps hv-mon >"$logs/hv-mon.dumps"
    if [ "$(grep -c . "$logs/qemu-mon.dumps")" -lt 11 ]; then
        fail memory-dump "QEMU's own monitor did not answer (see $logs/qemu-mon.out and $logs/qemu-mon.err)"
    elif ! cmp -s "$logs/qemu-mon.dumps" "$logs/hv-mon.dumps"; then
        first=$(diff "$logs/qemu-mon.dumps" "$logs/hv-mon.dumps" | grep -m1 '^<' | cut -c3-)
        fail memory-dump "x and xp under your hv do not print QEMU's lines: QEMU printed '$first' (diff $logs/qemu-mon.dumps $logs/hv-mon.dumps)"
    fi
fi

# 4. The verdict.
grade_verdict
