#!/usr/bin/env bash
# What a VM exit costs: hv against the minimal reference host (a benchmark,
# not a test; bench/hv/README.md explains the method and both sides).
#
# Usage: bench/hv/run.sh [--quick] [--reps R] [--n N] [--only PLATFORMS] [--kinds KINDS]
#   PLATFORMS: comma-separated of qemu-svm, bochs-vmx, bochs-svm (default all)
#   KINDS: comma-separated of cpuid, io, lsr, msr, hlt, hypercall (default all)
#   --quick: one repetition, fewer exits (a first look, noisier)
#
# For each platform the guest guestkit/tests/bench.c runs with N exits of a
# kind and with 0, under hv (build/hv/hv.elf) and under the reference image
# (make -C hv BENCH_FLOOR=1: CPUID exits handled by hv/svm/floor.c or
# hv/vmx/floor.c).  The cost is the emulator's CPU time (user + sys of the
# emulator process and its children) of the N run minus that of the 0 run,
# divided by N.  Runs of hv and of the reference alternate, R times each,
# and each cell is the median of its R values, so that the load of other
# processes on the machine hits both sides alike.  The ratio column is hv's
# cost over the reference host's CPUID round trip measured in the same run.
# A third image (make -C hv BENCH_COUNT=1, hv/core/benchcount.h) runs each
# kind once more to count what hv does per exit: VMREADs and VMWRITEs
# (VT-x), clock (TSC) reads, and accesses to the outer machine's ports.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
# Bochs gets more exits: its runs' CPU time varies by a second or so from
# run to run, which 200,000 exits of 5-10 us cannot average out.
reps=3 n_qemu=200000 n_bochs=1000000 n_count=2000
platforms=qemu-svm,bochs-vmx,bochs-svm
kinds=cpuid,io,lsr,msr,hlt,hypercall
while [ $# -gt 0 ]; do
    case $1 in
    --quick) reps=1 n_qemu=50000 n_bochs=100000 ;;
    --reps) reps=$2; shift ;;
    --n) n_qemu=$2 n_bochs=$2; shift ;;
    --only) platforms=$2; shift ;;
    --kinds) kinds=$2; shift ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# The three hv images and the guest, quietly.
make -s -C "$TOP/hv" >/dev/null
make -s -C "$TOP/hv" BENCH_FLOOR=1 BUILD="$BUILD/bench/floor" >/dev/null
make -s -C "$TOP/hv" BENCH_COUNT=1 BUILD="$BUILD/bench/count" >/dev/null
make -s -C "$TOP/guestkit" >/dev/null
HV=$BUILD/hv/hv.elf
REF=$BUILD/bench/floor/hv/hv.elf
COUNT=$BUILD/bench/count/hv/hv.elf
GUEST=$BUILD/guestkit/bench.elf
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-hv.XXXXXX")
trap 'rm -rf "$W"' EXIT

# run IMAGE EMULATOR VENDOR KIND N: run the guest once under IMAGE, output
# in $W/out; stop the benchmark if the guest did not do its exits.
run() {
    local image=$1 emu=$2 vendor=$3 kind=$4 n=$5
    "$TOP/bin/hvrun" --hv "$image" --emulator "$emu" --vendor "$vendor" --timeout 900 \
        -kernel "$GUEST" -append "$kind $n" >"$W/out" 2>&1 || {
        echo "run.sh: $emu/$vendor $kind $n under ${image#"$TOP"/} failed:" >&2
        tail -5 "$W/out" >&2
        exit 1
    }
    grep -q "^bench: $n $kind exits" "$W/out" || {
        echo "run.sh: the guest did not report its $n $kind exits" >&2
        exit 1
    }
}

# cpu_seconds IMAGE EMULATOR VENDOR KIND N: one run; prints the CPU seconds
# (user + sys) of the processes it waited for: hvrun and the emulator.
cpu_seconds() {
    local t
    TIMEFORMAT='%3U %3S'
    t=$({ time run "$@"; } 2>&1)
    awk '{ printf "%.3f\n", $1 + $2 }' <<<"$t"
}

