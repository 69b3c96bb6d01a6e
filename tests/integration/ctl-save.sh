#!/usr/bin/env bash
# A running domain saved into a host file and restored from it through the
# control protocol (docs/control-protocol.md "Saving a domain to a file"):
# bin/hvctl sends domain-save with a file path, hv writes the state into the
# staging disk's save region and the manager copies it out to the file;
# domain-restore copies the file in and hv makes a new domain from it.
# With the counter guest (a line "count N" every 20 ms), on QEMU+SVM:
#   - domain 0 (the pattern guest with a -drive disk) is saved with
#     after=continue and runs on; its state is refused by a restore that
#     would make a new domain (which has no disks), changing nothing, and
#     goes back into domain 0 itself, which has the same disk;
#   - saves that fail leave no file: a missing directory, a relative path,
#     an unknown domain (an existing file stays byte for byte as it was, no
#     temporary file is left beside it), and the domain runs on;
#   - after=pause leaves the domain paused, `cont` runs it on;
#   - the counter made at run time (name "ctr") is saved (and destroyed:
#     the default); the file is the size hv reported;
#   - a truncated file, a file with one byte changed and a file that is no
#     state at all are each refused with the section or reason named, and
#     change nothing (query-host and query-domains the same); so is a
#     restore into domain 0, whose shape is not the state's;
#   - the restore makes a domain called "ctr" again that counts on from the
#     count after the last one printed before the save, one by one; a
#     second restore of the same file is refused while "ctr" exists;
#   - hv stays up with no domain of its own running (the saved one was
#     destroyed) until quit.
# On Bochs+VMX: the counter booted as domain 0 is saved, destroyed, restored
# and counts on from where it was; the counter with a qcow2 disk is saved
# with after=continue and counts on, then saved with after=pause, that
# state put back into domain 0, and it counts on from the saved count and
# writes its disk again (real qemu-io reads a count from after the restore,
# qemu-img check finds the image clean).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/ctl.bash"

W=$IT_WORK
C=$BUILD/guestkit/counter.elf
P=$BUILD/guestkit/pattern.elf
TIMEOUT=${GUEST_TIMEOUT:-300}

# last_count_before OUT PATTERN PREFIX: the last "PREFIXcount N" before the
# first line matching PATTERN; first_count_after the first one after it.
last_count_before() {
    awk -v p="$2" -v c="^$3count [0-9]+$" '$0 ~ p { exit } $0 ~ c { n = $NF } END { print n }' "$1"
}
first_count_after() {
    awk -v p="$2" -v c="^$3count [0-9]+$" 'f && $0 ~ c { print $NF; exit } $0 ~ p { f = 1 }' "$1"
}

# counts_on OUT PATTERN PREFIX FROM TO: after PATTERN, the counts go FROM,
# FROM+1, ... up to at least TO without a gap.
counts_on() {
    awk -v p="$2" -v c="^$3count [0-9]+$" -v n="$4" -v to="$5" '
        f && $0 ~ c { if ($NF != n) exit 1; n++ } $0 ~ p { f = 1 }
        END { exit n > to ? 0 : 1 }' "$1"
}

# refused_restore SOCK FILE WORDS [ARGS...]: domain-restore FILE (and ARGS)
# is refused with words WORDS and changes nothing.
refused_restore() {
    ctl_refused "$1" GenericError "$3" domain-restore file="$2" "${@:4}"
}

# refused_save SOCK WORDS FILE ARGS...: domain-save is refused with WORDS,
# FILE is as it was (absent, or its old bytes) and no temporary file is
# left in its directory.
refused_save() {
    local s=$1 words=$2 f=$3 r before
    shift 3
    before=$(ls -A "$(dirname "$f")" 2>/dev/null; cat "$f" 2>/dev/null)
    r=$("$HVCTL" -s "$s" --timeout 120 domain-save "$@")
    echo "domain-save $*: $r" >>"$W/refusals"
    [[ $r == '{"error": {"class": "'*'", "desc": "'*"$words"* ]] ||
        { echo "domain-save $*: want an error with '$words': $r"; return 1; }
    [ "$before" = "$(ls -A "$(dirname "$f")" 2>/dev/null; cat "$f" 2>/dev/null)" ] ||
        { echo "a refused domain-save $* left its directory or file changed"; return 1; }
}

