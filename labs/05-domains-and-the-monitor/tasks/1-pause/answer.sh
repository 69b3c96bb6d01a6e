# shellcheck shell=bash
# The pause proof, as a student types it, waiting as a person would: the
# reads once hv has stopped the guest (its STOP, in the recorder's file),
# the last one a second after hv resumed it.
. "$LAB_TASKS/lib.bash"
answer_start pause.txt
answer_type stop
answer_until "$D/record" '^STOP '
answer_type "xp /1xg $ADDR" "xp /1xg $ADDR" cont
answer_until "$D/record" '^RESUME$'
sleep 1
answer_type "xp /1xg $ADDR"
answer_end
