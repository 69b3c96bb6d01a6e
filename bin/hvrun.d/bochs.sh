# shellcheck shell=bash
# shellcheck disable=SC2034  # EMU_NAME is used by the sourcing script
# The Bochs back end of bin/hvrun (--emulator bochs).  Sourced, never run.
# It implements the four functions described at the top of
# bin/hvrun.d/qemu.sh: emu_check, emu_run, emu_guest_status and
# emu_describe_status.
#
# Why Bochs: QEMU's TCG emulates AMD SVM but not Intel VT-x.  Bochs 2.7
# emulates both: VT-x with EPT and unrestricted guest (cpu model
# corei7_skylake_x) and SVM with nested paging (cpu model ryzen).  How it
# behaves, and what it takes to run it headless, is in docs/emulators.md.
#
# How a run goes:
#  1. Bochs has no Multiboot loader, so mk/iso/mkiso.sh puts hv and the guest
#     on a GRUB ISO; GRUB passes the same command line and module string that
#     QEMU's -kernel/-initrd would.
#  2. We write a bochsrc: the CPU model for the vendor, COM1 to a file, the
#     "term" display on a dumb terminal (there is no null display; the default
#     one waits 30 s for a VNC client), no sound, the clock free-running.
#  3. Bochs's debugger is compiled in, so it is driven by an rc file:
#     "continue" starts the machine, "quit" ends Bochs when it stops.
#  4. COM1 is followed as it grows.  GRUB's own screen output (escape codes,
#     "Booting ...") comes before hv's first "[hv] " line and is held back;
#     it is shown on stderr only if hv never speaks.  When hv's
#     "[hv] exit: ..." line arrives, the run is over and Bochs is stopped with
#     SIGINT (it ignores SIGTERM).  Bochs's own exit status says nothing about
#     the guest, so hvrun takes the outcome from that line alone.

HVRUN_BOCHS=${HVRUN_BOCHS:-bochs}
EMU_NAME=Bochs
# The vendor emu_check was asked about; emu_run also reads it from hv's
# command line ("vendor=svm|vmx"), which is authoritative.
BOCHS_VENDOR=svm

BOCHS_BIOS=${HVRUN_BOCHS_BIOS:-/usr/share/bochs/BIOS-bochs-latest}
BOCHS_VGABIOS=${HVRUN_BOCHS_VGABIOS:-/usr/share/vgabios/vgabios.bin}

