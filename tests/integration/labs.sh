#!/usr/bin/env bash
# The labs framework, labs 01 to 05 (labs/README.md): for each lab, the
# reference tree must pass the lab's grader, and the skeleton made from it
# must compile yet fail the grader on EVERY exercise, which proves that each
# exercise's checks test the code the skeleton removed; the skeleton with
# only exercise 1 put back scores exactly that exercise (lab 03, whose
# exercises 2 and 3 are two halves of every request, also with exercises 1
# and 2 put back).  Also: the skeleton
# holds no marker and none of the removed code, and mkskeleton.sh refuses
# broken markers with the file and line.
#
# Everything is built under $BUILD/labs/test (never the main build, never a
# student's labs/*/work/), once per tree, and reused by the next run: only
# the files that changed are compiled again.  A skeleton is a copy whose
# files keep the repository's times; the graders throw its build away when
# its headers or Makefiles changed (labs/tools/grade-lib.bash), so that a
# changed header never leaves a stale object behind, and a case below
# proves it.
. "$(dirname "$0")/lib.bash"

T=$BUILD/labs/test
mkdir -p "$T"

# mkskeleton.sh's refusals need no emulator: a file with a BEGIN and no END,
# an END without BEGIN, and a nested BEGIN.
bad=$IT_WORK/bad
mkdir -p "$bad/src"
printf 'int f(void)\n{\n    /* LAB 01: BEGIN open */\n    return 1;\n}\n' >"$bad/src/noend.c"
printf 'int g(void)\n{\n    return 1;\n    /* LAB 01: END */\n}\n' >"$bad/src/nobegin.c"
printf '/* LAB 01: BEGIN a */\n/* LAB 01: BEGIN b */\n/* LAB 01: END */\n' >"$bad/src/nested.c"
for c in "noend.c:3:.*has no END" "nobegin.c:4:.*END without a BEGIN" "nested.c:2:.*BEGIN inside"; do
    f=${c%%:*}
    LAB_SRC_TOP=$bad/src bash "$TOP/labs/tools/mkskeleton.sh" 01 "$bad/out-$f" "$f" >/dev/null \
        2>"$bad/$f.err"
    st=$?
    if [ "$st" -ne 0 ] && grep -qE "^[^ ]*${c}" "$bad/$f.err" && [ ! -e "$bad/out-$f" ]; then
        pass "labs: mkskeleton refuses ${f%.c} markers with file and line"
    else
        fail "labs: mkskeleton refuses ${f%.c} markers with file and line" \
            "status $st, no skeleton expected; stderr: $(head -c 300 "$bad/$f.err")"
    fi
done

if ! command -v qemu-system-x86_64 >/dev/null; then
    for l in 01 02 03 04 05; do
        skip "labs: lab $l reference passes the grader" "qemu-system-x86_64 is not installed"
        skip "labs: lab $l skeleton fails every exercise" "qemu-system-x86_64 is not installed"
    done
    exit 0
fi

# skeleton NN DIR SK: generate lab NN's skeleton into SK exactly as `make
# skeleton` does (same tool, same path list, read from the lab's Makefile).
skeleton() {
    local lab=$1 dir=$2 sk=$3 paths
    paths=$(make --no-print-directory -s -C "$dir" -f Makefile -f - print-paths <<'MK'
print-paths: ; @echo $(LAB_PATHS)
MK
)
    # shellcheck disable=SC2086 # the path list is words
    if bash "$TOP/labs/tools/mkskeleton.sh" "$lab" "$sk" $paths >/dev/null 2>"$IT_WORK/mkskeleton-$lab.err"; then
        pass "labs: lab $lab skeleton generated"
    else
        fail "labs: lab $lab skeleton generated" "mkskeleton.sh failed"
        show_log "$IT_WORK/mkskeleton-$lab.err"
        return 1
    fi
}

