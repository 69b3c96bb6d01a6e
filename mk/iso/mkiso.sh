#!/usr/bin/env bash
# Build a bootable GRUB ISO that starts hv with one guest, for emulators and
# machines that have no Multiboot loader of their own (Bochs, real hardware).
#
# Usage: mk/iso/mkiso.sh HV.elf GUEST "GUEST ARGS" "HV ARGS" OUT.iso [GUEST2 "ARGS2"]...
#
# Further GUEST "ARGS" pairs after OUT.iso become further modules, in that
# order (hv runs one domain per module).
#
# GRUB 2 loads HV.elf as the Multiboot kernel (Multiboot spec 0.6.96 §3.3) and
# GUEST as its only module (§3.3, "mods_addr").  The module's command line is
# made equal to what `qemu-system-x86_64 -kernel HV.elf -initrd "GUEST ARGS"`
# gives, "GUEST ARGS" with GUEST spelled as given here, so hv and the guest see
# the same argv whichever way they were booted.  The kernel's own command line
# starts with its path, as under QEMU.
#
# One difference remains: GRUB splits the arguments into words and joins them
# with single spaces, so a run of blanks inside GUEST ARGS arrives as one
# blank (the guest's argv is the same; its raw command line is not).
#
# The menu has timeout 0 and GRUB talks to the first serial port as well as
# the screen, so the same ISO boots headless (Bochs with com1 to a file,
# `qemu-system-x86_64 -cdrom OUT.iso -serial stdio`) and on a real machine.
# Needs grub-mkrescue and grub-pc-bin (BIOS GRUB), xorriso and mtools: see
# mk/deps.sh group "iso" (and objcopy, from the binutils that build hv).
set -euo pipefail

usage() {
    echo "usage: mk/iso/mkiso.sh HV.elf GUEST \"GUEST ARGS\" \"HV ARGS\" OUT.iso [GUEST2 \"ARGS2\"]..." >&2
    exit 2
}
[ $# -ge 5 ] && [ $((($# - 5) % 2)) -eq 0 ] || usage
hv=$1 guest=$2 guest_args=$3 hv_args=$4 out=$5
shift 5
# The further modules: paths and argument strings, pairwise.
more_guests=() more_args=()
while [ $# -gt 0 ]; do
    more_guests+=("$1") more_args+=("$2")
    shift 2
done

for f in "$hv" "$guest" "${more_guests[@]}"; do
    if [ ! -f "$f" ]; then
        echo "mkiso: $f: no such file" >&2
        exit 2
    fi
done
# GRUB rebuilds the string from the words and puts a backslash before every
# quote and backslash in them (grub_create_loader_cmdline), so such arguments
# would not arrive as written: refuse them rather than pass something else.
for s in "$hv" "$guest" "$guest_args" "$hv_args" "${more_guests[@]}" "${more_args[@]}"; do
    case $s in
    *[\\\'\"]*)
        echo "mkiso: quotes and backslashes cannot pass through GRUB unchanged: $s" >&2
        exit 2
        ;;
    esac
done
grub_dir=/usr/lib/grub/i386-pc
if ! command -v grub-mkrescue >/dev/null || [ ! -d "$grub_dir" ]; then
    echo "mkiso: grub-mkrescue with BIOS support is missing: run 'bash mk/deps.sh iso'" >&2
    exit 2
fi
for tool in xorriso mformat; do
    if ! command -v "$tool" >/dev/null; then
        echo "mkiso: $tool is missing: run 'bash mk/deps.sh iso'" >&2
        exit 2
    fi
done

# Quote one word for grub.cfg.  GRUB's script syntax follows the shell: inside
# single quotes nothing is special, and a quote itself is written '\''.
grub_quote() {
    printf "'%s'" "${1//\'/\'\\\'\'}"
}
# Split an argument string on blanks into quoted words, the way a Multiboot
# command line is split into argv; GRUB joins them back with single spaces.
grub_words() {
    local w quoted=() words
    read -r -a words <<<"$1" || true
    for w in "${words[@]}"; do quoted+=("$(grub_quote "$w")"); done
    echo "${quoted[*]}"
}

stage=$(mktemp -d "${TMPDIR:-/tmp}/hvkit-iso.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub"
# hv goes without its debugging sections (DWARF, four fifths of the file):
# GRUB loads only the program segments, which are the same, and reading the
# rest from the CD through the BIOS is a fifth of an emulated boot's time
# in Bochs.  Debuggers take the symbols from the build's hv.elf.
if ! log=$(objcopy --strip-debug "$hv" "$stage/boot/hv.elf" 2>&1); then
    echo "mkiso: objcopy cannot read $hv:" >&2
    echo "$log" >&2
    exit 1
fi
cp "$guest" "$stage/boot/guest"
# One module line per further guest, each file under a name of its own.
more_lines=
for i in "${!more_guests[@]}"; do
    cp "${more_guests[$i]}" "$stage/boot/guest$((i + 1))"
    more_lines+="    module /boot/guest$((i + 1)) $(grub_words "${more_guests[$i]} ${more_args[$i]}")"$'\n'
done

# GRUB 2's "multiboot" and "module" commands do not put the file's own name
# into the command line or module string: only the words after the file name
# become the string.  QEMU's strings start with the path, so we write the paths
# as given first ourselves.  gfxpayload=text keeps GRUB from probing VBE modes
# (the kernel asks for no video mode, Multiboot spec §3.1.2 flag bit 2).
cat >"$stage/boot/grub/grub.cfg" <<CFG
# Written by mk/iso/mkiso.sh.
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
set timeout_style=hidden
set default=0
menuentry "hvkit: $(basename "$guest")" {
    set gfxpayload=text
    multiboot /boot/hv.elf $(grub_words "$hv $hv_args")
    module /boot/guest $(grub_words "$guest $guest_args")
${more_lines}    boot
}
CFG

# Only the modules this menu needs: a smaller image that builds and boots
# faster.  No locales, fonts or themes.
mkdir -p "$(dirname "$out")"
if ! log=$(grub-mkrescue -d "$grub_dir" -o "$out" \
    --install-modules="multiboot serial terminal normal boot configfile biosdisk iso9660 part_msdos" \
    --locales= --fonts= --themes= --compress=no \
    "$stage" 2>&1); then
    echo "mkiso: grub-mkrescue failed:" >&2
    echo "$log" >&2
    exit 1
fi
