# shellcheck shell=bash
# The snapshot round trip, as a student types it: the monitor session,
# qemu-img in another terminal while the snapshot exists, then delvm.
fifo=$D/answer.fifo
mkfifo "$fifo"
bin/hvmon "$D/ctl.sock" <"$fifo" >"$D/snapshot.txt" &
mon=$!
exec 3>"$fifo"
sleep 1
printf 'stop\nsavevm s1\nxp /1xg %s\ncont\n' "$ADDR" >&3
sleep 2
printf 'xp /1xg %s\nstop\nloadvm s1\nxp /1xg %s\ncont\n' "$ADDR" "$ADDR" >&3
sleep 1
qemu-img snapshot -l -U "$D/disk.qcow2" >"$D/qemu-img.txt"
printf 'delvm s1\n' >&3
exec 3>&-
wait "$mon"
rm -f "$fifo"
