# shellcheck shell=bash
# What bench/pv/run.sh and bench/virtio/run.sh share (sourced by both after
# they set TOP and BUILD): both run the same guest, guestkit/tests/vbench.c,
# R times on fresh copies of one empty qcow2 image, keep each run's numbers
# as "KEY VALUE" lines and print the median of each.  What they measure and
# how their tables look stays in each script.

# vbench_positive OPTION VALUE: stop with status 2 unless VALUE is a
# positive whole number (for --reps and --mib).
vbench_positive() {
    [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: $1 needs a positive number" >&2; exit 2; }
}

# vbench_prepare NAME [QEMU-IMG-CREATE-OPTION...]: build hv and the guest,
# quietly; set GUEST, and W to a scratch folder (bench-NAME.XXXXXX, removed
# at exit) that holds $W/empty.qcow2, the empty image of $mib MiB that
# every run copies, created with the options given.
vbench_prepare() {
    local name=$1
    shift
    make -s -C "$TOP/hv" >/dev/null
    make -s -C "$TOP/guestkit" >/dev/null
    GUEST=$BUILD/guestkit/vbench.elf
    W=$(mktemp -d "${TMPDIR:-/tmp}/bench-$name.XXXXXX")
    trap 'rm -rf "$W"' EXIT
    qemu-img create -q -f qcow2 "$@" "$W/empty.qcow2" "${mib}M"
}

# vbench_run COLUMN APPEND SUMMARY WHAT: one run of vbench with the kernel
# command line APPEND in COLUMN (hv-qemu-svm, hv-bochs-vmx: under hv with
# its virtio console; qemu-microvm: plain QEMU, the reference) on a fresh
# copy of the image; its output in $W/out.  Stops the benchmark, naming
# the run as "vbench WHAT", unless the guest ran and its closing line
# matches the grep (basic) regex SUMMARY.
vbench_run() {
    local col=$1 append=$2 summary=$3 what=$4 disk=$W/disk.qcow2 cmd
    cp "$W/empty.qcow2" "$disk"
    case $col in
    hv-qemu-svm) cmd=("$TOP/bin/hvrun" --timeout 900 -device virtio-serial-device) ;;
    hv-bochs-vmx) cmd=("$TOP/bin/hvrun" --emulator bochs --vendor vmx -m 32M --timeout 900
        -device virtio-serial-device) ;;
    qemu-microvm) cmd=("$TOP/bin/qemu-guest" --timeout 300) ;;
    esac
    if ! "${cmd[@]}" -kernel "$GUEST" -append "$append" \
        -drive "file=$disk,format=qcow2" >"$W/out" 2>&1 ||
        ! grep -q "$summary" "$W/out"; then
        echo "run.sh: vbench $what failed:" >&2
        grep -v 'vbench: console line' "$W/out" | tail -n 8 >&2
        exit 1
    fi
}

# The median of the numbers on stdin, or nothing.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# vbench_keep PREFIX: add the numbers of the last run (the "KEY VALUE"
# lines of the script's own numbers()) to vals[PREFIX/KEY], the
# associative array of the values seen so far.
vbench_keep() {
    local key value
    while read -r key value; do
        vals[$1/$key]+="$value "
    done < <(numbers)
}

# vbench_median VALUES DIVISOR FORMAT: the median of the space-separated
# VALUES over DIVISOR, in printf FORMAT; nothing when there is no value.
vbench_median() {
    local m
    m=$(tr ' ' '\n' <<<"$1" | grep . | median)
    [ -n "$m" ] || return 0
    awk -v m="$m" -v d="$2" -v f="$3" 'BEGIN { printf f, m / d }'
}
