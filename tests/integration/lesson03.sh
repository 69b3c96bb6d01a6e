#!/usr/bin/env bash
# Lesson 03 quotes output, numbers and figures; all must be what the code
# does.  Every quoted output block of lessons/03-virtio/README.md is
# compared line by line with a fresh run of the command named in the
# comment above it, except for the numbers that comment says vary
# (lib/outputs.pl): the lesson's run, its trace, vhostile's refusals and
# the benchmark's table (whose exit counts are compared, its MB/s not),
# and the lesson under VT-x on Bochs (skipped without Bochs).
# The quoted statistics table must add up.  The lesson's command is checked
# for its exit status, the image file it leaves (qemu-img check clean, the
# pattern in it) and with -snapshot (the file stays empty).  The figures
# are docs/diagrams/lesson03-*.dot (diagrams.sh checks their SVGs).
# The cases run one after the other: each run of the lesson uses the same
# image file, build/lesson03/disk.qcow2.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/lessons.bash"

W=$IT_WORK
L=$TOP/lessons/03-virtio
DISK=$BUILD/lesson03/disk.qcow2
CASES=("lesson03: run" "lesson03: -snapshot" "lesson03: quoted output is a fresh run's")

stats_add_up "$L/README.md" "lesson03: the quoted statistics add up"
for f in lesson03-descriptor-chain lesson03-request-path; do
    if grep -qF "docs/diagrams/$f.svg" "$L/README.md" && [ -f "$TOP/docs/diagrams/$f.dot" ]; then
        pass "lesson03: the chapter shows docs/diagrams/$f.svg"
    else
        fail "lesson03: the chapter shows docs/diagrams/$f.svg" "not referenced, or no $f.dot"
    fi
done
skip_all_if "$(built_missing "$HV" "$BUILD/guestkit/vblk.elf" "$BUILD/guestkit/vhostile.elf" \
    "$BUILD/guestkit/vbench.elf")" "${CASES[@]}"
for tool in qemu-system-x86_64 qemu-img; do
    command -v "$tool" >/dev/null || skip_all_if "$tool is not installed (bash mk/deps.sh test)" "${CASES[@]}"
done

# run_lesson ID ARGS...: the lesson's command with ARGS, logged as ID.*.
run_lesson() {
    local id=$1
    shift
    run_logged "$W/$id.out" "$W/$id.err" "$W/$id.st" "$L/run" "$@"
}

# The disk after a run: qemu-img check is clean and, converted to raw,
# every sector holds vblk's pattern (32 lines "sector %08x\n"), or (for
# -snapshot) every byte is zero.
disk_holds() {
    local want=$1
    qemu-img check -q "$DISK" || return 1
    qemu-img convert -f qcow2 -O raw "$DISK" "$W/disk.raw" || return 1
    if [ "$want" = pattern ]; then
        perl -e 'for my $s (0 .. 8191) { print sprintf("sector %08x\n", $s) x 32 }' >"$W/want.raw"
    else
        head -c 4194304 /dev/zero >"$W/want.raw"
    fi
    cmp -s "$W/disk.raw" "$W/want.raw"
}

lesson_run() {
    local n="lesson03: run"
    run_lesson run
    if [ "$(cat "$W/run.st")" != 0 ]; then
        fail "$n" "lessons/03-virtio/run exited with $(cat "$W/run.st"), the chapter says 0"
        show_log "$W/run.err"
        return
    fi
    expect "$n" "$W/run.out" '^SUMMARY: 14 tests, 0 unexpected failures' \
        '^No errors were found on the image\.$' '^sector 00000001$' &&
        expect "$n" "$W/run.err" '^\[hv\] virtio-blk0 at 0xfeb00e00 irq 12: build/lesson03/disk\.qcow2, 4194304 bytes$' &&
        if disk_holds pattern; then
            pass "$n (qemu-img check is clean, every sector holds vblk's pattern)"
        else
            fail "$n" "build/lesson03/disk.qcow2 is not clean or lacks vblk's pattern"
        fi
}

snapshot() {
    local n="lesson03: -snapshot"
    run_lesson snap -snapshot
    if [ "$(cat "$W/snap.st")" != 0 ]; then
        fail "$n" "lessons/03-virtio/run -snapshot exited with $(cat "$W/snap.st")"
        show_log "$W/snap.err"
        return
    fi
    expect "$n" "$W/snap.out" '^SUMMARY: 14 tests, 0 unexpected failures' \
        '^\(zeros: nothing was written there\)$' &&
        if disk_holds zeros; then
            pass "$n (vblk passes, the file stays empty)"
        else
            fail "$n" "the file changed under -snapshot"
        fi
}

lesson_run
snapshot
# The Bochs block (VT-x) is skipped without Bochs; it also runs the
# lesson's relative disk path through Bochs, which starts elsewhere.
nobochs=$(bochs_missing)
quoted_blocks "$L/README.md" "lesson03: quoted output is a fresh run's" \
    ${nobochs:+--emulator bochs} "$nobochs"
rm -f "$W/disk.raw" "$W/want.raw"
