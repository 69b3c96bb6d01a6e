#!/usr/bin/env bash
# xl save/restore and virsh save/restore/managedsave on live hvkit machines
# (QEMU+SVM), with the counter guest (a line "count N" every 20 ms):
#   - xl save -c leaves the domain running and writes the file; xl save
#     destroys the domain (gone from xl list, its machine ended, no
#     temporary file beside the save file);
#   - xl restore makes the domain again under its name, with a new id, and
#     it counts on from where it was (its first count after the restore is
#     above the last one seen before the save, not 1), one by one; a second
#     restore of the same name, a cut file, a file with a byte changed and
#     a file that is no save file are refused with xl's words and start
#     nothing;
#   - virsh save --paused: "Domain 'web' saved to FILE", list --all shows it
#     shut off, domstate --reason "shut off (saved)"; virsh restore: "Domain
#     restored from FILE", paused as saved; it counts on after resume;
#   - virsh managedsave: list --all --managed-save shows "saved", dominfo
#     "Managed save: yes", start restores it (running (restored)) and
#     removes the file; managedsave-remove's messages;
#   - the messages virsh's test driver gives too are compared with the
#     real virsh (`virsh -c test:///default`) when it is installed.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
XL=$TOP/bin/xl
VIRSH=$TOP/bin/virsh
C=$BUILD/guestkit/counter.elf
export HVKIT_STATE_DIR=$W/st
S=$HVKIT_STATE_DIR/running

# COMMANDS; verdict NAME: PASS when the commands just before succeeded.
verdict() {
    local st=$? id=$1
    if [ "$st" = 0 ]; then pass "$id"; else fail "$id" "$(tail -3 "$W/last" 2>/dev/null | tr '\n' ' ')"; fi
}

