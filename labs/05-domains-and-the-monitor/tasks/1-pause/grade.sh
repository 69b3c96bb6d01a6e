# shellcheck shell=bash
# The pause proof: in the saved session, two reads of the counter with the
# value hv's recorder read while the guest was paused, then a larger one;
# hv announced that STOP and a RESUME after it, and the guest runs now,
# past every value shown.
. "$LAB_TASKS/lib.bash"
s=$D/pause.txt
mapfile -t r < <(reads "$s")
if [ ${#r[@]} -ge 3 ]; then
    ok "the session shows ${#r[@]} reads of the counter at $ADDR"
else
    miss "three reads of the counter at $ADDR with xp /1xg in $s (found ${#r[@]})"
    finish
fi
# Two equal reads in a row, then a later larger one.
same='' moved=''
for ((i = 1; i < ${#r[@]}; i++)); do
    if [ -z "$same" ] && [ "${r[i]}" = "${r[i - 1]}" ]; then
        same=${r[i]}
    elif [ -n "$same" ] && gt "${r[i]}" "$same"; then
        moved=${r[i]}
        break
    fi
done
if [ -n "$same" ]; then ok "two reads in a row give the same value, 0x$same"; else
    miss "two reads in a row with the same value (the guest stopped)"
fi
if [ -n "$moved" ]; then ok "a later read shows it moved on, to 0x$moved"; else
    miss "a read after those two that shows the counter moved on (after cont)"
fi
# hv's record: the guest held exactly that value while hv had it paused,
# and hv resumed it after.
if [ -n "$same" ] && paused_values | grep -qx "$same"; then
    ok "hv paused the guest at exactly that value (its STOP event)"
    if sed -n "/^STOP $same\$/,\$p" "$D/record" | grep -qx RESUME; then
        ok "hv resumed it after that (its RESUME event)"
    else
        miss "a RESUME from hv after that STOP: did you cont?"
    fi
else
    miss "a STOP of hv's at which the guest held the value your two reads show: were they read while stopped, on this guest?"
fi
now=$(read_counter "$ADDR")
if running && [ -n "$now" ] && [ -n "$moved" ] && gt "$now" "$moved"; then
    ok "the guest runs now, its counter past every value shown"
else
    miss "the guest running now with its counter past the values shown"
fi
finish
