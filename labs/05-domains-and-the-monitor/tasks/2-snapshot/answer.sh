# shellcheck shell=bash
# The snapshot round trip, as a student types it, waiting as a person
# would for each step's effect (hv's log lines, the recorder's STOP and
# RESUME); qemu-img in another terminal while the snapshot exists.
. "$LAB_TASKS/lib.bash"
answer_start snapshot.txt
answer_type stop "savevm s1"
answer_until "$D/hv.log" "^\[hv\] savevm 's1': "
answer_type "xp /1xg $ADDR" cont
answer_until "$D/record" '^RESUME$'
sleep 2
answer_type "xp /1xg $ADDR" stop "loadvm s1"
answer_until "$D/hv.log" "^\[hv\] loadvm 's1': "
answer_type "xp /1xg $ADDR" cont
answer_until "$D/record" '^RESUME$' 2
qemu-img snapshot -l -U "$D/disk.qcow2" >"$D/qemu-img.txt"
answer_type "delvm s1"
answer_end
