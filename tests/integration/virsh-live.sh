#!/usr/bin/env bash
# virsh on a running domain (one hvkit machine on QEMU+SVM, reused for every
# check), against the real virsh on libvirt's offline test driver, whose
# own domain "test" runs: hvkit's domain is called "test" too.
#   - the real side first makes its "test" what hvkit's is (1 vCPU, 32 MiB)
#     and starts it again, so both have domain id 2 and the reason "booted"
#     (hvkit's registry is told to give id 2 next); those 7 lines are cut;
#   - UUIDs, the dominfo lines that belong to a driver, CPU numbers, times
#     and the host's CPU count are replaced by tokens before comparing;
#     every label, column width, message and empty line must be identical;
#   - what virsh did is judged on the machine itself: the guest's console
#     stops counting while suspended, the monitor's `info status`, the
#     snapshot with its VM SIZE in `qemu-img snapshot -l`, the count after
#     a revert, the machine's processes after destroy, `xl list`, and a
#     second (transient) domain whose balloon driver follows `setmem`.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/virsh.bash"

W=$IT_WORK
V=$BUILD/mgmt/virsh
G=$BUILD/guestkit/counter.elf
export HVKIT_STATE_DIR=$W/state HVKIT_TOP=$TOP
S=$HVKIT_STATE_DIR/running

skip_all_if "$(built_missing "$V" "$G" "$BUILD/guestkit/balloond.elf")" virsh-live
skip_all_if "$(real_virsh_missing)" virsh-live
VIRSH=$V REAL_DIR=$W/real HV_DIR=$W/hv
mkdir -p "$W/hv" "$W/real" "$S"

qemu-img create -q -f qcow2 "$W/disk.qcow2" 16M
virsh_test_domain "$G" 100000 "$W/disk.qcow2" >"$W/hv/test.xml"

# check NAME COMMAND...: PASS when the command succeeds.  A check of
# several conditions names a function that tests them all: "check NAME
# cmd1 && cmd2" would judge cmd1 alone.
check() {
    local id=$1
    shift
    if "$@"; then pass "$id"; else fail "$id" "$(tail -3 "$W/last" 2>/dev/null | tr '\n' ' ')"; fi
}
none() { ! "$@"; }

normalize() {
    sed -E -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/UUID/g' \
        -e '/^(OS Type|CPU time|Security model|Security DOI|Security label):/d' \
        -e 's/^(CPU: +|CPU Affinity: +)[0-9y-]+$/\1N/' \
        -e 's/^(CPU time: +)[0-9.]+s$/\1T/' \
        -e 's/^( [0-9]+ +)0-[0-9]+$/\10-N/' \
        -e 's/^(\t[a-z_]+) +[0-9.]+ seconds$/\1 T seconds/' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}/TIME/'
}

# same NAME COMMANDS: the same command line on both sides (the real side
# first makes its "test" like hvkit's and restarts it).
REAL_SETUP="destroy test; setvcpus test 1 --config --maximum; setmaxmem test 32M --config;
    setmem test 32M --config; start test"
same() {
    virsh_same "$1" "$REAL_SETUP; $2" "$2" 7 normalize normalize
}

# ---- Start ----------------------------------------------------------------
echo 2 >"$S/next-domid"
"$V" "define $W/hv/test.xml" >"$W/last" 2>&1
"$V" start test >"$W/last" 2>&1
check "start: the defined domain boots (one bin/hvrun --control machine)" \
    grep -qx "Domain 'test' started" "$W/last"
for _ in $(seq 300); do grep -q '^count 3$' "$S/test.log" 2>/dev/null && break; sleep 0.2; done
counts() { grep -c '^count' "$S/test.log"; }
last_count() { grep '^count' "$S/test.log" | tail -1 | cut -d' ' -f2; }

same running "list; list --all; domid test; domname 2; domstate test; domstate test --reason;
    dominfo test; dominfo 2; start test; domstats test --state; domstats --state --list-running"
same suspend-resume "suspend test; domstate test --reason; list --state-paused; suspend test;
    resume test; domstate test --reason; resume test; list --state-running; list --state-paused"
