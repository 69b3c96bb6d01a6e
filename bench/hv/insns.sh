#!/usr/bin/env bash
# How many instructions hv runs for one exit: QEMU's gdb stub steps hv (SVM,
# QEMU TCG) from the instruction after VMRUN to the next VMRUN, once for hv
# and once for the reference host (bench/hv/README.md); a benchmark aid, not
# a test.  Needs gdb (Debian package gdb).
#
# Usage: bench/hv/insns.sh [KIND]     KIND: cpuid (default), io, lsr, msr, hypercall
# (the reference host handles CPUID only: for the other kinds its count is
# hv's ordinary path in its image)
#
# Each step is one instruction, except that every repetition of a REP
# string instruction is a step of its own.  The exit counted is the 2000th,
# well inside the guest's loop of 100,000 (its start-up takes about 60).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
kind=${1:-cpuid}
command -v gdb >/dev/null || { echo "insns.sh: gdb not found (Debian package gdb)" >&2; exit 2; }
make -s -C "$TOP/hv" >/dev/null
make -s -C "$TOP/hv" BENCH_FLOOR=1 BUILD="$BUILD/bench/floor" >/dev/null
make -s -C "$TOP/guestkit" >/dev/null
W=$(mktemp -d "${TMPDIR:-/tmp}/insns.XXXXXX")
qemu_pid=
trap '[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null; rm -rf "$W"' EXIT

# steps NAME IMAGE-DIR: print "NAME: N instructions from VMRUN to VMRUN".
steps() {
    local name=$1 dir=$2 vmrun back port=$((20000 + RANDOM % 20000))
    # The VMRUN in enter.S, and the label right after it where hv resumes.
    vmrun=$(objdump -d "$dir/hv64.elf" | awk '/\tvmrun/ && !seen { sub(":", "", $1); print $1; seen = 1 }')
    back=$(nm "$dir/hv64.elf" | awk '$3 == "svm_vmrun_done" { print $1 }')
    qemu-system-x86_64 -accel tcg -cpu max -m 256 -nodefaults -display none -no-reboot \
        -serial "file:$W/serial" -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -kernel "$dir/hv.elf" -append "mem=128M vendor=svm" \
        -initrd "$BUILD/guestkit/bench.elf $kind 100000" -gdb "tcp:127.0.0.1:$port" -S &
    qemu_pid=$!
    sleep 1
    cat >"$W/gdb" <<EOF
set pagination off
target remote 127.0.0.1:$port
hbreak *0x$back
set \$i = 0
while \$i < 2000
  continue
  set \$i = \$i + 1
end
delete
set \$n = 0
while \$pc != 0x$vmrun
  stepi
  set \$n = \$n + 1
end
printf "STEPS %d\n", \$n
EOF
    local n
    # gdb's status says how QEMU ended (killed), not whether it counted.
    n=$(gdb -batch -x "$W/gdb" "$dir/hv64.elf" 2>&1 | sed -n 's/^STEPS //p') || true
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=
    echo "$name: ${n:-?} instructions from VMRUN to VMRUN ($kind exit, SVM on QEMU TCG)"
}

steps hv "$BUILD/hv"
steps reference "$BUILD/bench/floor/hv"
