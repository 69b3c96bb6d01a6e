#!/usr/bin/env bash
# xl console and virsh console, interactive, on a pseudo-terminal
# (tests/integration/lib/ptyrun.py types as a person would), against the
# shout guest (guestkit/tests/shout.c), which answers each line typed at
# its COM1 in capitals, on QEMU+SVM machines of one registry:
#   - xl create -c: the console at once; a line typed is answered; ^]
#     detaches and the domain runs on (xl list);
#   - xl console -t/-n: xl's words for a console type it does not know and
#     for a console hvkit's domains do not have;
#   - a second xl console on the same domain is refused (exit 1), and so is
#     virsh console, with libvirt's words after its two header lines;
#   - virsh console without a terminal: libvirt's refusal, with and without
#     --force (compared with the real virsh on libvirt's test driver, as the
#     header lines on a terminal are);
#   - virsh console --force takes the console over (the xl console ends);
#     "quit" ends the guest, and with it the console, status 0;
#   - virsh create --console and start --console attach after the boot;
#     without a terminal they still create and start, then say why there is
#     no console.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
XL=$TOP/bin/xl
V=$TOP/bin/virsh
G=$BUILD/guestkit/shout.elf
PTY=(python3 "$TOP/tests/integration/lib/ptyrun.py" --timeout 120)
export HVKIT_STATE_DIR=$W/st HVKIT_TOP=$TOP
CASES=(xl-create-c xl-console-options xl-console-busy virsh-console-notty virsh-console-header
    virsh-console-busy virsh-console-force virsh-create-console virsh-start-console)
skip_all_if "$(built_missing "$HV" "$G" "$BUILD/mgmt/xl" "$BUILD/mgmt/virsh")" "${CASES[@]}"
skip_all_if "$(command -v python3 >/dev/null || echo "python3 is not installed (bash mk/deps.sh test)")" \
    "${CASES[@]}"

# check NAME COMMAND...: PASS when the command succeeds, else FAIL with the
# last transcript.
check() {
    local id=$1
    shift
    if "$@"; then
        pass "$id"
    else
        fail "$id" "$(tail -4 "$W/last" 2>/dev/null | tr -d '\r' | tr '\n' '|')"
    fi
}

# typed FILE COMMAND...: run COMMAND on a terminal, the steps on stdin
# (ptyrun.py's), the transcript (CR LF made LF) in FILE and $W/last; its
# status.
typed() {
    local file=$1 st
    shift
    "${PTY[@]}" "$file.raw" "$@" 2>"$file.err"
    st=$?
    tr -d '\r' <"$file.raw" >"$file"
    cat "$file" "$file.err" >"$W/last"
    return "$st"
}

# running NAME: xl list shows the domain as running (or blocked).
running() { "$XL" list "$1" 2>/dev/null | grep -qE "^$1 +[0-9]+ +[0-9]+ +[0-9]+ +[rb]-----"; }

printf 'name="sh1"\nkernel="%s"\nmemory=32\n' "$G" >"$W/sh1.cfg"
cat >"$W/sh2.xml" <<XML
<domain type='kvm'>
  <name>sh2</name>
  <memory unit='MiB'>32</memory>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$G</kernel>
    <cmdline>irq</cmdline>
  </os>
</domain>
XML
sed 's/sh2/sh3/' "$W/sh2.xml" >"$W/sh3.xml"

# ---- xl ----------------------------------------------------------------------
typed "$W/create-c" "$XL" create -c "$W/sh1.cfg" <<'STEPS'
expect shout: ready
send hello there\r
expect shout: HELLO THERE
send \x1d
eof
STEPS
st=$?
check xl-create-c [ "$st" = 0 ] && grep -qx 'shout: ready (polling); type lines, "quit" ends' "$W/create-c" &&
    grep -qx 'hello there' "$W/create-c" && running sh1

"$XL" console -t nosuch sh1 >"$W/last" 2>&1
a=$?
a_out=$(cat "$W/last")
"$XL" console -t pv sh1 >"$W/last" 2>&1
b=$?
b_out=$(tail -1 "$W/last")
"$XL" console -n 1 sh1 >"$W/last" 2>&1
c=$?
check xl-console-options [ "$a" = 1 ] && [ "$a_out" = "console type supported are: pv, serial, vuart" ] &&
    [ "$b" = 1 ] && [ "$b_out" = "Unable to attach console" ] && [ "$c" = 1 ] &&
    [ "$(tail -1 "$W/last")" = "Unable to attach console" ]

# A holds sh1's console (until it sees a line that never comes); B is
# refused while it does.
typed "$W/holder" "$XL" console sh1 <<'STEPS' &
expect shout: HELLO THERE
send again\r
expect shout: AGAIN
expect this line never comes
STEPS
holder=$!
for _ in $(seq 300); do grep -q 'shout: AGAIN' "$W/holder.raw" 2>/dev/null && break; sleep 0.2; done
typed "$W/second" "$XL" console sh1 <<'STEPS'
eof
STEPS
st=$?
check xl-console-busy [ "$st" = 1 ] && [ "$(tail -1 "$W/second")" = "Unable to attach console" ]

