. "$(dirname "$0")/../../grade-lib.bash"
# The domain `files`: the hotdisk guest, which looks for disks that appear
# while it runs (virtio-mmio has no hot-plug notification: it probes the
# windows), writes its mark into each, and notices when one is gone.
pattern_domain files
cp "$HVKIT_BUILD/guestkit/hotdisk.elf" kernels/
sed -i "s|<kernel>$PWD/kernels/pattern.elf</kernel>|<kernel>$PWD/kernels/hotdisk.elf</kernel>\n    <cmdline>watch disks=2</cmdline>|" files.xml
virsh -q define files.xml >/dev/null && virsh -q start files >/dev/null || exit 1
console_says files '^hotdisk: watching' && exit 0
echo "setup: domain files did not start watching" >&2
exit 1
