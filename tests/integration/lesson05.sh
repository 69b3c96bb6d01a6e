#!/usr/bin/env bash
# Lesson 05 quotes output, numbers and a figure; all must be what the code
# does.  Every quoted output block of lessons/05-domains-and-the-monitor/
# README.md is compared line by line with a fresh run of the command named
# in the comment above it, except for the numbers that comment says vary
# (lib/outputs.pl): the lesson's run (stdout, stderr) and two domains on
# Bochs, with SVM and with VT-x (skipped without Bochs).  The quoted statistics table
# must add up.  The lesson's command is checked for what the chapter says
# of it: its exit status; domain 1 done before domain 0's spin (hv
# preempted a guest spinning with IF=0) while domain 2 crashed; the power
# button honoured; the pause proof and the snapshot round trip in the
# monitor session (two reads after stop agree, the counter moved after
# cont, the read after loadvm is the one before savevm); qemu-img listing
# the snapshot with a VM SIZE and finding the image clean; a second save
# to the file that writes less than half the first; the file's sections;
# the restored guest counting on to its end.  The figure is
# docs/diagrams/lesson05-*.dot (diagrams.sh checks its SVG).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/lessons.bash"

W=$IT_WORK
L=$TOP/lessons/05-domains-and-the-monitor
DISK=$BUILD/lesson05/disk.qcow2
CASES=("lesson05: run" "lesson05: quoted output is a fresh run's")

stats_add_up "$L/README.md" "lesson05: the quoted statistics add up"
f=lesson05-control-path
if grep -qF "docs/diagrams/$f.svg" "$L/README.md" && [ -f "$TOP/docs/diagrams/$f.dot" ]; then
    pass "lesson05: the chapter shows docs/diagrams/$f.svg"
else
    fail "lesson05: the chapter shows docs/diagrams/$f.svg" "not referenced, or no $f.dot"
fi
skip_all_if "$(built_missing "$HV" "$BUILD/guestkit/spin.elf" "$BUILD/guestkit/triple.elf" \
    "$BUILD/guestkit/powerbtn.elf" "$BUILD/guestkit/pattern.elf" "$BUILD/guestkit/counter.elf")" \
    "${CASES[@]}"
for tool in qemu-system-x86_64 qemu-img; do
    command -v "$tool" >/dev/null || skip_all_if "$tool is not installed (bash mk/deps.sh test)" "${CASES[@]}"
done

# xp_values FILE: the values the monitor's `xp /1gx` printed, in order.
xp_values() {
    sed -n 's/^[0-9a-f]\{16\}: \(0x[0-9a-f]\{16\}\)$/\1/p' "$1"
}

# The first run: domain 1 printed all of its lines before domain 0's
# single line (it got the CPU while domain 0 spun with IF=0), and domain 2
# crashed without stopping them.
check_domains() {
    local n=$1 out=$W/run.out err=$W/run.err d1 d0
    d1=$(grep -n '^\[d1\] spun 500 ms$' "$out" | cut -d: -f1)
    d0=$(grep -n '^spin: 2000 ms with IF=0$' "$out" | cut -d: -f1)
    if [ -z "$d1" ] || [ -z "$d0" ] || [ "$d1" -gt "$d0" ]; then
        fail "$n" "domain 1 must finish before domain 0's 2 s spin with IF=0 ends (lines $d1, $d0)"
        show_log "$out" 20
        return 1
    fi
    expect "$n" "$err" '^\[hv\] domain 2 crashed: triple fault' '^\[hv\] domain 2 torn down: ' \
        '^\[hv\] domain 1 shut down$' '^\[hv\] domain 0: power button pressed \(powerdown-after=300\)$' &&
        expect "$n" "$out" '^powerbtn: the power button was pressed: powering off$'
}

# The monitor session: the pause proof and the snapshot round trip.
check_monitor() {
    local n=$1 v
    mapfile -t v < <(xp_values "$W/run.out")
    if [ "${#v[@]}" != 4 ] || [ "${v[0]}" != "${v[1]}" ] || [ "${v[2]}" = "${v[0]}" ] ||
        [ "${v[3]}" != "${v[0]}" ]; then
        fail "$n" "want xp after stop twice alike, moved after cont, back after loadvm: ${v[*]}"
        show_log "$W/run.out" 60
        return 1
    fi
    expect "$n" "$W/run.out" '^VM status: paused$' &&
        expect "$n" "$W/run.err" "^\\[hv\\] savevm 's1': [0-9]+ bytes of VM state" \
            "^\\[hv\\] loadvm 's1': [0-9]+ bytes of VM state" '^-> \{"execute": "stop"'
}

# The snapshot as qemu-img sees it, and the saves to a file.
check_snapshot_and_saves() {
    local n=$1 size full inc
    size=$(qemu-img snapshot -l "$DISK" | awk '$2 == "s1" { print $3 }')
    if [ -z "$size" ] || [ "$size" = 0 ] || ! qemu-img check -q "$DISK"; then
        fail "$n" "qemu-img snapshot -l: s1 with VM SIZE '$size', or the image is not clean"
        return 1
    fi
    full=$(sed -n 's/^\[hv\] save to outer disk [0-9]*: [0-9]* bytes of state, \([0-9]*\) written (full).*/\1/p' "$W/run.err")
    inc=$(sed -n 's/^\[hv\] save to outer disk [0-9]*: [0-9]* bytes of state, \([0-9]*\) written (incremental).*/\1/p' "$W/run.err")
    if [ -z "$full" ] || [ -z "$inc" ] || [ "$inc" -ge $((full / 2)) ]; then
        fail "$n" "the second save must be incremental and write less than half the first ('$full', '$inc')"
        return 1
    fi
    expect "$n" "$W/run.out" '^HVKITVMS format [0-9]+$' '^1 +domain ' '^2 +cpu ' '^10 +debug-exit ' \
        '^12 +ram ' '^0 +end ' &&
        expect "$n" "$W/run.err" '^\[hv\] restore from outer disk [0-9]+: [0-9]+ bytes of state' &&
        if [ "$(grep -c '^count 50$' "$W/run.out")" != 2 ]; then
            fail "$n" "both counter runs must count to 50"
            return 1
        fi
}

lesson_run() {
    local n="lesson05: run"
    run_logged "$W/run.out" "$W/run.err" "$W/run.st" "$L/run"
    if [ "$(cat "$W/run.st")" != 0 ]; then
        fail "$n" "lessons/05-domains-and-the-monitor/run exited with $(cat "$W/run.st"), the chapter says 0"
        show_log "$W/run.err"
        return
    fi
    check_domains "$n" && check_monitor "$n" && check_snapshot_and_saves "$n" &&
        pass "$n (preempted, crashed alone, pause proof, loadvm back, qemu-img lists s1, incremental save)"
}

lesson_run
# The Bochs blocks (SVM, VT-x) are skipped without Bochs.
nobochs=$(bochs_missing)
quoted_blocks "$L/README.md" "lesson05: quoted output is a fresh run's" \
    ${nobochs:+--emulator bochs} "$nobochs"