# counts EMULATOR VENDOR KIND N: the counters' totals of one run of the
# counting image, "vmread A vmwrite B clock C outer-io D".
counts() {
    run "$COUNT" "$@"
    sed -n 's/^\[hv\] bench counts: //p' "$W/out"
}

# The median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "hv exit benchmark: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start;" \
    "median of $reps run(s) each"
IFS=, read -ra kind_list <<<"$kinds"
IFS=, read -ra platform_list <<<"$platforms"
for p in "${platform_list[@]}"; do
    emu=${p%-*} vendor=${p#*-}
    n=$n_qemu
    [ "$emu" = bochs ] && n=$n_bochs
    declare -A times=()
    # Alternate: every repetition runs each side's cases back to back.
    for ((r = 1; r <= reps; r++)); do
        times[ref0]+="$(cpu_seconds "$REF" "$emu" "$vendor" cpuid 0) "
        times[hv0]+="$(cpu_seconds "$HV" "$emu" "$vendor" cpuid 0) "
        times[refcpuid]+="$(cpu_seconds "$REF" "$emu" "$vendor" cpuid "$n") "
        for k in "${kind_list[@]}"; do
            times[hv$k]+="$(cpu_seconds "$HV" "$emu" "$vendor" "$k" "$n") "
        done
    done
    med() { tr ' ' '\n' <<<"${times[$1]}" | grep . | median; }
    ref0=$(med ref0) hv0=$(med hv0) refc=$(med refcpuid)
    floor_us=$(awk -v a="$refc" -v b="$ref0" -v n="$n" 'BEGIN { printf "%.2f", (a - b) / n * 1e6 }')
    echo
    echo "$p: N = $n exits per run; 0-exit runs: hv $hv0 s, reference $ref0 s of CPU"
    printf '| %-10s | %11s | %11s | %13s | %18s | %5s | %s |\n' "exit kind" "hv, us/exit" \
        "hv, exits/s" "reference, us" "reference, exits/s" "ratio" \
        "hv per exit: VMREAD / VMWRITE / clock / outer I/O"
    echo "|------------|-------------|-------------|---------------|--------------------|-------|---------------------------------------------------|"
    for k in "${kind_list[@]}"; do
        # Against the same kind's 0-exit run: what the guest does once
        # (e.g. the io kind's first OUT, which hv notes) falls in both.
        c0=$(counts "$emu" "$vendor" "$k" 0)
        us=$(awk -v a="$(med "hv$k")" -v b="$hv0" -v n="$n" 'BEGIN { printf "%.2f", (a - b) / n * 1e6 }')
        if [ "$k" = cpuid ]; then ref_us=$floor_us; else ref_us="($floor_us)"; fi
        cn=$(counts "$emu" "$vendor" "$k" "$n_count")
        per=$(awk -v a="$cn" -v b="$c0" -v n="$n_count" 'BEGIN {
            split(a, x, " "); split(b, y, " ")
            printf "%.1f / %.1f / %.1f / %.1f", (x[2] - y[2]) / n, (x[4] - y[4]) / n, (x[6] - y[6]) / n,
                (x[8] - y[8]) / n }')
        awk -v k="$k" -v us="$us" -v f="$floor_us" -v r="$ref_us" -v per="$per" 'BEGIN {
            printf "| %-10s | %11.2f | %11.0f | %13s | %18.0f | %5.2f | %49s |\n", k, us,
                (us > 0 ? 1e6 / us : 0), r, (f > 0 ? 1e6 / f : 0), (f > 0 ? us / f : 0), per }'
    done
    unset times
done
echo
echo "(reference in parentheses: the reference host handles only CPUID; the other kinds are"
echo " compared with its CPUID round trip.  hlt counts wake-ups: HLT, the injected IRQ 0, its EOI.)"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
