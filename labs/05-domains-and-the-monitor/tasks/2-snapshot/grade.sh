# shellcheck shell=bash
# The snapshot round trip: hv logged a savevm and then a loadvm of the same
# snapshot; QEMU's qemu-img listed it with the VM SIZE hv wrote; the saved
# session shows the counter as hv's recorder saw it paused, then moved on,
# then back at that value; the snapshot is gone from the disk now (delvm),
# which QEMU's qemu-img finds clean, and the guest runs.
. "$LAB_TASKS/lib.bash"
# hv's lines: "[hv] savevm 'NAME': BYTES bytes of VM state in MS ms".
name=$(sed -n "s/^\[hv\] savevm '\(.*\)': [0-9]* bytes of VM state in .*/\1/p" "$D/hv.log" | tail -n 1)
if [ -z "$name" ]; then
    miss "a savevm hv carried out (its log, $D/hv.log, has none)"
    finish
fi
size=$(sed -n "s/^\[hv\] savevm '$name': \([0-9]*\) bytes of VM state in .*/\1/p" "$D/hv.log" | tail -n 1)
ok "hv took snapshot '$name' with $size bytes of VM state"
if sed -n "/^\[hv\] savevm '$name': /,\$p" "$D/hv.log" | grep -q "^\[hv\] loadvm '$name': $size bytes"; then
    ok "hv loaded '$name' back after that"
else
    miss "a loadvm of '$name' after its savevm (hv's log has none)"
fi
# qemu-img's list, as saved: the tag with a VM SIZE within rounding of the
# state's size (qemu-img shows three digits: 90.4 KiB for 92602 bytes).
vm=$(awk -v n="$name" 'NR > 2 && $2 == n { print $3, $4 }' "$D/qemu-img.txt" 2>/dev/null | tail -n 1)
if [ -n "$vm" ] && awk -v s="$size" -v v="$vm" 'BEGIN {
        split(v, p, " "); m = p[2] == "KiB" ? 1024 : p[2] == "MiB" ? 1048576 : p[2] == "B" ? 1 : 0
        b = p[1] * m; exit !(m && b > s * 0.99 && b < s * 1.01) }'; then
    ok "qemu-img snapshot -l listed '$name' with VM SIZE $vm"
else
    miss "qemu-img snapshot -l's list in $D/qemu-img.txt with '$name' and its VM SIZE (hv wrote $size bytes; the list shows '${vm:-nothing}')"
fi
# The counter: a read equal to hv's paused value, a larger one later, and
# after that the same paused value again.
mapfile -t r < <(reads "$D/snapshot.txt")
saved='' ran='' back=''
for v in "${r[@]}"; do
    if [ -z "$saved" ]; then
        paused_values | grep -qx "$v" && saved=$v
    elif [ -z "$ran" ]; then
        gt "$v" "$saved" && ran=$v
    elif [ "$v" = "$saved" ]; then
        back=$v
        break
    fi
done
if [ -n "$saved" ]; then ok "the session shows the counter as hv held it paused, 0x$saved"; else
    miss "a read of the counter (xp /1xg $ADDR) in $D/snapshot.txt with the value hv held while the guest was stopped"
fi
if [ -n "$ran" ]; then ok "then moved on, to 0x$ran"; else
    miss "a later read showing the counter moved on"
fi
if [ -n "$back" ]; then ok "then back at 0x$saved after the loadvm"; else
    miss "a read after that with the counter back at the saved value (stop, loadvm, xp)"
fi
# The disk now: the snapshot deleted, the image clean, by QEMU's tool.
if qemu-img snapshot -l -U "$D/disk.qcow2" 2>/dev/null | awk 'NR > 2 { print $2 }' | grep -qxF "$name"; then
    miss "'$name' deleted from the disk (delvm): qemu-img snapshot -l still lists it"
else
    ok "'$name' is gone from the disk (delvm)"
fi
if qemu-img check -q -U "$D/disk.qcow2" >/dev/null 2>&1; then ok "qemu-img check finds the disk clean"; else
    miss "a disk that qemu-img check finds clean"
fi
if running; then ok "the guest runs"; else miss "the guest running (cont)"; fi
finish