# status SOCK DOMAIN: its QMP status.
status() {
    "$HVCTL" -s "$1" --timeout 120 query-status domain="$2" | sed -n 's/.*"status": "\([a-z-]*\)".*/\1/p'
}

# qemu_checks DIR SOCK RUN_PID: the QEMU+SVM checks; the first failure's
# reason, or nothing.
qemu_checks() {
    local d=$1 s=$2 run=$3 r n last first size
    local H=("$HVCTL" -s "$s" --timeout 120)
    wait_for "$d/out" '^pattern: counting' 120 "$run" || { echo "domain 0 did not start"; return; }
    r=$("${H[@]}" domain-create kernel="$C" name=ctr memory=4 cmdline='"100000"')
    [ "$r" = '{"return": {"domain": 1, "name": "ctr"}}' ] || { echo "domain-create: $r"; return; }
    wait_for "$d/out" '^\[d1\] count 20$' 120 "$run" || { echo "the counter did not count"; return; }
    # Domain 0 has a disk: saved, it runs on; a new domain cannot take
    # the state, domain 0 can.
    r=$("${H[@]}" domain-save domain=0 file="$d/p0.sav" after='"continue"')
    [[ $r == '{"return": {"size": '*', "status": "running"}}' ]] || { echo "save of domain 0: $r"; return; }
    [ "$(status "$s" 0)" = running ] || { echo "domain 0 is not running after its save"; return; }
    refused_restore "$s" "$d/p0.sav" "the state is of a domain with 1 virtio device (disks, a virtio console), which a domain made at run time cannot have" || return
    r=$("${H[@]}" domain-restore domain=0 file="$d/p0.sav")
    [[ $r == '{"return": {"domain": 0, '* ]] && [ "$(status "$s" 0)" = running ] ||
        { echo "restore of domain 0's state into domain 0: $r"; return; }
    refused_save "$s" "No such file or directory" "$d/no/x.sav" domain=1 file="$d/no/x.sav" || return
    refused_save "$s" "give an absolute path" "$d/x.sav" domain=1 file=x.sav || return
    echo old >"$d/old.sav"
    refused_save "$s" "no domain 3" "$d/old.sav" domain=3 file="$d/old.sav" || return
    [ "$(status "$s" 1)" = running ] || { echo "the counter is not running after the refusals"; return; }
    # after=pause: saved and left paused; cont runs it on.
    r=$("${H[@]}" domain-save domain=1 file="$d/p.sav" after='"pause"')
    [[ $r == '{"return": {"size": '*', "status": "running"}}' ]] || { echo "save after=pause: $r"; return; }
    [ "$(status "$s" 1)" = paused ] || { echo "after=pause did not leave it paused"; return; }
    "${H[@]}" cont domain=1 >/dev/null
    [ "$(status "$s" 1)" = running ] || { echo "cont after the save did not run it"; return; }
    # The save that destroys it.
    r=$("${H[@]}" domain-save domain=1 file="$d/c.sav")
    size=$(sed -n 's/^{"return": {"size": \([0-9]*\), "status": "running"}}$/\1/p' <<<"$r")
    [ -n "$size" ] && [ "$(stat -c %s "$d/c.sav")" = "$size" ] ||
        { echo "domain-save: $r, file of $(stat -c %s "$d/c.sav" 2>&1) bytes"; return; }
    sleep 1
    [ "$(status "$s" 1)" = shutdown ] || { echo "the saved domain was not destroyed"; return; }
    # Broken files.
    head -c $((size / 2)) "$d/c.sav" >"$d/half.sav"
    head -c $((size - 100)) "$d/c.sav" >"$d/short.sav"
    cp "$d/c.sav" "$d/bad.sav"
    printf '\x5a' | dd of="$d/bad.sav" bs=1 seek=$((size - 3000)) conv=notrunc status=none
    echo "this text is not a saved domain" >"$d/text.sav"
    refused_restore "$s" "$d/half.sav" "truncated" || return
    refused_restore "$s" "$d/short.sav" "truncated" || return
    refused_restore "$s" "$d/bad.sav" "checksum mismatch: the state is corrupted" || return
    refused_restore "$s" "$d/text.sav" "not an hvkit state (no HVKITVMS magic)" || return
    refused_restore "$s" "$d/none.sav" "No such file or directory" || return
    # Into domain 0, which is not of the state's shape: refused, unchanged.
    refused_restore "$s" "$d/c.sav" "the state is of a domain with 1 vCPUs, 4096 KiB of RAM and 0 virtio devices; this one has 1, 16384 KiB and" domain=0 || return
    [ "$(status "$s" 0)" = running ] || { echo "domain 0 is not running after the refused restore into it"; return; }
    # The restore: a new domain called ctr, counting on.
    r=$("${H[@]}" domain-restore file="$d/c.sav")
    n=$(sed -n 's/^{"return": {"domain": \([0-9]\), "name": "ctr"}}$/\1/p' <<<"$r")
    [ -n "$n" ] || { echo "domain-restore: $r"; return; }
    wait_for "$d/out" "^\\[d$n\\] count [0-9][0-9]*\$" 120 "$run" || { echo "the restored domain printed nothing"; return; }
    refused_restore "$s" "$d/c.sav" "a domain called 'ctr' exists already (domain $n)" || return
    last=$(last_count_before "$d/out" '^\[hv\] domain 1 dying: destroyed by the host' '\[d1\] ')
    first=$(first_count_after "$d/out" "^\\[hv\\] domain-restore: domain $n 'ctr'" "\\[d$n\\] ")
    [ -n "$last" ] && [ "$first" = $((last + 1)) ] ||
        { echo "last count before the save '$last', first after the restore '$first'"; return; }
    wait_for "$d/out" "^\\[d$n\\] count $((first + 50))\$" 120 "$run" &&
        counts_on "$d/out" "^\\[hv\\] domain-restore: domain $n 'ctr'" "\\[d$n\\] " "$first" $((first + 50)) ||
        { echo "the restored counter does not count on one by one from $first"; return; }
    "${H[@]}" quit >/dev/null
}

