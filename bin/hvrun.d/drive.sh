# shellcheck shell=bash
# shellcheck disable=SC2034  # DRIVE_* are read by the sourcing scripts
# QEMU's -drive syntax for the launchers (bin/qemu-guest; bin/hvrun can use
# the same parser).  Sourced, never run.
#
#   -drive file=disk.qcow2[,format=qcow2|raw][,if=virtio][,readonly=on|off][,snapshot=on|off]
#   -drive [file=image.iso,]media=cdrom[,if=ide][,format=raw][,readonly=on]
#
# as qemu-system-x86_64 takes it (its "-drive" option), restricted to what
# hvkit's virtio-blk disks need.  Without format= the file's first bytes
# decide, as QEMU's probing does: the qcow2 magic "QFI\xfb" (docs/interop/
# qcow2.txt "Header": magic) means qcow2, anything else raw.

# hvkit_parse_drive SPEC: check SPEC and set DRIVE_FILE, DRIVE_FORMAT (raw or
# qcow2), DRIVE_IF (virtio or ide), DRIVE_READONLY (0 or 1), DRIVE_SNAPSHOT (on
# or off) and DRIVE_MEDIA (disk or cdrom: a CD-ROM drive, hv/dev/ide_cd.h,
# whose medium is read-only and raw, and may be missing); a usage error
# (hvkit_usage_error, exit 125) says what is wrong otherwise.
hvkit_parse_drive() {
    local spec=$1 item key value
    DRIVE_FILE='' DRIVE_FORMAT='' DRIVE_IF='' DRIVE_READONLY=0 DRIVE_SNAPSHOT=off DRIVE_MEDIA=disk
    local IFS=,
    for item in $spec; do
        key=${item%%=*} value=${item#*=}
        [[ $item == *=* ]] || hvkit_usage_error "-drive '$spec': '$item' is not KEY=VALUE"
        case $key in
        file) DRIVE_FILE=$value ;;
        format)
            case $value in
            raw | qcow2) DRIVE_FORMAT=$value ;;
            *) hvkit_usage_error "-drive '$spec': format '$value' is not supported (raw or qcow2)" ;;
            esac
            ;;
        if)
            case $value in
            virtio | ide) DRIVE_IF=$value ;;
            *) hvkit_usage_error "-drive '$spec': if=$value is not supported (if=virtio, or if=ide with media=cdrom)" ;;
            esac
            ;;
        media)
            case $value in
            disk | cdrom) DRIVE_MEDIA=$value ;;
            *) hvkit_usage_error "-drive '$spec': media=$value (use disk or cdrom)" ;;
            esac
            ;;
        readonly)
            case $value in
            on) DRIVE_READONLY=1 ;;
            off) DRIVE_READONLY=0 ;;
            *) hvkit_usage_error "-drive '$spec': readonly=$value (use on or off)" ;;
            esac
            ;;
        snapshot)
            # QEMU's snapshot=on: writes go to a temporary overlay, the
            # file stays as it was (bin/hvrun: every disk is one for now).
            case $value in
            on | off) DRIVE_SNAPSHOT=$value ;;
            *) hvkit_usage_error "-drive '$spec': snapshot=$value (use on or off)" ;;
            esac
            ;;
        *) hvkit_usage_error "-drive '$spec': unknown option '$key' (file, format, if, media, readonly, snapshot)" ;;
        esac
    done
    if [ "$DRIVE_MEDIA" = cdrom ]; then
        hvkit_check_cdrom "$spec"
        return
    fi
    [ "${DRIVE_IF:-virtio}" = virtio ] ||
        hvkit_usage_error "-drive '$spec': if=ide is for a CD-ROM only (add media=cdrom; disks are if=virtio)"
    DRIVE_IF=virtio
    [ -n "$DRIVE_FILE" ] || hvkit_usage_error "-drive '$spec': no file= given"
    if [ ! -f "$DRIVE_FILE" ]; then
        hvkit_say "-drive: '$DRIVE_FILE' does not exist or is not a regular file"
        exit "$HVKIT_STATUS_USAGE"
    fi
    if [ ! -r "$DRIVE_FILE" ] || { [ "$DRIVE_READONLY" = 0 ] && [ ! -w "$DRIVE_FILE" ]; }; then
        hvkit_say "-drive: '$DRIVE_FILE' is not $([ "$DRIVE_READONLY" = 0 ] && echo "readable and writable" || echo readable)" \
            "(readonly=on for a disk the guest must not change)"
        exit "$HVKIT_STATUS_USAGE"
    fi
    if [ -z "$DRIVE_FORMAT" ]; then
        if [ "$(head -c 4 "$DRIVE_FILE" | od -An -tx1 | tr -d ' \n')" = 514649fb ]; then
            DRIVE_FORMAT=qcow2
        else
            DRIVE_FORMAT=raw
        fi
    fi
}

# hvkit_check_cdrom SPEC: the rest of hvkit_parse_drive for media=cdrom: the
# drive sits on the IDE bus, its medium (if any) is an existing readable
# file, raw (an ISO 9660 image or any file of 2048-byte sectors), and the
# guest cannot write it, as QEMU's CD-ROM drive is read-only.
hvkit_check_cdrom() {
    local spec=$1
    [ "${DRIVE_IF:-ide}" = ide ] ||
        hvkit_usage_error "-drive '$spec': a CD-ROM is on if=ide (hv has no virtio CD-ROM)"
    DRIVE_IF=ide DRIVE_READONLY=1
    [ "${DRIVE_FORMAT:-raw}" = raw ] ||
        hvkit_usage_error "-drive '$spec': a CD-ROM's medium is a raw image (format=raw)"
    DRIVE_FORMAT=raw
    [ -n "$DRIVE_FILE" ] || return 0
    if [ ! -f "$DRIVE_FILE" ] || [ ! -r "$DRIVE_FILE" ]; then
        hvkit_say "-drive: '$DRIVE_FILE' does not exist or is not a readable regular file"
        exit "$HVKIT_STATUS_USAGE"
    fi
    if [ ! -s "$DRIVE_FILE" ]; then
        hvkit_say "-drive: '$DRIVE_FILE' is empty: a CD-ROM's medium needs at least one sector"
        exit "$HVKIT_STATUS_USAGE"
    fi
}

# The window and interrupt line of the Nth (0-based) virtio-mmio device on
# QEMU's microvm machine: its 24 transports of 512 bytes start at
# 0xfeb00000, the first device given takes the last transport and each
# further one the transport below, and transport T raises GSI 24 + T on the
# second I/O APIC.  Prints "virtio_mmio.device=512@0xADDR:GSI", the word
# Linux reads (and guestkit's virtio driver).
hvkit_microvm_virtio_word() {
    local t=$((23 - $1))
    printf 'virtio_mmio.device=512@0x%x:%d\n' $((0xfeb00000 + t * 512)) $((24 + t))
}
