#!/usr/bin/env bash
# The guest's physical memory map under hv is the PC's (hv/core/memmap.c):
# the mbinfo guest's memory map lines and mem_lower/mem_upper must be
# identical under bin/hvrun (QEMU, SVM) and on plain QEMU (bin/qemu-guest,
# the reference machine), for several amounts of RAM.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/mbinfo.elf

cases=(memmap-64M memmap-128M memmap-1000M)
skip_all_if "$(built_missing "$G" "$HV")" "${cases[@]}"

# map_lines OUT: what the guest was told about memory.
map_lines() {
    grep -E '^mbinfo: map |mem_lower [0-9]+ KiB' "$1"
}

# same_map NAME MiB: run mbinfo both ways with that RAM; PASS when both
# exit 0 and print the same map (and the map is not empty).
same_map() {
    local n=$1 mib=$2
    run_logged "$W/$n.plain.out" "$W/$n.plain.err" "$W/$n.plain.st" \
        "$TOP/bin/qemu-guest" --timeout 60 -m "$mib" -kernel "$G"
    run_logged "$W/$n.hv.out" "$W/$n.hv.err" "$W/$n.hv.st" \
        "$TOP/bin/hvrun" --hv "$HV" --timeout 60 -m "$mib" -kernel "$G"
    map_lines "$W/$n.plain.out" >"$W/$n.plain.map"
    map_lines "$W/$n.hv.out" >"$W/$n.hv.map"
    if [ "$(cat "$W/$n.plain.st")" != 0 ]; then
        fail "$n" "plain QEMU: status $(cat "$W/$n.plain.st")"
        show_log "$W/$n.plain.err"
    elif [ "$(cat "$W/$n.hv.st")" != 0 ]; then
        fail "$n" "under hv: status $(cat "$W/$n.hv.st")"
        show_log "$W/$n.hv.err"
    elif [ "$(grep -c '^mbinfo: map ' "$W/$n.plain.map")" -lt 3 ]; then
        fail "$n" "plain QEMU printed no memory map"
    elif ! diff -u "$W/$n.plain.map" "$W/$n.hv.map" >"$W/$n.diff"; then
        fail "$n" "the guest is told another memory map under hv (- plain QEMU, + hv)"
        sed 's/^/    /' "$W/$n.diff" | head -n 20
    else
        pass "$n"
    fi
}

run_case memmap-64M same_map memmap-64M 64
run_case memmap-128M same_map memmap-128M 128
run_case memmap-1000M same_map memmap-1000M 1000
finish_cases
