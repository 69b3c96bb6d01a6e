#!/usr/bin/env bash
# Install the Debian packages hvkit needs, and say so.
#
# Usage: mk/deps.sh GROUP...   (groups: build run test iso bochs fuzz all)
#
# Every `make` target that needs a package calls this first.  It only asks
# dpkg which packages are missing (fast, silent when all are present); when
# some are, it installs them with apt-get as root or through sudo, telling the
# user what it is doing.  On a system without apt it prints the list and stops.
set -euo pipefail

declare -A group=(
    [build]="gcc binutils make pkg-config check zlib1g-dev libdeflate-dev libisal-dev liblzma-dev libzstd-dev libxml2-dev graphviz"
    [run]="qemu-system-x86"
    [test]="qemu-system-x86 qemu-utils clang-format libvirt-clients gdb socat xorriso python3"
    [iso]="grub-pc-bin grub-common xorriso mtools"
    [bochs]="bochs bochs-term bochsbios vgabios grub-pc-bin grub-common xorriso mtools"
    [fuzz]="clang"
)
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build)
want=()
for g in "${groups[@]}"; do
    if [ "$g" = all ]; then
        for k in "${!group[@]}"; do want+=(${group[$k]}); done
    elif [ -n "${group[$g]+x}" ]; then
        want+=(${group[$g]})
    else
        echo "mk/deps.sh: unknown package group '$g'" >&2
        exit 2
    fi
done
# Unique, stable order.
mapfile -t want < <(printf '%s\n' "${want[@]}" | awk '!seen[$0]++')

if ! command -v dpkg-query >/dev/null 2>&1; then
    missing=()
    for p in "${want[@]}"; do missing+=("$p"); done
    echo "hvkit: this is not a Debian-like system (no dpkg)." >&2
    echo "hvkit: please install the equivalents of these Debian packages:" >&2
    echo "    ${missing[*]}" >&2
    # Carry on if the tools seem to be there anyway; the build will say what is missing.
    exit 0
fi

missing=()
for p in "${want[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "hvkit: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
    echo "hvkit: (using sudo; you may be asked for your password)"
else
    echo "hvkit: not root and no sudo: please run as root:" >&2
    echo "    apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q >/dev/null || echo "hvkit: apt-get update failed; trying the install anyway" >&2
if ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    echo "hvkit: apt-get install failed; please install: ${missing[*]}" >&2
    exit 1
fi
echo "hvkit: packages installed."