same vcpus "vcpucount test; vcpuinfo test; vcpupin test; vcpupin test 0; vcpupin test 5; cpu-stats test --total"
same errors "suspend nosuch; destroy nosuch; dominfo 7; qemu-monitor-command nosuch --hmp x;
    console test; console test --force"
# Without a terminal virsh refuses the console, --force or not (above); on
# one (tests/integration/lib/ptyrun.py) it shows the guest as it counts,
# and ^] detaches.
printf 'expect count \nsend \\x1d\neof\n' |
    python3 "$TOP/tests/integration/lib/ptyrun.py" --timeout 60 "$W/last" "$V" console test 2>&1
console_shown() { grep -q "^Connected to domain 'test'" "$W/last" && grep -q '^count [0-9]' "$W/last"; }
check "console: on a terminal, the guest's console as it counts; ^] detaches" console_shown

# ---- Suspend, judged by the guest: its count stands still -----------------
"$V" suspend test >/dev/null
a=$(counts)
sleep 1
b=$(counts)
"$V" "qemu-monitor-command test --hmp 'info status'" >"$W/last" 2>&1
stood_still() { [ "$a" = "$b" ] && grep -qx 'VM status: paused' "$W/last"; }
check "suspend: the guest stops counting; the monitor says paused" stood_still
"$V" resume test >/dev/null
sleep 1
"$V" "qemu-monitor-command test --hmp 'info status'" >"$W/last" 2>&1
counts_again() { [ "$(counts)" -gt "$b" ] && grep -qx 'VM status: running' "$W/last"; }
check "resume: the guest counts again; the monitor says running" counts_again

# ---- Memory: the balloon, and what hv cannot change on a running domain ----
"$V" "setmem test 16M --live; setmaxmem test 64M; setvcpus test 1 --live" >"$W/last" 2>&1
"$V" -q dominfo test >>"$W/last" 2>&1
# (One function, so that check judges every grep, not the first alone.)
live_memory_refusals() {
    grep -qx 'error: internal error: No balloon device has been activated' "$W/last" &&
        grep -qx 'error: Unable to change MaxMemorySize' "$W/last" &&
        grep -q 'cannot resize the maximum memory on an active domain' "$W/last" &&
        [ "$(grep -c '^error: ' "$W/last")" = 3 ] && grep -qx 'Used memory:    32768 KiB' "$W/last"
}
check "setmem --live asks the balloon (the counter has no driver: QEMU's refusal); setmaxmem live refused in libvirt's two lines; setvcpus --live to the count it has accepted; memory unchanged" \
    live_memory_refusals

# setmaxmem --config changes the definition for the next start; the running
# domain keeps its maximum (dominfo, and setmem --live's limit), as on the
# test driver, which keeps the live and persistent definitions apart too.
same maxmem-config "setmaxmem test 64M --config; dominfo test; setmem test 48M --live;
    setmaxmem test 32M --config; dominfo test"
# The live XML's <memory> and <currentMemory> are the running domain's, the
# inactive XML's the definition's (its memory lines, compared alone).
virsh_same maxmem-xml "$REAL_SETUP; setmaxmem test 64M --config; dumpxml test; dumpxml test --inactive;
    setmaxmem test 32M --config" "setmaxmem test 64M --config; dumpxml test; dumpxml test --inactive;
    setmaxmem test 32M --config" 7 "grep -E '<(current)?[mM]emory '" cat

# ---- The registry is xl's too ---------------------------------------------
"$TOP/bin/xl" list >"$W/last" 2>&1
check "xl list shows the domain virsh started" grep -q '^test  *2  *32  *1 ' "$W/last"
"$TOP/bin/xl" pause test
"$V" -q "domstate test" >"$W/last" 2>&1
check "virsh sees the pause xl made" grep -qx paused "$W/last"
"$TOP/bin/xl" unpause test

# ---- A snapshot with the domain's state -----------------------------------
same snapshots "snapshot-create-as test s1; snapshot-list test; snapshot-info test s1;
    snapshot-revert test s1 --paused; domstate test --reason; snapshot-revert test s1 --running;
    domstate test --reason; snapshot-delete test s1; snapshot-list test"