# no_answers NN SK TODO-FILE TODO-NAME DESCRIPTION:GREP-ARGS...: no marker
# of lab NN is left in SK and none of the removed lines (each given as a
# description, a colon, the file and a fixed string); TODO-FILE has the
# TODO of TODO-NAME.
no_answers() {
    local lab=$1 sk=$2 todo_file=$3 todo=$4 left gone=() a what file text
    shift 4
    left=$(grep -rn -e "LAB $lab:" "$sk" | head -n 3)
    for a in "$@"; do
        what=${a%%:*} a=${a#*:}
        file=${a%%:*} text=${a#*:}
        grep -q -F -e "$text" "$sk/$file" && gone+=("$what")
    done
    if [ -z "$left" ] && [ ${#gone[@]} -eq 0 ] && grep -q "TODO (lab $lab, $todo)" "$sk/$todo_file"; then
        pass "labs: lab $lab skeleton has TODOs, no markers and no removed code"
    else
        fail "labs: lab $lab skeleton has TODOs, no markers and no removed code" \
            "markers left: ${left:-none}; answers left: ${gone[*]:-none}"
    fi
}

# grade NN DIR SRC OUT ID: run lab NN's grader on SRC into OUT; its output
# in $IT_WORK/ID.out and .err, its status echoed.
grade() {
    local lab=$1 dir=$2 src=$3 out=$4 id=$5
    bash "$dir/grade.sh" "$src" "$out" >"$IT_WORK/$id.out" 2>"$IT_WORK/$id.err"
    echo $?
}

# says NAME FILE REGEX: the grade in FILE has a line matching REGEX.
says() {
    if grep -q -e "$3" "$2"; then
        pass "$1"
    else
        fail "$1" "see the grade above"
        show_log "$2"
    fi
}

# reference_passes NN DIR COUNT: the untouched repository scores COUNT/COUNT.
# Its guests all end by themselves, so a longer time limit than a
# student's default costs nothing when the machine is quiet and keeps a
# busy machine (the suites run two at a time) from failing a correct run.
reference_passes() {
    local lab=$1 dir=$2 count=$3 st
    st=$(GRADE_TIMEOUT=${GRADE_TIMEOUT:-60} grade "$lab" "$dir" "$TOP" "$T/reference-$lab" "reference-$lab")
    if [ "$st" -eq 0 ] && [ "$(grep -c '^PASS: ' "$IT_WORK/reference-$lab.out")" -eq "$count" ]; then
        pass "labs: lab $lab reference passes the grader ($count/$count)"
    else
        fail "labs: lab $lab reference passes the grader ($count/$count)" "grader status $st"
        show_log "$IT_WORK/reference-$lab.out"
        show_log "$IT_WORK/reference-$lab.err"
    fi
}

# skeleton_fails NN DIR SK FILE... -- NAME...: the skeleton builds (every
# FILE, relative to its build directory, exists) and fails every exercise,
# never because hv or the guests do not build.
skeleton_fails() {
    local lab=$1 dir=$2 sk=$3 out st ok=1 i=0 n f files=()
    out=$T/skeleton-$lab
    shift 3
    while [ "$1" != -- ]; do
        files+=("$1")
        shift
    done
    shift
    # Each FILE must be this build's: not one the seed copied, nor the last run's.
    for f in "${files[@]}"; do rm -f "${out:?}/$f"; done
    st=$(grade "$lab" "$dir" "$sk" "$out" "skeleton-$lab")
    for f in "${files[@]}"; do
        [ -e "$out/$f" ] || ok=0
    done
    if [ "$ok" = 1 ]; then
        pass "labs: lab $lab skeleton compiles (hv, guests, unit tests)"
    else
        fail "labs: lab $lab skeleton compiles (hv, guests, unit tests)" "see $out/logs/build-*.log"
        show_log "$IT_WORK/skeleton-$lab.err"
    fi
    for n in "$@"; do
        i=$((i + 1))
        if [ "$st" -ne 0 ] && grep -q "^FAIL: $i $n: " "$IT_WORK/skeleton-$lab.out" &&
            ! grep -q "hv does not build\|guests do not build" "$IT_WORK/skeleton-$lab.out"; then
            pass "labs: lab $lab skeleton fails exercise $i ($n)"
        else
            fail "labs: lab $lab skeleton fails exercise $i ($n)" "grader status $st"
            show_log "$IT_WORK/skeleton-$lab.out"
        fi
    done
}

# Every tree's first build starts as a copy of one made before it, so that a
# fresh run compiles only what differs:
#  - lab 01's reference (the repository) from the repository's own build,
#    lab NN's reference (the repository again) from lab NN-1's: make then
#    builds only what lab NN adds (its guests and unit tests);
#  - lab NN's skeleton from lab NN's reference, with the checksum of the
#    skeleton's headers (all the repository's: no region is in a header)
#    and the files the skeleton changed made newer than the copied
#    objects, so that exactly those are compiled again;
#  - a solved tree from its skeleton's: the files put back are newer than
#    its objects.
# What a skeleton's grade is judged on (skeleton_fails' FILEs) is removed
# from the copy first, so that it exists only if the skeleton's own build
# made it.
#
# seed FROM TO: TO's build starts as a copy of FROM's.  The dependency
# files make wrote (.d) name each object by its full path: the copy's are
# rewritten to name TO's objects, or make would not know that they depend
# on their headers, and a changed header would leave them stale.  The
# rewriting is done on every run, so that a copy is never left naming
# FROM.
seed() {
    [ -d "$2" ] || [ ! -d "$1" ] || cp -a "$1" "$2"
    [ ! -d "$2" ] || find "$2" -name '*.d' -exec sed -i "s#$1/#$2/#g" {} +
}

# seed_reference NN: lab NN's reference build from lab NN-1's; lab 01's
# from the repository's own build ($BUILD, made by `make` from the same
# sources with the same Makefiles), when there is one: hv, the guests, the
# monitor and the unit-test programs the graders build.
seed_reference() {
    local to=$T/reference-01 p
    if [ "$1" != 01 ]; then
        seed "$T/reference-0$(($1 - 1))" "$T/reference-$1"
    elif [ ! -d "$to" ] && [ -f "$BUILD/hv/hv.elf" ] && [ -d "$BUILD/guestkit" ]; then
        mkdir -p "$to/tests/obj" "$to/tests/unit"
        cp -a "$BUILD/hv" "$BUILD/guestkit" "$to/"
        [ ! -d "$BUILD/mgmt" ] || cp -a "$BUILD/mgmt" "$to/"
        for p in $(sed -n 's/^grade_build_units //p' "$TOP"/labs/*/grade.sh); do
            [ ! -d "$BUILD/tests/obj/$p" ] || cp -a "$BUILD/tests/obj/$p" "$to/tests/obj/"
            [ ! -f "$BUILD/tests/unit/$p" ] || cp -a "$BUILD/tests/unit/$p" "$to/tests/unit/"
        done
        find "$to" -name '*.d' -exec sed -i "s#$BUILD/#$to/#g" {} +
    fi
}

# seed_skeleton NN SK: lab NN's skeleton build (of the tree SK) from lab
# NN's reference build.
seed_skeleton() {
    local lab=$1 sk=$2 out=$T/skeleton-$1 f
    if [ ! -d "$out" ] && [ -d "$T/reference-$lab" ]; then
        seed "$T/reference-$lab" "$out"
        (cd "$sk" && find . -type f \( -name '*.h' -o -name Makefile -o -name '*.mk' \) |
            LC_ALL=C sort | xargs sha1sum | sha1sum) >"$out/.headers"
        while IFS= read -r f; do
            cmp -s "$sk/$f" "$TOP/$f" || touch "$sk/$f"
        done < <(cd "$sk" && find . -type f -name '*.[ch]')
    fi
    seed "$T/reference-$lab" "$out"
}

# seed_build NN NAME: a solved tree's build (NAME-NN) from its skeleton's.
seed_build() {
    seed "$T/skeleton-$1" "$T/$2-$1"
}

# solved_first NN DIR SK FILE NAME REGEX...: the skeleton with FILE
# (exercise 1's file) taken whole from the reference scores exercise 1,
# NAME, and each REGEX matches a line of its grade (the FAIL lines that say
# the guests caught the other exercises).
solved_first() {
    local lab=$1 dir=$2 sk=$3 file=$4 name=$5 s1 o re ok=1 n
    shift 5
    s1=$T/solved1-src-$lab o=$IT_WORK/solved1-$lab.out
    n="labs: lab $lab with only exercise 1 solved scores exactly it, the guests catch the others"
    rm -rf "$s1"
    cp -a "$sk" "$s1"
    cp "$TOP/$file" "$s1/$file"
    seed_build "$lab" solved1
    grade "$lab" "$dir" "$s1" "$T/solved1-$lab" "solved1-$lab" >/dev/null
    grep -q "^PASS: 1 $name\$" "$o" || ok=0
    for re in "$@"; do
        grep -q -e "$re" "$o" || ok=0
    done
    if [ "$ok" = 1 ]; then
        pass "$n"
    else
        fail "$n" "unexpected grade"
        show_log "$o"
    fi
}

# ---- Lab 01: trap and emulate.
L1=$TOP/labs/01-trap-and-emulate
SK1=$T/skeleton-src-01
if skeleton 01 "$L1" "$SK1"; then
    # advance() must be the only place that moves RIP: no handler may skip
    # an instruction by hand, or it would keep working in the student's copy.
    no_answers 01 "$SK1" hv/core/dispatch.c advance-rip \
        "a RIP update outside advance():hv/core/dispatch.c:rip +=" \
        "the signature:hv/core/cpuid.c:HVKIT_CPUID_SIG_EBX" \
        "the scratch register:hv/dev/uart16550.c:u->scr"
    seed_reference 01
    reference_passes 01 "$L1" 3
    seed_skeleton 01 "$SK1"
    # A skeleton that never advances RIP traps on the same CPUID forever: the
    # grader's exit budget must end it, not the (much later) timeout.  The
    # budget's 100,000 exits take 7 s on a machine with other emulators
    # running and more on a busier one, so the timeout is made "much later"
    # here (none of lab 01's skeleton guests hangs without exits, so this
    # costs no time).
    GRADE_TIMEOUT=${GRADE_TIMEOUT:-60} \
        skeleton_fails 01 "$L1" "$SK1" hv/hv.elf tests/unit/hv_core tests/unit/hv_dev guestkit/hello.elf \
        -- advance-rip cpuid-signature uart-scratch
    says "labs: lab 01 skeleton's advance-rip failure is the exit budget, not the timeout" \
        "$IT_WORK/skeleton-01.out" "^FAIL: 1 advance-rip: hello did not finish (exit budget spent: "
    # With exercise 1 solved (the reference's advance(), whole file) every
    # guest runs to its end: exercises 2 and 3 must then fail in the guests
    # too, not only in the unit tests, and exercise 1 must pass on its own.
    solved_first 01 "$L1" "$SK1" hv/core/dispatch.c advance-rip \
        '^FAIL: 2 cpuid-signature: .*the cpuid guest did not find the signature' \
        "^FAIL: 3 uart-scratch: .*the portio guest's scratch register did not keep"
fi

# ---- Lab 02: second-level paging.
L2=$TOP/labs/02-second-level-paging
SK2=$T/skeleton-src-02
if skeleton 02 "$L2" "$SK2"; then
    no_answers 02 "$SK2" hv/svm/paging.c npt-entry \
        "the NPT leaf's U/S bit:hv/svm/paging.c:PTE_P | PTE_US" \
        "the walk's leaf address:hv/core/slat.c:w->page_size = span(level)" \
        "the SIB scale:hv/core/emu_modrm.c:m->scale = (uint8_t)(1u << (s >> 6))" \
        "the EOI:hv/dev/lapic.c:bit_clear(l->isr"
    seed_reference 02
    reference_passes 02 "$L2" 4
    seed_skeleton 02 "$SK2"
    skeleton_fails 02 "$L2" "$SK2" hv/hv.elf tests/unit/hv_slat tests/unit/hv_emu tests/unit/hv_apic \
        guestkit/memtour.elf -- npt-entry slat-walk sib lapic-eoi
    # With the NPT entries back every guest runs: the other three must then
    # fail in their guests as well as in the unit tests.
    solved_first 02 "$L2" "$SK2" hv/svm/paging.c npt-entry \
        "^FAIL: 2 slat-walk: .*the memtour guest's dirty log did not report" \
        "^FAIL: 3 sib: .*the mmio guest's store through a SIB byte went wrong" \
        '^FAIL: 4 lapic-eoi: .*the apic guest still had its interrupt in service'
fi

# ---- Lab 03: virtio.
# keep_region NN NAME FILE: FILE with lab NN's region NAME left as the
# reference has it (its marker lines dropped, its code kept), so that
# mkskeleton.sh cuts only the file's other regions.
keep_region() {
    awk -v mark="LAB $1: " -v name="$2" '
        index($0, mark "BEGIN " name " ") { inside = 1; next }
        inside && inhint { if ($0 ~ /\*\/[ \t]*$/) inhint = 0; next }
        inside && index($0, mark "HINT") { inhint = $0 !~ /\*\/[ \t]*$/; next }
        inside && index($0, mark "STUB") { next }
        inside && index($0, mark "END") { inside = 0; next }
        { print }' "$3"
}

L3=$TOP/labs/03-virtio
SK3=$T/skeleton-src-03
if skeleton 03 "$L3" "$SK3"; then
    no_answers 03 "$SK3" hv/dev/virtio/virtq.c desc-chain \
        "the loop guard:hv/dev/virtio/virtq.c:++w.steps > w.entries" \
        "the used element:hv/dev/virtio/virtq.c:put_le32(elem, head)" \
        "the event-index rule:hv/dev/virtio/virtq.c:(uint16_t)(now - used_event - 1)" \
        "avail_event:hv/dev/virtio/virtq.c:put_ring16(m, q->used, 4 + 8ull * q->size, q->last_avail)" \
        "QueueReady:guestkit/runtime/virtio_mmio.c:VIRTIO_MMIO_QUEUE_READY, 1"
    seed_reference 03
    reference_passes 03 "$L3" 3
    seed_skeleton 03 "$SK3"
    skeleton_fails 03 "$L3" "$SK3" hv/hv.elf tests/unit/hv_virtq guestkit/vblk.elf guestkit/vcon.elf \
        guestkit/vhostile.elf -- queue-setup desc-chain used-ring
    # The skeleton's driver is caught by QEMU's own devices (not by a timeout).
    says "labs: lab 03 skeleton's driver fails on plain QEMU at once" "$IT_WORK/skeleton-03.out" \
        '^FAIL: 1 queue-setup: vblk on plain QEMU (the reference device) failed'
    # With the driver back, vblk runs under the student's hv, which refuses
    # its chains: the guest catches exercise 2.
    solved_first 03 "$L3" "$SK3" guestkit/runtime/virtio_mmio.c queue-setup \
        '^FAIL: 2 desc-chain: .*hv refused a chain vblk made' '^FAIL: 3 used-ring: '
    # With the chain walk back too, only the used ring is missing: vblk's
    # first request never comes back, and the exit budget (not the time
    # limit) ends it.
    n="labs: lab 03 with exercises 1 and 2 solved scores exactly them, vblk catches the used ring"
    s12=$T/solved12-src-03 o=$IT_WORK/solved12-03.out
    rm -rf "$s12" "$IT_WORK/keep"
    cp -a "$SK3" "$s12"
    cp "$TOP/guestkit/runtime/virtio_mmio.c" "$s12/guestkit/runtime/virtio_mmio.c"
    mkdir -p "$IT_WORK/keep/hv/dev/virtio"
    keep_region 03 desc-chain "$TOP/hv/dev/virtio/virtq.c" >"$IT_WORK/keep/hv/dev/virtio/virtq.c"
    seed_build 03 solved12
    if LAB_SRC_TOP=$IT_WORK/keep bash "$TOP/labs/tools/mkskeleton.sh" 03 "$IT_WORK/keep-out" \
        hv/dev/virtio/virtq.c 2>/dev/null; then
        cp "$IT_WORK/keep-out/hv/dev/virtio/virtq.c" "$s12/hv/dev/virtio/virtq.c"
        grade 03 "$L3" "$s12" "$T/solved12-03" solved12-03 >/dev/null
        if grep -q '^PASS: 1 queue-setup$' "$o" && grep -q '^PASS: 2 desc-chain$' "$o" &&
            grep -q '^FAIL: 3 used-ring: .*never came back on the used ring (exit budget spent' "$o"; then
            pass "$n"
        else
            fail "$n" "unexpected grade"
            show_log "$o"
        fi
    else
        fail "$n" "mkskeleton.sh could not cut virtq.c with desc-chain kept"
    fi
fi

# ---- Lab 04: paravirtual drivers.
L4=$TOP/labs/04-paravirtual-drivers
SK4=$T/skeleton-src-04
if skeleton 04 "$L4" "$SK4"; then
    no_answers 04 "$SK4" hv/core/pv_console.c console-ring \
        "the consumer's range check:hv/core/pv_console.c:if (n > HVKIT_CONSOLE_OUT_SIZE)" \
        "the consumer index given back:hv/core/pv_console.c:__atomic_store_n(&ring->out_cons, prod" \
        "the seqlock's retry:guestkit/runtime/pv.c:} while ((v & 1) || v != clock.version);"
    seed_reference 04
    reference_passes 04 "$L4" 2
    seed_skeleton 04 "$SK4"
    skeleton_fails 04 "$L4" "$SK4" hv/hv.elf tests/unit/hv_pv guestkit/pvcon.elf guestkit/pvclock.elf \
        -- console-ring pvclock-read
    # The skeleton's clock never moves: pvclock waits for it until the exit
    # budget (not the time limit) ends it.
    says "labs: lab 04 skeleton's clock is caught by the exit budget" "$IT_WORK/skeleton-04.out" \
        '^FAIL: 2 pvclock-read: pvclock under your hv never finished (exit budget spent'
    solved_first 04 "$L4" "$SK4" hv/core/pv_console.c console-ring '^FAIL: 2 pvclock-read: '
fi

# ---- Lab 05: domains and the monitor (its code part; the monitor tasks
# on a running guest are tests/integration/lab05-tasks.sh's).

L5=$TOP/labs/05-domains-and-the-monitor
SK5=$T/skeleton-src-05
if skeleton 05 "$L5" "$SK5"; then
    no_answers 05 "$SK5" hv/core/sched.c sched-pick \
        "the round robin's wrap:hv/core/sched.c:% (int)n" \
        "the PIT's relative start:hv/dev/pc_state.c:vms_since(v, &c->start, now)" \
        "the PIT's mode check:hv/dev/pc_state.c:c->mode <= 5" \
        "the dump's line length:mgmt/hmp/memdump.c:int line = size == 1 ? 8 : 16;"
    seed_reference 05
    reference_passes 05 "$L5" 3
    seed_skeleton 05 "$SK5"
    skeleton_fails 05 "$L5" "$SK5" hv/hv.elf tests/unit/hv_sched tests/unit/hv_vmstate \
        tests/unit/mgmt_hmp mgmt/hvmon guestkit/counter.elf guestkit/pattern.elf \
        -- sched-pick pit-state memory-dump
    # The skeleton's scheduler never leaves domain 0; its PIT is not in the
    # snapshot, and the counter waits for it until the exit budget ends it;
    # its monitor prints nothing where QEMU's prints the dump.
    says "labs: lab 05 skeleton's scheduler starves domain 1" "$IT_WORK/skeleton-05.out" \
        '^FAIL: 1 sched-pick: .*hello in domain 1 never finished'
    says "labs: lab 05 skeleton's snapshot loses the PIT, caught by the exit budget" \
        "$IT_WORK/skeleton-05.out" \
        '^FAIL: 2 pit-state: .*after loadvm the counter never finished (exit budget spent'
    says "labs: lab 05 skeleton's x and xp are caught against QEMU's monitor" \
        "$IT_WORK/skeleton-05.out" "^FAIL: 3 memory-dump: .*do not print QEMU's lines"
    solved_first 05 "$L5" "$SK5" hv/core/sched.c sched-pick \
        '^FAIL: 2 pit-state: .*after loadvm the counter never finished' \
        "^FAIL: 3 memory-dump: .*do not print QEMU's lines"
fi

# A header that changed while keeping an old file time, as in a skeleton
# copied from a repository that was updated before the last grade: the
# grader must build again, not reuse objects made from the old header.  The
# probe is lab 02's solved tree with its last build; the changed header
# stops every build, so a grader that reused the old objects would not say
# "hv does not build".
stale_header_rebuilt() {
    local n="labs: a skeleton's header changed under an old file time is rebuilt, not reused"
    local s=$T/stale-src o=$T/stale
    if [ ! -f "$T/solved1-02/.headers" ]; then
        fail "$n" "lab 02's solved tree was not built"
        return
    fi
    rm -rf "$s" "$o"
    cp -a "$T/solved1-src-02" "$s"
    cp -a "$T/solved1-02" "$o"
    printf '#error the changed header was compiled\n' >>"$s/include/hvkit/abi.h"
    touch -d '2000-01-01' "$s/include/hvkit/abi.h"
    bash "$L2/grade.sh" "$s" "$o" >"$IT_WORK/stale.out" 2>"$IT_WORK/stale.err"
    if grep -q '^FAIL: 1 npt-entry: hv does not build' "$IT_WORK/stale.out" &&
        grep -q 'the changed header was compiled' "$o/logs/build-hv.log"; then
        pass "$n"
    else
        fail "$n" "the grader did not compile the changed header"
        show_log "$IT_WORK/stale.out"
    fi
    rm -rf "$s" "$o"
}
stale_header_rebuilt
