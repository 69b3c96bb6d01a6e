#!/usr/bin/env bash
# The GRUB ISO that carries hv to Bochs (mk/iso/mkiso.sh) is an ordinary
# bootable CD: it must boot under `qemu-system-x86_64 -cdrom` as well, here
# with SVM, and give hv and the guest exactly what QEMU's own Multiboot
# loader (-kernel/-initrd) gives them:
#   - hv's command line starts with its path, so that "mem=32M" is hv's
#     first option and is obeyed;
#   - the module string is "GUEST-PATH ARGS", as -initrd "GUEST-PATH ARGS"
#     makes it (hv logs it: "guest '...'");
#   - the guest's verdicts equal those on plain QEMU (lib/guests.bash).
# The same ISO path in Bochs, without vendor= on hv's command line: hv must
# pick its backend by CPUID, VT-x on an Intel model and SVM on an AMD one.
# And mkiso.sh refuses what it cannot pass through GRUB, with a message.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/guests.bash"

W=$IT_WORK
MKISO=$TOP/mk/iso/mkiso.sh
GUEST=$BUILD/guestkit/mbinfo.elf
ARGS="one two three"

# mkiso_refuses NAME WORDS ARGS...: mkiso exits 2 and says WORDS.
mkiso_refuses() {
    local name=$1 words=$2 st
    shift 2
    "$MKISO" "$@" >"$W/refuse.out" 2>"$W/refuse.err"
    st=$?
    if [ "$st" != 2 ]; then
        fail "$name" "mkiso.sh exited with $st, expected 2"
    elif ! grep -qF -- "$words" "$W/refuse.err"; then
        fail "$name" "mkiso.sh did not say '$words'"
        show_log "$W/refuse.err"
    elif [ -e "$W/refused.iso" ]; then
        fail "$name" "mkiso.sh wrote an ISO anyway"
    else
        pass "$name"
    fi
}

# split_com1 FILE PREFIX: COM1 output -> PREFIX.err (hv's lines) and
# PREFIX.out (the guest's), dropping GRUB's screen output before hv's first
# line, as bin/hvrun.d/bochs.sh does.
split_com1() {
    tr -d '\r' <"$1" | awk -v out="$2.out" -v err="$2.err" '
        !started { i = index($0, "[hv] "); if (!i) next; started = 1; $0 = substr($0, i) }
        /^\[hv\] / { print > err; next }
        { print > out }'
    touch "$2.out" "$2.err"
}

mkiso_refuses "mkiso: missing guest" "no such file" "$BUILD/hv/hv.elf" "$W/none.elf" "" "" \
    "$W/refused.iso"
mkiso_refuses "mkiso: quote in an argument" "quotes and backslashes" "$BUILD/hv/hv.elf" \
    "$BUILD/hv/hv.elf" "it's" "" "$W/refused.iso"
mkiso_refuses "mkiso: usage" "usage:" "$BUILD/hv/hv.elf"

# Without Bochs, hvrun --emulator bochs names the package and exits 125.
name="hvrun --emulator bochs without Bochs"
if [ -f "$HV" ] && [ -f "$BUILD/guestkit/hello.elf" ]; then
    HVRUN_BOCHS=/nonexistent/bochs "$TOP/bin/hvrun" --emulator bochs --vendor vmx \
        -kernel "$BUILD/guestkit/hello.elf" >"$W/nobochs.out" 2>"$W/nobochs.err"
    st=$?
    if [ "$st" != 125 ]; then
        fail "$name" "status $st, expected 125"
    elif ! grep -q 'needs the Debian packages: bochs' "$W/nobochs.err"; then
        fail "$name" "no message naming the package"
        show_log "$W/nobochs.err"
    else
        pass "$name"
    fi
else
    skip "$name" "hv or the hello guest is not built"
fi

why=$(hv_missing)
[ -n "$why" ] || [ -f "$GUEST" ] || why="the mbinfo guest is not built ($GUEST)"
if [ -z "$why" ] && ! command -v "${HVRUN_QEMU:-qemu-system-x86_64}" >/dev/null; then
    why="QEMU is not installed (bash mk/deps.sh run)"
fi
if [ -n "$why" ]; then
    skip "ISO boots under QEMU -cdrom (SVM)" "$why"
    exit 0
fi