"$V" "snapshot-create-as test s2" >"$W/last" 2>&1
at=$(last_count)
sleep 2
qemu-img snapshot -l -U "$W/disk.qcow2" >"$W/snap.list" 2>&1
cp "$W/snap.list" "$W/last"
check "snapshot-create-as on a running domain: qemu-img lists s2 with a VM SIZE" \
    grep -Eq '^1 +s2 +[1-9][0-9.]* [KM]iB ' "$W/snap.list"
# The revert shows in the console as the count going back: the first count
# below the one before it, among the lines after the revert began, is
# where the guest went on from the snapshot's state -- at most the count
# seen when snapshot-create-as returned (and a few more, as in the other
# checks), not far below it, and not a guest started afresh.
n0=$(wc -l <"$S/test.log")
"$V" "snapshot-revert test s2" >"$W/last" 2>&1
first_after_revert() {
    awk -v n0="$n0" '/^count [0-9]+$/ { if (NR > n0 && prev != "" && $2 < prev) { print $2; exit } prev = $2 }' \
        "$S/test.log"
}
after=
for _ in $(seq 150); do
    after=$(first_after_revert)
    [ -n "$after" ] && break
    sleep 0.2
done
counts_from_snapshot() {
    echo "count $at when s2 was taken, $after first after the revert" >>"$W/last"
    [ -n "$at" ] && [ -n "$after" ] && [ "$after" -le $((at + 3)) ] && [ "$after" -ge $((at - 100)) ] &&
        [ "$after" -gt 1 ] && grep -qx 'Domain snapshot s2 reverted' "$W/last"
}
check "snapshot-revert: the guest counts again from the snapshot's value" counts_from_snapshot
"$V" "snapshot-delete test s2" >"$W/last" 2>&1
qemu-img snapshot -l -U "$W/disk.qcow2" >"$W/snap.list" 2>&1
check "snapshot-delete: gone from the disk" [ ! -s "$W/snap.list" ]

# ---- Destroy and start again, compared; then the machine is gone ----------
pid=$(sed -n 's/^pid=//p' "$S/test")
# The counter guest does not honour the power button: only the message.
same shutdown "shutdown test"
same lifecycle "reset test; reboot test; destroy test; domstate test --reason;
    destroy test; list --all; dominfo test; start test; domstate test --reason; domid test"
first_machine_gone() { [ -n "$pid" ] && none kill -0 "$pid" 2>/dev/null; }
check "destroy ended the first machine" first_machine_gone
# ---- A transient domain, with a balloon driver ----------------------------
# The balloond guest follows the balloon's target for as long as it runs.
sed -e 's/<name>test</<name>tr</' -e "/<devices>/,/<\/devices>/d" -e 's/>32</>48</' \
    -e "s#$G#$BUILD/guestkit/balloond.elf#" -e '/<cmdline>/d' \
    -e "s#^  <vcpu>#  <currentMemory unit='MiB'>32</currentMemory>\\n  <vcpu>#" "$W/hv/test.xml" >"$W/tr.xml"
"$V" "create $W/tr.xml" >"$W/last" 2>&1
"$V" -q "dominfo tr; list --all --transient --name" >>"$W/last" 2>&1
transient_runs() {
    grep -qx "Domain 'tr' created from $W/tr.xml" "$W/last" && grep -q '^Persistent: *no$' "$W/last" &&
        grep -qx tr "$W/last"
}
check "create: a transient domain runs, not persistent" transient_runs
for _ in $(seq 300); do grep -q '^balloond: ' "$S/tr.log" 2>/dev/null && break; sleep 0.2; done
"$V" setmem tr 24M >"$W/last" 2>&1
for _ in $(seq 300); do grep -q '^balloond: 24576 KiB' "$S/tr.log" 2>/dev/null && break; sleep 0.2; done
"$V" -q "dommemstat tr; dominfo tr; dumpxml tr" >>"$W/last" 2>&1
actual=$("$TOP/bin/hvctl" -s "$S/tr.sock" query-balloon | sed -n 's/.*"actual": \([0-9]*\).*/\1/p')
gave_back() {
    [ "$actual" = $((24 << 20)) ] && grep -qx 'actual 24576' "$W/last" &&
        grep -qx 'Used memory:    24576 KiB' "$W/last" && grep -qx 'Max memory:     49152 KiB' "$W/last" &&
        grep -qx "  <memory unit='KiB'>49152</memory>" "$W/last" &&
        grep -qx "  <currentMemory unit='KiB'>24576</currentMemory>" "$W/last"
}
check "setmem on a running domain: its balloon driver gives memory back to 24 MiB (query-balloon), dommemstat, dominfo and dumpxml show it" \
    gave_back
