# shellcheck shell=bash
# The pause proof, as a student types it (the pauses stand for the time
# a person takes between commands).
(
    sleep 1
    echo stop
    sleep 1
    echo "xp /1xg $ADDR"
    sleep 1
    echo "xp /1xg $ADDR"
    echo cont
    sleep 1
    echo "xp /1xg $ADDR"
) | bin/hvmon "$D/ctl.sock" >"$D/pause.txt"