# ---- virsh console ---------------------------------------------------------------
# Without a terminal: libvirt's refusal, --force or not, as the real virsh
# says it (its test driver has a running domain "test").
virsh -c test:///default "console test" </dev/null >"$W/real.out" 2>"$W/real.err"
echo "status $?" >>"$W/real.err"
virsh -c test:///default "console test --force" </dev/null >>"$W/real.out" 2>>"$W/real.err"
echo "status $?" >>"$W/real.err"
"$V" "console sh1" </dev/null >"$W/hv.out" 2>"$W/hv.err"
echo "status $?" >>"$W/hv.err"
"$V" "console sh1 --force" </dev/null >>"$W/hv.out" 2>>"$W/hv.err"
echo "status $?" >>"$W/hv.err"
cat "$W/hv.out" "$W/hv.err" >"$W/last"
check virsh-console-notty cmp -s "$W/real.out" "$W/hv.out" && cmp -s "$W/real.err" "$W/hv.err" &&
    grep -qx 'error: Cannot run interactive console without a controlling TTY' "$W/hv.err"

# On a terminal, the header lines are the real virsh's (whose test driver
# then cannot open a console: only its first two lines count); while xl
# holds the console, virsh says libvirt's words after them.
typed "$W/real-header" virsh -c test:///default console test <<'STEPS'
expect Escape character
eof
STEPS
grep -E '^(Connected|Escape)' "$W/real-header" | sed 's/test/sh1/' >"$W/real-header.2"
typed "$W/busy" "$V" console sh1 <<'STEPS'
eof
STEPS
st=$?
grep -E '^(Connected|Escape)' "$W/busy" >"$W/busy.2"
check virsh-console-header [ -s "$W/real-header.2" ] && cmp -s "$W/real-header.2" "$W/busy.2"
check virsh-console-busy [ "$st" = 1 ] &&
    grep -qx 'error: operation failed: Active console session exists for this domain' "$W/busy"

# --force takes it from xl (whose console then ends); quit ends the guest
# and the console with it.
typed "$W/force" "$V" console sh1 --force <<'STEPS'
expect Escape character is ^] (Ctrl + ])
send forced\r
expect shout: FORCED
send quit\r
expect shout: 3 lines, bye
eof
STEPS
st=$?
wait "$holder"
check virsh-console-force [ "$st" = 0 ] && grep -qx 'shout: HELLO THERE' "$W/force" &&
    grep -qx 'SUMMARY: 1 tests, 0 unexpected failures, 0 skipped' "$W/force" &&
    ! grep -q 'FORCED' "$W/holder" && ! running sh1

# ---- create --console, start --console ---------------------------------------------
typed "$W/create" "$V" create "$W/sh2.xml" --console <<'STEPS'
expect shout: ready
send from create\r
expect shout: FROM CREATE
send quit\r
eof
STEPS
st=$?
check virsh-create-console [ "$st" = 0 ] && [ "$(sed -n 1p "$W/create")" = "Domain 'sh2' created from $W/sh2.xml" ] &&
    [ "$(sed -n 2p "$W/create")" = "Connected to domain 'sh2'" ] &&
    grep -qx 'shout: ready (interrupts); type lines, "quit" ends' "$W/create" &&
    grep -qx 'shout: 1 lines, bye' "$W/create"

# start --console on a terminal; then without one it starts all the same
# and says why there is no console (status 0, as virsh 9.0).
"$V" define "$W/sh3.xml" >"$W/last" 2>&1
typed "$W/start" "$V" start sh3 --console <<'STEPS'
expect shout: ready
send started\r
expect shout: STARTED
send \x1d
eof
STEPS
st=$?
ok=0
[ "$st" = 0 ] && [ "$(sed -n 1p "$W/start")" = "Domain 'sh3' started" ] && running sh3 && ok=1
"$V" destroy sh3 >/dev/null 2>&1
"$V" start sh3 --console </dev/null >"$W/start2.out" 2>"$W/start2.err"
st=$?
cat "$W/start2.out" "$W/start2.err" >"$W/last"
check virsh-start-console [ "$ok" = 1 ] && [ "$st" = 0 ] && grep -qx "Domain 'sh3' started" "$W/start2.out" &&
    grep -qx 'error: Cannot run interactive console without a controlling TTY' "$W/start2.err" &&
    running sh3

# Leave nothing running.
"$V" destroy sh3 >/dev/null 2>&1
"$V" undefine sh3 >/dev/null 2>&1
"$XL" destroy sh1 >/dev/null 2>&1
"$XL" destroy sh2 >/dev/null 2>&1
exit 0