# <memory> 48 MiB, <currentMemory> 32: built with 48, it started with 32
# (the balloon's first target), and setmem may raise it up to 48.
"$V" "setmem tr 40M --live" >"$W/last" 2>&1
for _ in $(seq 300); do grep -q '^balloond: 40960 KiB' "$S/tr.log" 2>/dev/null && break; sleep 0.2; done
"$V" "setmem tr 64M --live" >>"$W/last" 2>&1
"$V" -q "dominfo tr" >>"$W/last" 2>&1
raised_above_boot() {
    [ "$(grep -m1 '^balloond: ' "$S/tr.log")" = 'balloond: 32768 KiB' ] &&
        grep -qx 'balloond: 40960 KiB' "$S/tr.log" &&
        grep -qx 'error: invalid argument: cannot set memory higher than max memory' "$W/last" &&
        grep -qx 'Used memory:    40960 KiB' "$W/last"
}
check "currentMemory 32 of 48: the guest starts with 32 MiB, setmem --live 40M raises it, 64M is refused in libvirt's words" \
    raised_above_boot
"$V" destroy tr >/dev/null 2>&1
"$V" -q "list --all --name" >"$W/last" 2>&1
check "destroy: a transient domain is gone" none grep -qx tr "$W/last"
# ---- dump: an ELF core of a small domain (its RAM by the bulk path,
# docs/monitor.md "Memory in bulk") ------------------------------------------
sed -e 's/<name>test</<name>small</' -e "/<devices>/,/<\/devices>/d" -e 's/>32</>2</' \
    "$W/hv/test.xml" >"$W/small.xml"
"$V" "create $W/small.xml" >/dev/null 2>&1
"$V" "dump small $W/small.core; domstate small" >"$W/last" 2>&1
dumped() {
    grep -qx "Domain 'small' dumped to $W/small.core" "$W/last" && tail -2 "$W/last" | grep -qx running &&
        readelf -h "$W/small.core" 2>/dev/null | grep -q 'CORE (Core file)' &&
        readelf -l "$W/small.core" 2>/dev/null | grep -q '0x0000000000200000 0x0000000000200000'
}
check "dump: an ELF core with the domain's 2 MiB of RAM (readelf), the domain runs on" dumped
"$V" destroy small >/dev/null 2>&1
rm -f "$W/small.core"

# ---- A domain xl created is virsh's too -----------------------------------
printf 'name = "x1"\nmemory = 16\nkernel = "%s"\nextra = "100000"\n' "$G" >"$W/x1.cfg"
"$TOP/bin/xl" create "$W/x1.cfg" >/dev/null 2>&1
"$V" -q "list --name; domstate x1; suspend x1; destroy x1; list --all --name" >"$W/last" 2>&1
xl_domain_gone() {
    [ "$(head -3 "$W/last")" = "$(printf 'test\nx1\nrunning')" ] && [ "$(tail -1 "$W/last")" = test ] &&
        none grep -q x1 <("$TOP/bin/xl" list)
}
check "xl create's domain: in virsh list, suspended and destroyed by virsh, then gone" xl_domain_gone

pid=$(sed -n 's/^pid=//p' "$S/test")
"$V" destroy test >/dev/null 2>&1
machine_gone() { [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && [ ! -e "$S/test" ]; }
check "destroy ends the machine and its record" machine_gone
# Whatever failed, leave no machine running.
for f in "$S"/*; do
    p=$(sed -n 's/^pid=//p' "$f" 2>/dev/null)
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null && kill -- -"$p"
done
exit 0
