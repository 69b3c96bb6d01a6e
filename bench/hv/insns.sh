#!/usr/bin/env bash
# How many instructions hv runs for one exit, from the world switch back to
# the next one, once for hv and once for the reference host
# (bench/hv/README.md); a benchmark aid, not a test.
#
# Usage: bench/hv/insns.sh [--bochs svm|vmx] [KIND]
#   KIND: cpuid (default), io, lsr, msr, hypercall (the reference host
#   handles CPUID only: for the other kinds its count is hv's ordinary path
#   in its image)
#
# Default: QEMU's gdb stub steps hv (SVM, QEMU TCG) from the instruction
# after VMRUN to the next VMRUN (needs gdb, Debian package gdb).  Each step
# is one instruction, except that every repetition of a REP string
# instruction is a step of its own.
#
# --bochs VENDOR: Bochs's own debugger, which bin/hvrun starts with this
# script's commands in place of its own, traces the instructions from the
# exit (VT-x: vmx_exit_entry; SVM: after VMRUN) to the next VMRESUME or
# VMRUN, and the memory accesses.  Beside the instructions it prints the
# walks of hv's page tables (Bochs empties its TLB at every world switch,
# so each page hv touches costs one, and a page read first and written
# later two), the VMREADs and VMWRITEs, and the instructions per function.
#
# The exit counted is the 2000th, well inside the guest's loop of 100,000
# (its start-up takes about 60).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
bochs=
if [ "${1:-}" = --bochs ]; then
    bochs=${2:-}
    case $bochs in
    svm | vmx) ;;
    *) echo "insns.sh: --bochs takes svm or vmx" >&2; exit 2 ;;
    esac
    shift 2
fi
kind=${1:-cpuid}
[ -n "$bochs" ] || command -v gdb >/dev/null ||
    { echo "insns.sh: gdb not found (Debian package gdb)" >&2; exit 2; }
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

# bochs_steps NAME IMAGE-DIR: the same on Bochs, with the page walks,
# VMREADs/VMWRITEs and a count per function.
bochs_steps() {
    local name=$1 dir=$2 back entry
    if [ "$bochs" = vmx ]; then
        # Where a VM exit lands (the VMCS's HOST_RIP), and the VMRESUME.
        back=$(nm "$dir/hv64.elf" | awk '$3 == "vmx_exit_entry" { print $1 }')
        entry=$(objdump -d "$dir/hv64.elf" | awk '/\tvmresume/ && !seen { sub(":", "", $1); print $1; seen = 1 }')
    else
        back=$(nm "$dir/hv64.elf" | awk '$3 == "svm_vmrun_done" { print $1 }')
        entry=$(objdump -d "$dir/hv64.elf" | awk '/\tvmrun/ && !seen { sub(":", "", $1); print $1; seen = 1 }')
    fi
    # The debugger's commands: stop at the 2000th exit (a linear-address
    # breakpoint; the guest's loop lies at other addresses), then trace
    # instructions and memory up to the next entry.
    {
        echo "lb 0x$back"
        for ((i = 0; i < 2000; i++)); do echo c; done
        printf 'd 1\nlb 0x%s\ntrace on\ntrace-mem on\nc\nquit\n' "$entry"
    } >"$W/bochs.rc"
    # bin/hvrun runs this in place of bochs: its own script swapped for
    # ours, the debugger's output kept.
    cat >"$W/bochs" <<EOF
#!/usr/bin/env bash
args=()
while [ \$# -gt 0 ]; do
    if [ "\$1" = -rc ]; then args+=(-rc "$W/bochs.rc"); shift 2; else args+=("\$1"); shift; fi
done
exec bochs "\${args[@]}" >"$W/bochs.out"
EOF
    chmod +x "$W/bochs"
    # hvrun never sees hv's last line (the debugger quits first): its
    # status says nothing.
    HVRUN_BOCHS=$W/bochs "$TOP/bin/hvrun" --hv "$dir/hv.elf" --emulator bochs --vendor "$bochs" \
        --timeout 900 -kernel "$BUILD/guestkit/bench.elf" -append "$kind 100000" >/dev/null 2>&1 || true
    sed -n '/Memory-Tracing enabled/,$p' "$W/bochs.out" >"$W/trace"
    # Instruction lines: "(0).[TICKS] [0xADDRESS] ...".
    grep -a '^(0)\.\[' "$W/trace" >"$W/insns" || true
    printf '%s: %d instructions from VM exit to VM entry (%s exit, %s on Bochs), %d page walks, ' \
        "$name" "$(wc -l <"$W/insns")" "$kind" "$bochs" "$(grep -a -c '; PML4E' "$W/trace")"
    printf '%d VMREADs, %d VMWRITEs\n' "$(grep -a -c 'vmread' "$W/insns")" \
        "$(grep -a -c 'vmwrite' "$W/insns")"
    # Each instruction's function: the last symbol at or below its address
    # (16 hex digits both, so that awk compares them as strings).
    nm -n "$dir/hv64.elf" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' >"$W/syms"
    sed -n 's/^(0)\.\[[0-9]*\] \[0x\([0-9a-f]*\)\].*/\1/p' "$W/insns" | awk -v syms="$W/syms" '
        BEGIN { while ((getline l < syms) > 0) { split(l, f, " "); n++; a[n] = f[1]; s[n] = f[2] } }
        { x = substr("0000000000000000" $1, length($1) + 1); lo = 1; hi = n
          while (lo < hi) { m = int((lo + hi + 1) / 2); if (a[m] <= x) lo = m; else hi = m - 1 }
          if (!(s[lo] in c)) order[++k] = s[lo]
          c[s[lo]]++ }
        END { for (i = 1; i <= k; i++) printf "    %-24s %4d\n", order[i], c[order[i]] }'
}

if [ -n "$bochs" ]; then
    bochs_steps hv "$BUILD/hv"
    bochs_steps reference "$BUILD/bench/floor/hv"
else
    steps hv "$BUILD/hv"
    steps reference "$BUILD/bench/floor/hv"
fi
