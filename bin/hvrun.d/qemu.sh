# shellcheck shell=bash
# shellcheck disable=SC2034  # the constants and EMU_NAME are used by the sourcing scripts
# The QEMU back end of bin/hvrun (and the whole of bin/qemu-guest's machine).
# Sourced, never run.
#
# An emulator back end bin/hvrun.d/NAME.sh, selected with --emulator NAME,
# defines these four functions (bochs.sh implements the same interface):
#
#   emu_check VENDOR
#       Is the emulator installed and able to emulate VENDOR (svm or vmx)?
#       Returns 0 if so; otherwise prints why on stderr (with the package to
#       install) and returns 1, and hvrun exits 125.
#
#   emu_run HV CMDLINE MODULE MEM_MIB SECONDS
#       Boots the Multiboot kernel HV with the command line CMDLINE (hv's
#       own arguments, e.g. "mem=128M vendor=svm"; the loader puts HV's file
#       name in front, as QEMU and GRUB do) and one Multiboot module: the
#       guest.  MODULE is the module's string, exactly as the user wrote it:
#       the guest's path, then a space and its -append arguments if any.  The
#       back end escapes it for its loader itself.  Several guests (one
#       domain each, hvrun --domain) come as several such strings, one per
#       line, each a module of its own in that order.  MEM_MIB is the outer
#       machine's RAM in MiB.  Writes everything the outer machine sends to
#       COM1 to stdout as it arrives, and the emulator's own complaints to
#       stderr.  Stops the emulator after SECONDS and then returns 124;
#       otherwise returns the emulator's exit status.  With HVRUN_TRACE=1 it
#       first prints the command it runs on stderr ("hvrun: running: ...").
#       It may use the private directory $HVRUN_TMP, which hvrun removes,
#       and $TOP, the repository (e.g. for mk/iso/mkiso.sh).
#
#   emu_guest_status STATUS
#       Given emu_run's status, prints the guest's exit code N if the
#       emulator's exit status carries one (QEMU: (N << 1) | 1 from
#       isa-debug-exit), or nothing if it cannot tell (Bochs always).  hvrun
#       cross-checks it against hv's "[hv] exit: guest code=N" line.
#
#   emu_describe_status STATUS
#       Prints a short phrase for an exit status that ended the run without
#       an outcome, e.g. "QEMU could not start (see its message above)".

HVRUN_QEMU=${HVRUN_QEMU:-qemu-system-x86_64}
EMU_NAME=QEMU

# qemu_machine_args: the outer machine every hvkit run uses, shared with
# bin/qemu-guest so that "plain QEMU" and "QEMU under hv" differ only in what
# they boot.
#  -accel tcg -cpu max: the only way to get SVM without hardware support
#      (QEMU's TCG emulates SVM with nested paging; it does not emulate VMX).
#  -nodefaults -display none: no VGA, no network card, no monitor: a faster
#      boot and nothing but COM1 on stdout.
#  -no-reboot: a triple fault powers the machine off instead of looping.
#  isa-debug-exit at port 0xf4: writing N there ends QEMU with status
#      (N << 1) | 1, the guest's way to report its exit code.
qemu_machine_args() {
    QEMU_ARGS=(-accel tcg -cpu max -nodefaults -display none -no-reboot
        -serial stdio -device "isa-debug-exit,iobase=0xf4,iosize=4")
}

emu_check() {
    if ! command -v "$HVRUN_QEMU" >/dev/null 2>&1; then
        echo "hvrun: $HVRUN_QEMU not found: install QEMU (Debian package qemu-system-x86," \
            "or run 'bash mk/deps.sh run')" >&2
        return 1
    fi
    if [ "$1" = vmx ]; then
        echo "hvrun: QEMU's TCG does not emulate Intel VT-x: use --emulator bochs with" \
            "--vendor vmx" >&2
        return 1
    fi
    return 0
}