# bochs_term_plugin: is Bochs's "term" display library installed?  It is a
# plugin in its own Debian package (bochs-term).
bochs_term_plugin() {
    local d
    for d in ${LTDL_LIBRARY_PATH:-} /usr/lib/*/bochs/plugins /usr/lib/bochs/plugins \
        /usr/local/lib/bochs/plugins; do
        [ -e "$d/libbx_term_gui.so" ] && return 0
    done
    return 1
}

emu_check() {
    BOCHS_VENDOR=$1
    local missing=()
    command -v "$HVRUN_BOCHS" >/dev/null 2>&1 || missing+=("bochs")
    bochs_term_plugin || missing+=("bochs-term")
    [ -f "$BOCHS_BIOS" ] || missing+=("bochsbios")
    [ -f "$BOCHS_VGABIOS" ] || missing+=("vgabios")
    command -v grub-mkrescue >/dev/null 2>&1 && [ -d /usr/lib/grub/i386-pc ] ||
        missing+=("grub-pc-bin")
    command -v xorriso >/dev/null 2>&1 || missing+=("xorriso")
    command -v mformat >/dev/null 2>&1 || missing+=("mtools")
    if [ ${#missing[@]} -gt 0 ]; then
        echo "hvrun: --emulator bochs needs the Debian packages: ${missing[*]}" \
            "(run 'bash mk/deps.sh bochs')" >&2
        return 1
    fi
    return 0
}

# bochs_cpu_model VENDOR: the Bochs CPU model that emulates VENDOR.
#  vmx: corei7_skylake_x has VMX with EPT, VPID and unrestricted guest, and
#       the VMCS revision most Bochs models share (hv reads IA32_VMX_BASIC).
#  svm: ryzen has SVM with nested paging and NRIPS.  (The generic model with
#       "cpuid: svm=1" runs SVM but does not advertise it in CPUID.)
bochs_cpu_model() {
    case $1 in
    vmx) echo corei7_skylake_x ;;
    *) echo ryzen ;;
    esac
}

# bochs_com2_line: with hvrun --control, COM2 connects to the manager's
# loopback port (Bochs 2.7's serial socket modes are TCP only).
bochs_com2_line() {
    [ -n "${HVRUN_COM2:-}" ] || return 0
    echo "com2: enabled=1, mode=socket-client, dev=${HVRUN_COM2#tcp:}"
}

# bochs_write_config DIR ISO MEM_MIB VENDOR: the bochsrc for one run.
bochs_write_config() {
    local dir=$1 iso=$2 mem=$3 vendor=$4
    cat >"$dir/bochsrc" <<RC
# Written by bin/hvrun.d/bochs.sh for one hvkit run.
megs: $mem
romimage: file=$BOCHS_BIOS
vgaromimage: file=$BOCHS_VGABIOS
# reset_on_triple_fault=0: a triple fault in hv itself stops the machine
# (Bochs reports it) instead of rebooting into GRUB forever.  ips is the
# emulated speed; with "clock: sync=none" it only sets how many instructions
# make one emulated second, so a low value shortens the BIOS's and GRUB's
# timed waits (a boot in about 3 s of CPU instead of 12 s at 50 M).
cpu: model=$(bochs_cpu_model "$vendor"), ips=4000000, reset_on_triple_fault=0
ata0-master: type=cdrom, path=$iso, status=inserted
$(outerdisk_bochs_lines)
boot: cdrom
com1: enabled=1, mode=file, dev=$dir/com1.out
$(bochs_com2_line)
# Run as fast as the host allows; time inside the machine is instruction-based.
clock: sync=none
speaker: enabled=0
sound: waveoutdrv=dummy
display_library: term
port_e9_hack: enabled=0
log: $dir/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
RC
    # The debugger's script: run the machine; when it stops, leave Bochs.
    printf 'continue\nquit\n' >"$dir/bochs.rc"
}

# bochs_follow DIR PID: copy COM1 to stdout as it grows until Bochs (the
# timeout(1) process PID) ends; stop it once hv's exit line has gone past.
bochs_follow() {
    local dir=$1 pid=$2 line started=0 ended=0
    : >"$dir/grub.out"
    while IFS= read -r line || [ -n "$line" ]; do
        if [ "$started" = 0 ]; then
            # GRUB's screen output shares COM1 and may precede hv's first line
            # on the same line (escape codes, a carriage return).
            if [[ $line == *"[hv] "* ]]; then
                started=1
                line="[hv] ${line#*"[hv] "}"
            else
                printf '%s\n' "$line" >>"$dir/grub.out"
                continue
            fi
        fi
        printf '%s\n' "$line"
        if [ "$ended" = 0 ] && [[ ${line%$'\r'} == "[hv] exit: "* ]]; then
            ended=1
            # hv has said how the guest ended: nothing more will come.
            # timeout(1) passes SIGINT on to Bochs, which then runs "quit".
            kill -INT "$pid" 2>/dev/null
        fi
    done < <(tail -n +1 -s 0.2 -f --pid="$pid" "$dir/com1.out" 2>/dev/null)
    [ "$started" = 1 ] && return 0
    # hv never spoke: what GRUB said may explain why (a missing file, a bad
    # Multiboot header).  Printable text only.
    local text
    text=$(tr -d '\r' <"$dir/grub.out" | sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' \
        -e '/^[[:space:]]*$/d' -e 's/^/    /')
    if [ -n "$text" ]; then
        echo "hvrun: output before hv started (GRUB):" >&2
        printf '%s\n' "$text" >&2
    fi
}

emu_run() {
    local hv=$1 cmdline=$2 module=$3 mem=$4 secs=$5 dir=$HVRUN_TMP guest args vendor status
    # The module string is "PATH ARGS": mkiso.sh takes the two apart and
    # gives GRUB the same string back.  More guests (one per line after the
    # first) go to mkiso.sh as further PATH "ARGS" pairs.
    local first more=() line
    first=${module%%$'\n'*}
    guest=${first%% *} args=
    [[ $first == *" "* ]] && args=${first#* }
    if [[ $module == *$'\n'* ]]; then
        while IFS= read -r line; do
            more+=("${line%% *}" "$([[ $line == *" "* ]] && echo "${line#* }")")
        done <<<"${module#*$'\n'}"
    fi
    # hv spins rather than halts while its guests wait, unless --idle
    # chose.  With "clock: sync=none" Bochs fast-forwards its clock through
    # a halted CPU, so time inside the machine would race ahead of the
    # host's while a guest waits for the host, its console or a control
    # request (docs/emulators.md).
    case " $cmdline " in
    *" idle="*) ;;
    *) cmdline="idle=spin $cmdline" ;;
    esac
    vendor=$BOCHS_VENDOR
    case " $cmdline " in
    *" vendor=vmx "*) vendor=vmx ;;
    *" vendor=svm "*) vendor=svm ;;
    esac
    if ! "$TOP/mk/iso/mkiso.sh" "$hv" "$guest" "$args" "$cmdline" "$dir/boot.iso" "${more[@]}" \
        2>"$dir/mkiso.err"; then
        sed 's/^/hvrun: /' "$dir/mkiso.err" >&2
        echo "mkiso" >"$dir/failed"
        return 1
    fi
    bochs_write_config "$dir" "$dir/boot.iso" "$mem" "$vendor"
    : >"$dir/com1.out"
    if [ "${HVRUN_TRACE:-0}" = 1 ]; then
        echo "${HVKIT_PROG:-hvrun}: running: $(hvkit_quote env TERM=dumb "$HVRUN_BOCHS" -q -unlock \
            -f "$dir/bochsrc" -rc "$dir/bochs.rc") (bochsrc kept only for the run)" >&2
    fi
    # Bochs ignores SIGTERM, so the time limit is enforced with SIGINT (the
    # debugger then reads "quit" from the rc file) and, 10 s later, SIGKILL.
    # -unlock: a killed run may leave the ISO's .lock file behind.
    (cd "$dir" && exec env TERM=dumb timeout -s INT -k 10 "$secs" "$HVRUN_BOCHS" -q -unlock \
        -f "$dir/bochsrc" -rc "$dir/bochs.rc" </dev/null >"$dir/bochs.out" 2>&1) &
    local pid=$!
    bochs_follow "$dir" "$pid"
    wait "$pid"
    status=$?
    # timeout(1): 124 when the limit expired, 137 when SIGKILL was needed.
    [ "$status" -eq 137 ] && status=124
    # Bochs's own complaints (a bad bochsrc, a triple fault of the whole
    # machine) are worth showing, once each, without the log's prefix; its
    # "panic" on hv's write to the shutdown port (hv/core/ending.c) is not.
    grep -h '>>PANIC<<' "$dir/bochs.out" "$dir/bochs.log" 2>/dev/null | grep -v 'Shutdown port' |
        sed 's/^.*>>PANIC<< *//' | awk '!seen[$0]++' | sed 's/^/hvrun: bochs panicked: /' >&2
    return "$status"
}

emu_guest_status() {
    # Bochs's exit status never carries the guest's code.
    return 0
}

emu_describe_status() {
    local s=$1
    if [ -f "$HVRUN_TMP/failed" ]; then
        echo "the boot ISO could not be built (see the message above)"
    elif grep -q '3rd (.*) exception with no resolution' "$HVRUN_TMP/bochs.log" 2>/dev/null; then
        echo "the outer machine triple-faulted (Bochs stopped it: reset_on_triple_fault=0)"
    else
        echo "Bochs exited with status $s"
    fi
}