# wait_log NAME REGEX: until the domain's console log has a matching line.
wait_log() {
    local i
    for ((i = 0; i < 600; i++)); do
        grep -Eq "$2" "$S/$1.log" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# last_count NAME: the last count in the domain's log.
last_count() { sed -n 's/^count \([0-9]*\)$/\1/p' "$S/$1.log" | tail -n 1; }

# counts_on NAME FROM N: the domain's counts after its restore line start
# at FROM and go on one by one for N counts.
counts_on() {
    awk -v n="$2" -v to=$(($2 + $3)) '
        f && /^count [0-9]+$/ { if ($2 != n) exit 1; n++ }
        /^\[hv\] domain-restore: into domain 0/ { f = 1 }
        END { exit n >= to ? 0 : 1 }' "$S/$1.log"
}

# first_after_restore NAME: the first count after the restore line.
first_after_restore() {
    awk 'f && /^count [0-9]+$/ { print $2; exit } /^\[hv\] domain-restore: into domain 0/ { f = 1 }' \
        "$S/$1.log"
}

# continued NAME BEFORE: restored and counting on from above BEFORE.
continued() {
    local first
    wait_log "$1" '^\[hv\] domain-restore: into domain 0' && wait_log "$1" '^count [0-9]+$' || return 1
    first=$(first_after_restore "$1")
    [ -n "$first" ] && [ "$first" -gt "$2" ] && [ "$first" -lt $(($2 + 1000)) ] || return 1
    wait_log "$1" "^count $((first + 20))\$" && counts_on "$1" "$first" 20
}

if [ -n "$(built_missing "$C")" ] || ! command -v qemu-system-x86_64 >/dev/null; then
    skip save-frontends "$(built_missing "$C") (or no qemu-system-x86_64)"
    exit 0
fi

# ---- xl ------------------------------------------------------------------------
cat >"$W/ctr.cfg" <<CFG
name = "ctr"
memory = 4
kernel = "$C"
extra = "100000"
CFG
"$XL" create "$W/ctr.cfg" >"$W/last" 2>&1 && wait_log ctr '^count 20$'
verdict "xl create: the counter counts"
"$XL" save -c ctr "$W/keep.sav" >"$W/last" 2>&1 && [ -s "$W/keep.sav" ] &&
    "$XL" list ctr >>"$W/last" 2>&1 && grep -Eq '^ctr +[0-9]+ +4 +1 +-?r' "$W/last"
verdict "xl save -c: the file written, the domain runs on"
before=$(last_count ctr)
(cd "$W" && "$XL" save ctr ctr.sav) >"$W/last" 2>&1 && [ -s "$W/ctr.sav" ] &&
    grep -qx "Saving to ctr.sav new hvkit format (domain 1, ctr)" "$W/last" &&
    ! "$XL" list ctr >/dev/null 2>&1 && [ ! -e "$S/ctr" ] &&
    [ -z "$(ls -A "$W" | grep '^\.ctr\.sav\.')" ]
verdict "xl save: the domain destroyed, the file whole, no temporary file left"
size=$(stat -c %s "$W/ctr.sav")
head -c $((size - 100)) "$W/ctr.sav" >"$W/short.sav"
cp "$W/ctr.sav" "$W/bad.sav"
printf '\x5a' | dd of="$W/bad.sav" bs=1 seek=$((size - 3000)) conv=notrunc status=none
echo "this text is not a saved domain" >"$W/text.sav"
"$XL" restore "$W/short.sav" >"$W/last" 2>&1
[ $? = 1 ] && grep -q "^libxl: error: $W/short.sav: vmstate: section 'ram' (instance 0): truncated" "$W/last" &&
    "$XL" restore "$W/bad.sav" >>"$W/last" 2>&1
[ $? = 1 ] && grep -q "checksum mismatch: the state is corrupted" "$W/last" &&
    "$XL" restore "$W/text.sav" >>"$W/last" 2>&1
[ $? = 1 ] && grep -qx "File has wrong magic number - corrupt or for a different tool?" "$W/last" &&
    [ "$("$XL" list | wc -l)" = 2 ]
verdict "xl restore: a cut, a changed and a foreign file refused, nothing started"
"$XL" restore "$W/ctr.sav" >"$W/last" 2>&1 &&
    grep -qx 'Parsing config from <saved>' "$W/last" && "$XL" list ctr >>"$W/last" 2>&1 &&
    grep -Eq '^ctr +2 +4 +1 ' "$W/last" && continued ctr "$before"
verdict "xl restore: ctr again (id 2), counting on from above $before, one by one"
"$XL" restore "$W/ctr.sav" >"$W/last" 2>&1
[ $? = 1 ] && grep -qx 'libxl: error: Domain with name "ctr" already exists.' "$W/last" &&
    [ "$("$XL" list | wc -l)" = 3 ]
verdict "xl restore of a running domain's name: refused"
"$XL" destroy ctr >/dev/null 2>&1

# ---- virsh -----------------------------------------------------------------------
cat >"$W/web.xml" <<XML
<domain type='hvkit'>
  <name>web</name>
  <memory unit='MiB'>4</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type><kernel>$C</kernel><cmdline>100000</cmdline></os>
</domain>
XML
"$VIRSH" define "$W/web.xml" >"$W/last" 2>&1 && "$VIRSH" start web >>"$W/last" 2>&1 &&
    wait_log web '^count 20$'
verdict "virsh define, start: the counter counts"
before=$(last_count web)
"$VIRSH" save web "$W/web.sav" --paused >"$W/last" 2>&1 &&
    [ "$(cat "$W/last")" = $'\n'"Domain 'web' saved to $W/web.sav" ] &&
    "$VIRSH" list --all >"$W/last" 2>&1 && grep -Eq '^ -    web +shut off$' "$W/last" &&
    [ "$("$VIRSH" domstate web --reason)" = "shut off (saved)" ]
verdict "virsh save --paused: saved, shut off (saved)"
"$VIRSH" restore "$W/web.sav" >"$W/last" 2>&1 &&
    [ "$(cat "$W/last")" = "Domain restored from $W/web.sav" ] &&
    [ "$("$VIRSH" domstate web)" = paused ] && "$VIRSH" resume web >/dev/null &&
    continued web "$before"
verdict "virsh restore: paused as saved, counting on after resume"
before=$(last_count web)
"$VIRSH" managedsave web >"$W/last" 2>&1 &&
    [ "$(cat "$W/last")" = $'\n'"Domain 'web' state saved by libvirt" ] &&
    "$VIRSH" list --all --managed-save >"$W/last" 2>&1 && grep -Eq '^ -    web +saved$' "$W/last" &&
    "$VIRSH" dominfo web | grep -qx 'Managed save:   yes' &&
    "$VIRSH" start web >/dev/null 2>&1 && [ "$("$VIRSH" domstate web --reason)" = "running (restored)" ] &&
    ! "$VIRSH" dominfo web | grep -qx 'Managed save:   yes' && continued web "$before"
verdict "virsh managedsave: saved, start restores it and drops the file"
"$VIRSH" managedsave web >/dev/null 2>&1 && "$VIRSH" managedsave-remove web >"$W/last" 2>&1 &&
    grep -qx "Removed managedsave image for domain 'web'" "$W/last" &&
    "$VIRSH" managedsave-remove web >"$W/last" 2>&1 &&
    grep -qx "Domain 'web' has no manage save image; removal skipped" "$W/last" &&
    "$VIRSH" start web >/dev/null 2>&1 && [ "$("$VIRSH" domstate web --reason)" = "running (booted)" ] &&
    # The three in one line, whose whole output the real virsh's is below.
    "$VIRSH" 'managedsave web; managedsave-remove web; managedsave-remove web' >"$W/msr" 2>&1
verdict "virsh managedsave-remove: the next start boots afresh"
"$VIRSH" destroy web >/dev/null 2>&1

# ---- Against the real virsh's test driver ------------------------------------------
# real WORDS...: the real virsh's output (both streams) for one command.
real() { timeout 20 virsh -c test:///default "$@" </dev/null 2>&1; }
if ! command -v virsh >/dev/null || [ "$(realpath "$(command -v virsh)")" = "$(realpath "$VIRSH")" ]; then
    skip "virsh messages match the test driver's" "Debian's virsh (libvirt-clients) is not installed"
else
    ok=0
    echo "<domain/>" >"$W/alt.xml"
    for cmd in "restore $W/none.sav" "restore $W/web.sav --running --paused" \
        "restore $W/web.sav --xml $W/alt.xml" "restore $W/web.sav --xml $W/none.xml"; do
        # shellcheck disable=SC2086  # the words of the command
        [ "$(real $cmd)" = "$("$VIRSH" $cmd 2>&1)" ] || { ok=1; echo "    differs: virsh $cmd" >>"$W/last"; }
    done
    # managedsave and managedsave-remove's lines and empty lines, for the
    # test driver's own running domain "test".  The real virsh 9.0 now and
    # then never returns from a managedsave on the test driver (its main
    # thread waits for the job's end, which it missed; it takes 0.1 s when
    # it returns): such a run is cut after 5 s and made again.
    cmds="managedsave test; managedsave-remove test; managedsave-remove test"
    for try in 1 2 3 4 5 6 7 8; do
        timeout 5 virsh -c test:///default "$cmds" </dev/null >"$W/msr.real" 2>&1 && break
    done
    sed -i "s/'test'/'web'/g" "$W/msr.real"
    cmp -s "$W/msr.real" "$W/msr" ||
        { ok=1; echo "    differs: virsh $cmds" >>"$W/last"; }
    [ $ok = 0 ]
    verdict "virsh messages match the test driver's (a missing file, --running with --paused, --xml, managedsave-remove)"
fi