# bochs_checks DIR SOCK RUN_PID: the counter of the boot saved (so
# destroyed: hv stays up) and restored on VT-x.
bochs_checks() {
    local d=$1 s=$2 run=$3 r last first
    local H=("$HVCTL" -s "$s" --timeout 120)
    wait_for "$d/out" '^count 10$' 120 "$run" || { echo "the counter did not count"; return; }
    r=$("${H[@]}" domain-save file="$d/c.sav")
    [[ $r == '{"return": {"size": '* ]] || { echo "domain-save: $r"; return; }
    sleep 2
    kill -0 "$run" 2>/dev/null || { echo "hv ended with its saved domain"; return; }
    r=$("${H[@]}" domain-restore file="$d/c.sav")
    [ "$r" = '{"return": {"domain": 0, "name": "d0"}}' ] || { echo "domain-restore: $r"; return; }
    last=$(last_count_before "$d/out" "^\\[hv\\] domain-save: domain 0 'd0': [0-9]+ bytes" '')
    wait_for "$d/out" "^count $((last + 10))\$" 120 "$run" || { echo "the restored domain does not count"; return; }
    first=$(first_count_after "$d/out" "^\\[hv\\] domain-restore: domain 0 'd0'" '')
    [ -n "$last" ] && [ "$first" = $((last + 1)) ] &&
        counts_on "$d/out" "^\\[hv\\] domain-restore: domain 0 'd0'" '' "$first" $((last + 10)) ||
        { echo "last count before the save '$last', first after the restore '$first'"; return; }
    "${H[@]}" quit >/dev/null
}