# qemu_exec SECONDS ARGS...: run QEMU with a time limit, its stdin detached
# (so it never puts a terminal into raw mode) unless HVRUN_CONSOLE_INPUT is
# 1 (hvrun --console-input: hvrun's stdin, kept on fd 3, feeds COM1 through
# -serial stdio), its stderr kept in
# $HVRUN_TMP/qemu.err and replayed afterwards without the "terminating on
# signal" line our own timeout causes.  Returns QEMU's status, or 124.
qemu_exec() {
    local secs=$1 status
    shift
    if [ "${HVRUN_TRACE:-0}" = 1 ]; then
        echo "${HVKIT_PROG:-hvrun}: running: $(hvkit_quote "$HVRUN_QEMU" "$@")" >&2
    fi
    # --foreground keeps QEMU in our process group, so ^C reaches it; -k
    # kills it if it ignores the polite SIGTERM for 5 seconds.
    if [ "${HVRUN_CONSOLE_INPUT:-0}" = 1 ]; then
        timeout --foreground -k 5 "$secs" "$HVRUN_QEMU" "$@" <&3 2>"$HVRUN_TMP/qemu.err"
    else
        timeout --foreground -k 5 "$secs" "$HVRUN_QEMU" "$@" </dev/null 2>"$HVRUN_TMP/qemu.err"
    fi
    status=$?
    grep -v 'terminating on signal' "$HVRUN_TMP/qemu.err" >&2
    # timeout(1) says 124 when it sent SIGTERM, 137 when it had to use SIGKILL.
    [ "$status" -eq 137 ] && status=124
    return "$status"
}

emu_run() {
    local hv=$1 cmdline=$2 module=$3 mem=$4 secs=$5
    qemu_machine_args
    # QEMU's -initrd takes a comma-separated list of modules, each "FILE
    # ARGS"; a literal comma is written as two.  Its Multiboot loader passes
    # the whole "FILE ARGS" text as the module's string (Multiboot spec 3.3).
    # MODULE holds one module per line (several guests: hvrun --domain).
    local line initrd=
    while IFS= read -r line; do
        initrd+=${initrd:+,}${line//,/,,}
    done <<<"$module"
    QEMU_ARGS+=(-m "${mem}M" -kernel "$hv" -append "$cmdline" -initrd "$initrd")
    # Files for hv's own disk driver (outerdisk.sh), if any.
    QEMU_ARGS+=("${OUTERDISK_QEMU_ARGS[@]}")
    # hvrun --control: COM2 (the second -serial) connects to the manager's
    # Unix socket, which is listening already.
    if [ -n "${HVRUN_COM2:-}" ]; then
        QEMU_ARGS+=(-chardev "socket,id=hvctl,path=${HVRUN_COM2#unix:}" -serial chardev:hvctl)
    fi
    qemu_exec "$secs" "${QEMU_ARGS[@]}"
}

# qemu_failed_to_start: QEMU exits with status 1 both when a guest writes 0
# to isa-debug-exit and when QEMU itself refuses to start (bad kernel image,
# bad option).  In the second case it has printed an error on stderr, as
# "qemu-system-x86_64: ..." or, from some loaders, "qemu: ..." (a text file
# as -kernel gives "qemu: invalid kernel header").  Warnings do not count.
qemu_failed_to_start() {
    grep -v 'warning:' "$HVRUN_TMP/qemu.err" 2>/dev/null | grep -qE '^qemu(-system-[a-z0-9_]+)?: '
}

emu_guest_status() {
    local s=$1
    [ "$s" -ne 124 ] || return 0
    if [ $((s & 1)) -eq 1 ] && ! { [ "$s" -eq 1 ] && qemu_failed_to_start; }; then
        echo $((s >> 1))
    fi
}

emu_describe_status() {
    local s=$1
    if [ "$s" -eq 0 ]; then
        echo "the outer machine reset or powered off (QEMU status 0: a triple fault with -no-reboot)"
    elif [ "$s" -eq 1 ] && qemu_failed_to_start; then
        echo "QEMU could not start (see its message above)"
    else
        echo "QEMU exited with status $s"
    fi
}