name="ISO boots under QEMU -cdrom (SVM)"
if ! "$MKISO" "$HV" "$GUEST" "$ARGS" "mem=32M vendor=svm" "$W/boot.iso" 2>"$W/mkiso.err"; then
    fail "$name" "mkiso.sh failed"
    show_log "$W/mkiso.err"
    exit 0
fi
# The machine hvrun nests hv in (bin/hvrun.d/qemu.sh), from a CD this time.
(
    # shellcheck disable=SC2034  # read by the sourced back end
    HVKIT_PROG=bochs-iso
    . "$TOP/bin/hvrun.d/qemu.sh"
    qemu_machine_args
    timeout -k 5 60 "$HVRUN_QEMU" "${QEMU_ARGS[@]}" -m 96M -cdrom "$W/boot.iso" \
        </dev/null >"$W/iso.com1" 2>"$W/iso.qemu.err"
    echo $? >"$W/iso.qemu.st"
)
split_com1 "$W/iso.com1" "$W/iso"
# QEMU's status (N << 1) | 1 carries the guest's code N (isa-debug-exit).
qs=$(cat "$W/iso.qemu.st")
if [ $((qs & 1)) = 1 ]; then echo $((qs >> 1)) >"$W/iso.st"; else echo 126 >"$W/iso.st"; fi
run_logged "$W/plain.out" "$W/plain.err" "$W/plain.st" \
    "$TOP/bin/qemu-guest" --timeout 60 -m 32M -kernel "$GUEST" -append "$ARGS"

if ! grep -qF "[hv] guest '$GUEST $ARGS'" "$W/iso.err"; then
    fail "$name" "hv did not get the module string '$GUEST $ARGS' (QEMU -initrd's)"
    show_log "$W/iso.err"
elif ! grep -q 'guest RAM 32 MiB' "$W/iso.err"; then
    fail "$name" "hv did not obey mem=32M: its command line must start with its path"
    show_log "$W/iso.err"
else
    guests_judge "$name" 0 "$W/plain" "$W/iso"
fi

# auto_vendor VENDOR: boot hv in Bochs with the CPU model for VENDOR but no
# vendor= option (bin/hvrun.d/bochs.sh's emu_run, given hv's command line
# directly); hv must choose VENDOR's backend and run the guest.
auto_vendor() {
    local v=$1 name="hv picks $1 by CPUID in Bochs" st
    (
        # shellcheck disable=SC2034  # read by the sourced back end
        HVKIT_PROG=bochs-iso HVRUN_TMP=$W/auto-$v
        mkdir -p "$HVRUN_TMP"
        . "$TOP/bin/hvrun.d/common.sh"
        . "$TOP/bin/hvrun.d/bochs.sh"
        emu_check "$v" || exit 125
        emu_run "$HV" "mem=16M" "$BUILD/guestkit/hello.elf auto" 80 60
    ) >"$W/auto-$v.com1" 2>"$W/auto-$v.stderr"
    st=$?
    if [ "$st" = 124 ]; then
        fail "$name" "timeout"
    elif ! grep -q "^\[hv\] backend $v," "$W/auto-$v.com1"; then
        fail "$name" "hv did not choose the $v backend"
        show_log "$W/auto-$v.com1"
        show_log "$W/auto-$v.stderr"
    elif ! grep -q '^\[hv\] exit: guest code=0' "$W/auto-$v.com1" ||
        ! grep -q '^Hello, auto!' "$W/auto-$v.com1"; then
        fail "$name" "the guest did not run to the end"
        show_log "$W/auto-$v.com1"
    else
        pass "$name"
    fi
}

bochs_why=$(
    # shellcheck disable=SC2034  # read by the sourced back end
    HVKIT_PROG=bochs-iso
    . "$TOP/bin/hvrun.d/bochs.sh"
    # shellcheck disable=SC2069  # the message into the capture, stdout away
    emu_check vmx 2>&1 >/dev/null
)
[ -f "$BUILD/guestkit/hello.elf" ] || bochs_why="the hello guest is not built"
for v in vmx svm; do
    if [ -n "$bochs_why" ]; then
        skip "hv picks $v by CPUID in Bochs" "$bochs_why"
    else
        run_case "auto-$v" auto_vendor "$v"
    fi
done
finish_cases
