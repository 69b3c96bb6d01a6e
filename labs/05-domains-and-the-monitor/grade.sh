#!/usr/bin/env bash
# grade.sh: the grader of lab 05 (domains and the monitor), its code part.
#
#   grade.sh SRC OUT
#
# Builds hv, the guestkit guests hello, counter and pattern and the hosted unit-test
# programs hv_sched and hv_vmstate from the tree SRC (a student's work/ or
# the repository itself) into OUT, and prints one line per exercise, "PASS:
# N name" or "FAIL: N name: why", then the score.  Exit status 0 only when
# both exercises pass.  (The monitor tasks on a running guest are graded
# by tasks.sh: README.md "Tasks".)
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
# do if the 8254's channel 0 came back as it was.
# The environment it reads (GRADE_MAX_EXITS, GRADE_TIMEOUT, GRADE_JOBS)
# and the helpers are in labs/tools/grade-lib.bash.
set -uo pipefail

LAB=05
NAMES=(sched-pick pit-state)
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
grade_build_units hv_sched hv_vmstate

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

# 2. The guests under the student's hv.
LIMIT=40
if [ "$built" = 1 ]; then
    # Two domains: the counter never halts (it polls the PIT), so hello
    # runs only if the scheduler takes turns.
    run_guest domains counter 25 --domain "$out/guestkit/hello.elf"
    # The snapshot round trip: savevm after 300 ms of counting (about 15
    # counts of 20 ms), then a new run that loads it into a guest that never
    # programs the PIT (pattern, which counts in RAM): only the snapshot
    # can bring back the channel 0 the counter waits for.  (A new run of
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
    if [ -z "$hello_end" ] && stuck domains; then
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
    elif stuck loadvm; then
        fail pit-state "after loadvm the counter never finished ($(stuck_why loadvm)): it waits for the PIT's channel 0, which did not come back (see $logs/loadvm.out)"
    elif ! ended loadvm || [ "$loaded" != "$saved" ] || ! counts_from loadvm "$saved" "$LIMIT"; then
        fail pit-state "after loadvm the counter did not go on from count $saved to $LIMIT (first count '${loaded}', status ${status[loadvm]}; see $logs/loadvm.out)"
    fi
fi

# 4. The verdict.
grade_verdict
