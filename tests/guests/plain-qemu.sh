#!/usr/bin/env bash
# Every guest of guestkit/tests/guests.list on plain QEMU (bin/qemu-guest),
# the reference machine, without hv.  This checks guestkit itself:
#   - the exit status is the manifest's code (127 for "triple": QEMU powers
#     off on a triple fault with -no-reboot);
#   - no "FAIL: " line;
#   - a guest that prints verdicts ends with a SUMMARY line whose numbers are
#     the verdict lines actually printed;
#   - a few guest-specific outputs (the greeting, the crash report, the
#     refusal of a wrong Multiboot magic, the foreign guest's echo).
# Prints one "PASS: guestkit-qemu NAME" / "FAIL: ..." / "SKIP: ..." per guest.
set -uo pipefail
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
LIST=${GUESTS_LIST:-$TOP/guestkit/tests/guests.list}
W=$BUILD/tests/guests/plain-qemu
mkdir -p "$W"

# extra_checks NAME OUT: guest-specific expectations; prints why it failed.
extra_checks() {
    local name=$1 out=$2
    case $name in
    hello) grep -qx 'Hello, world!' "$out" || echo "no 'Hello, world!' line" ;;
    badmagic)
        grep -q '^guestkit: not started by a Multiboot loader: EAX was 0x1badb002' "$out" ||
            echo "no refusal message for the wrong magic"
        ! grep -qE '^(PASS|FAIL): ' "$out" || echo "main() ran despite the wrong magic"
        ;;
    crash)
        grep -q '^guestkit: unexpected exception #PF (vector 14' "$out" || echo "no #PF report"
        grep -qE '^  RIP=[0-9a-f]{16}' "$out" || echo "no RIP in the register dump"
        grep -q 'CR2=00007ead00000000' "$out" || echo "CR2 missing or wrong in the dump"
        ;;
    triple) grep -q '^triple: loading an empty IDT' "$out" || echo "the guest did not start" ;;
    foreign)
        grep -qE '^foreign: command line: .*foreign\.elf alpha beta$' "$out" ||
            echo "command line not echoed"
        grep -q '^foreign: cpu vendor: ' "$out" || echo "no CPU vendor line"
        ;;
    esac
}

# summary_check OUT: the SUMMARY line agrees with the verdict lines.
summary_check() {
    local out=$1 line t f s p nf ns
    grep -qE '^(PASS|FAIL|SKIP): ' "$out" || return 0
    line=$(grep -E '^SUMMARY: ' "$out" | tail -n 1)
    [ -n "$line" ] || { echo "verdicts but no SUMMARY line"; return; }
    if [[ ! $line =~ ^SUMMARY:\ ([0-9]+)\ tests,\ ([0-9]+)\ unexpected\ failures,\ ([0-9]+)\ skipped$ ]]; then
        echo "malformed SUMMARY line: $line"
        return
    fi
    t=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
    p=$(grep -c '^PASS: ' "$out") nf=$(grep -c '^FAIL: ' "$out") ns=$(grep -c '^SKIP: ' "$out")
    [ "$t" -eq $((p + nf + ns)) ] && [ "$f" -eq "$nf" ] && [ "$s" -eq "$ns" ] ||
        echo "SUMMARY says $t/$f/$s but the guest printed $((p + nf + ns)) verdicts, $nf FAIL, $ns SKIP"
}

if [ ! -f "$LIST" ]; then
    echo "SKIP: guestkit-qemu: no manifest ($LIST)"
    exit 0
fi
if ! command -v qemu-system-x86_64 >/dev/null; then
    echo "SKIP: guestkit-qemu: qemu-system-x86_64 is not installed"
    exit 0
fi
while IFS=$'\t' read -r name args want _desc; do
    case $name in '' | '#'*) continue ;; esac
    t="guestkit-qemu $name"
    img=$BUILD/guestkit/$name.elf
    if [ ! -f "$img" ]; then
        echo "FAIL: $t: $img is not built"
        continue
    fi
    app=()
    [ "$args" = - ] || app=(-append "$args")
    "$TOP/bin/qemu-guest" --timeout 60 -kernel "$img" "${app[@]}" >"$W/$name.out" 2>"$W/$name.err" </dev/null
    st=$?
    [ "$want" = triple ] && want=127
    why=
    [ "$st" = "$want" ] || why="exit status $st, expected $want"
    [ -n "$why" ] || ! grep -q '^FAIL: ' "$W/$name.out" || why=$(grep -m1 '^FAIL: ' "$W/$name.out")
    [ -n "$why" ] || why=$(summary_check "$W/$name.out")
    [ -n "$why" ] || why=$(extra_checks "$name" "$W/$name.out" | head -n 1)
    if [ -z "$why" ]; then
        echo "PASS: $t"
    else
        echo "FAIL: $t: $why"
        tail -n 15 "$W/$name.out" "$W/$name.err" | sed 's/^/    | /'
    fi
done <"$LIST"