# bochs_disk_checks DIR SOCK RUN_PID: on VT-x, the counter of the boot
# keeping its count on a qcow2 disk ("100000 disk") is saved with
# after=continue and counts on.  Then it is saved with after=pause and that
# state goes back into domain 0, which counts on from the saved count and
# writes its disk again (read by real qemu-io once hv has quit, in the
# session's caller).
#
# The state restored is the paused one, not the first: the disk is not in
# the state, and a restore over a disk that moved on since the save is the
# user's to answer for (docs/control-protocol.md "Saving a domain to a
# file").  The counter shows why: a save that falls between its write of
# "count N" and the read back restores a guest that reads a later count
# the running domain wrote, and stops with "read back differs".  That is
# not rare: hv serves the control channel when a time slice ends, and the
# slow write through the outer disk often ends one.
bochs_disk_checks() {
    local d=$1 s=$2 run=$3 r last first i
    local H=("$HVCTL" -s "$s" --timeout 120) restored="^\\[hv\\] domain-restore: into domain 0 'd0'"
    wait_for "$d/out" '^count 20$' 120 "$run" || { echo "the counter did not count"; return; }
    r=$("${H[@]}" domain-save file="$d/c.sav" after='"continue"')
    [[ $r == '{"return": {"size": '* ]] || { echo "domain-save: $r"; return; }
    last=$(last_count_before "$d/out" "^\\[hv\\] domain-save: domain 0 'd0': [0-9]+ bytes" '')
    wait_for "$d/out" "^count $((last + 30))\$" 120 "$run" || { echo "the counter stopped after the save"; return; }
    # Paused by its save, the domain leaves its disk as the state has it.
    r=$("${H[@]}" domain-save file="$d/p.sav" after='"pause"')
    [[ $r == '{"return": {"size": '* ]] || { echo "domain-save after=pause: $r"; return; }
    r=$("${H[@]}" domain-restore domain=0 file="$d/p.sav")
    [ "$r" = '{"return": {"domain": 0, "name": "d0"}}' ] || { echo "domain-restore: $r"; return; }
    # Paused, it printed nothing between its save and the restore.
    last=$(last_count_before "$d/out" "$restored" '')
    # The console comes a moment after the reply: its first count then.
    for ((i = 0; i < 120; i++)); do
        first=$(first_count_after "$d/out" "$restored" '')
        [ -n "$first" ] && break
        sleep 1
    done
    [ -n "$last" ] && [ "$first" = $((last + 1)) ] &&
        wait_for "$d/out" "^count $((first + 20))\$" 120 "$run" ||
        { echo "last count before the save '$last', first after the restore '$first'"; return; }
    echo "$first" >"$d/first"
    "${H[@]}" quit >/dev/null
}

# bochs_disk_case: the session of bochs_disk_checks, then its disk: it got
# a count from after the restore, and is clean.
bochs_disk_case() {
    local id=ctl-save-bochs-vmx-disk n first
    qemu-img create -f qcow2 "$W/disk.qcow2" 1M >/dev/null
    session $id bochs vmx bochs_disk_checks \
        -kernel "$C" -append "100000 disk" -drive "file=$W/disk.qcow2,format=qcow2"
    n=$(qemu-io -r -f qcow2 -c 'read -v 0 16' "$W/disk.qcow2" | sed -n 's/^00000000: .*  count\.\([0-9]*\)\..*/\1/p')
    first=$(cat "$W/$id/first" 2>/dev/null)
    if [ -n "$n" ] && [ -n "$first" ] && [ "$n" -ge "$first" ] && qemu-img check -q "$W/disk.qcow2"; then
        pass "$id: the disk written after the restore (count $n), qemu-img check clean"
    else
        fail "$id: the disk after the restore" "count '$n' on the disk, first count after the restore '$first'"
    fi
}

# session ID EMULATOR VENDOR CHECKS HVRUN-ARGS...: one machine and its
# checks (hv's log and the consoles in one file, in order); hv must end by
# the quit.
session() {
    local id=$1 emu=$2 vendor=$3 checks=$4 d=$W/$1 why
    shift 4
    mkdir -p "$d"
    if ! why=$(ctl_machine "$d" "$emu" "$vendor" "$checks" "$d/out" "$@"); then
        fail "$id" "$why"
        show_log "$d/out" 25
        return
    fi
    if grep -qx '\[hv\] ctl: quit' "$d/out"; then
        pass "$id"
    else
        fail "$id" "hv did not end by the quit"
        show_log "$d/out"
    fi
}

skip_all_if "$(built_missing "$C" "$P" "$HV" "$HVCTL")" ctl-save-qemu-svm ctl-save-bochs-vmx \
    ctl-save-bochs-vmx-disk
truncate -s 1M "$W/disk.raw"
run_case ctl-save-qemu-svm session ctl-save-qemu-svm qemu svm qemu_checks \
    -kernel "$P" -drive "file=$W/disk.raw,format=raw"
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip ctl-save-bochs-vmx "$why"
    skip ctl-save-bochs-vmx-disk "$why"
else
    run_case ctl-save-bochs-vmx session ctl-save-bochs-vmx bochs vmx bochs_checks \
        -kernel "$C" -append 100000
    run_case ctl-save-bochs-vmx-disk bochs_disk_case
fi
finish_cases
