#!/usr/bin/env bash
# Front-ends against live domains at random (QEMU+SVM): issue 10's "nothing
# a front-end or a guest does crashes hv", and "a front-end that dies
# mid-request leaves nothing half done".
#
# Two domains run the counter guest (a line "count N" every 20 ms, its
# count kept on its qcow2 disk): "xa" made by xl (with an empty CD-ROM
# drive), "vb" by virsh.  Then, for CHAOS_SECONDS (60), rounds of one to
# CHAOS_JOBS (3) operations at once, drawn from the seed CHAOS_SEED (1 by
# default; the line "chaos: seed N" says which, and the same seed draws
# the same rounds): pause and unpause, savevm/loadvm/delvm (the monitor or
# virsh snapshot-*), queries (xl list/top/vcpu-list/block-list, virsh
# dominfo/domstats/domblkstat, info ... at the monitor), a balloon target,
# a qcow2 disk attached and detached at run time, CD-ROM media in and out,
# the console attached on a terminal and detached with ^], xl/virsh save
# and restore, the reset and power buttons, destroy and create again,
# memory into a file (xl dump-core, virsh dump, pmemsave), xl rename.
# One operation in five is killed (SIGKILL) after a random delay.
# lib/chaos.bash has the operations.
#
# Judged afterwards:
#   - no front-end died of a signal it was not sent, hung (180 s), or said
#     that hv does not answer; a killed save left the domain running or a
#     whole file, which restores;
#   - a domain is gone only after an operation that may end it (killed,
#     save, destroy), and is then made again;
#   - every domain's hv answers query-status, and each guest, resumed,
#     still counts;
#   - after the domains are destroyed: real `qemu-img check` finds every
#     disk clean (the boot disks with their snapshots, the disks attached
#     at run time), and nothing is left: no record, socket or log in the
#     registry, no hvrun temporary directory, no temporary file beside a
#     disk or save file, no process of the run.
# A failure prints the seed and the last operations.  CHAOS_SEED=N and
# CHAOS_SECONDS=S repeat or lengthen a run; CHAOS_KEEP=1 keeps the domains.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/chaos.bash"

W=$IT_WORK
XL=$TOP/bin/xl
VIRSH=$TOP/bin/virsh
HVCTL=$BUILD/mgmt/hvctl
HVMON=$BUILD/mgmt/hvmon
C=$BUILD/guestkit/counter.elf
export HVKIT_STATE_DIR=$W/st HVKIT_TOP=$TOP TMPDIR=$W/tmp
S=$HVKIT_STATE_DIR/running
SEED=${CHAOS_SEED:-1}
LENGTH=${CHAOS_SECONDS:-60}
JOBS=${CHAOS_JOBS:-3}
CASES=(chaos-start chaos-killed-save chaos-killed-dump chaos-killed-restore chaos-ops chaos-answers chaos-counts chaos-disks chaos-leftovers)
skip_all_if "$(built_missing "$HV" "$C" "$BUILD/mgmt/xl" "$BUILD/mgmt/virsh" "$HVMON")" "${CASES[@]}"
skip_all_if "$(command -v qemu-img >/dev/null || echo "qemu-img is not installed (bash mk/deps.sh test)")" \
    "${CASES[@]}"
mkdir -p "$W/tmp" "$W/img" "$W/sav" "$W/ops"
declare -A KIND SPEC HOT CD
DOMS=(xa vb)
echo "    chaos: seed $SEED, $LENGTH s of operations (CHAOS_SEED=$SEED CHAOS_SECONDS=$LENGTH to repeat)"

# ---- The domains -----------------------------------------------------------
for d in "${DOMS[@]}"; do
    qemu-img create -q -f qcow2 "$W/img/$d.qcow2" 1M
    qemu-img create -q -f qcow2 "$W/img/$d-hot.qcow2" 1M
    HOT[$d]=$W/img/$d-hot.qcow2
done
for n in 0 1; do head -c $((64 * 2048)) /dev/zero | tr '\0' "$n" >"$W/img/disc$n.iso"; done
KIND[xa]=xl SPEC[xa]=$W/xa.cfg CD[xa]=hdc
cat >"$W/xa.cfg" <<CFG
name = "xa"
memory = 4
kernel = "$C"
extra = "1000000 disk"
disk = [ 'format=qcow2, vdev=xvda, access=rw, target=$W/img/xa.qcow2', ',,hdc,cdrom' ]
CFG
KIND[vb]=virsh SPEC[vb]=$W/vb.xml CD[vb]=
cat >"$W/vb.xml" <<XML
<domain type='hvkit'>
  <name>vb</name>
  <memory unit='MiB'>4</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type><kernel>$C</kernel><cmdline>1000000 disk</cmdline></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$W/img/vb.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML

# counts D: how many count lines the domain's console has shown.
counts() { grep -c '^count [0-9]*$' "$S/$1.log" 2>/dev/null; }

# counting D SECONDS: the domain's console shows five more counts within
# SECONDS.
counting() {
    local i want=$(($(counts "$1") + 5))
    for ((i = 0; i < $2 * 5; i++)); do
        [ "$(counts "$1")" -ge "$want" ] && return 0
        sleep 0.2
    done
    return 1
}

# create D: the domain made from its file, and counting.
create() {
    if [ "${KIND[$1]}" = xl ]; then
        "$XL" create "${SPEC[$1]}"
    else
        "$VIRSH" create "${SPEC[$1]}"
    fi >>"$W/ops.log" 2>&1 && counting "$1" 120
}

# cleanup: every machine of this run ended (matched by its state
# directory), whatever happened.
cleanup() {
    local d p
    [ -n "${CHAOS_KEEP:-}" ] && return
    for d in "${DOMS[@]}"; do "$XL" destroy "$d" >/dev/null 2>&1; done
    for p in $(pgrep -f -- "$W/" 2>/dev/null); do
        [ "$p" = $$ ] || kill "$p" 2>/dev/null
    done
}
trap cleanup EXIT

bad=
for d in "${DOMS[@]}"; do create "$d" || bad+=" $d"; done
if [ -n "$bad" ]; then
    fail chaos-start "domain(s)$bad did not start counting"
    show_log "$W/ops.log"
    exit 0
fi
pass chaos-start

# ---- A save whose front-end is killed ------------------------------------
# killed_save D COMMAND...: COMMAND D FILE, a save, killed (SIGKILL) while
# the manager writes the domain's state; then the domain runs on, counting,
# and no file is left: no FILE, no temporary twin beside it, no state file
# in the registry.  The rounds below kill saves at random moments.
killed_save() {
    local d=$1 f=$W/sav/killed-$1.sav pid i why=
    shift
    "$@" "$d" "$f" >"$W/killed-$d.out" 2>&1 &
    pid=$!
    for ((i = 0; i < 6000; i++)); do
        compgen -G "$S/.$d.state.*" >/dev/null && break
        sleep 0.01
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid"
    wait_guards
    # A save can be whole before the kill lands (a small guest's state is
    # written in a moment, and on a quiet machine between two looks for
    # its temporary file): then its guard ends the domain as a save ends
    # it and the file stays, which is no half-done save.  The domain is
    # made again and judged as below, and the run says the kill came late.
    if [ ! -e "$S/$d.sock" ] && [ -s "$f" ]; then
        echo "    chaos: the $d save finished before its kill; $d made again" >&2
        rm -f "$f"
        create "$d" || why+=" $d could not be made again;"
    fi
    r=$("$HVCTL" -s "$S/$d.sock" --timeout 30 query-status 2>&1)
    [[ $r == *'"status": "running"'* ]] || why+=" $d is not running: $r;"
    counting "$d" 60 || why+=" $d does not count;"
    left=$(ls -A "$W/sav" "$S" | grep -e "killed-$d" -e "^$d.state" -e "^\.$d.state")
    [ -z "$left" ] || why+=" left behind: $(tr '\n' ' ' <<<"$left");"
    echo "$why"
}
why=$(killed_save xa "$XL" save)$(killed_save vb "$VIRSH" save)
if [ -z "$why" ]; then
    pass "chaos-killed-save: xl save and virsh save killed mid-save: the domains run on, no file left"
else
    fail chaos-killed-save "$why"
fi

# A dump whose front-end is killed with its process group (as ^C or
# timeout kills it: for xl dump-core the monitor xl runs, for virsh dump
# virsh with the monitor linked in) while the manager moves a piece of
# guest memory: no file, no temporary file or directory beside it (the
# manager finishes the piece after the monitor's death), and the domain,
# paused for the dump, runs again as after a finished dump.
killed_dump() {
    local d=$1 f=$W/sav/killed-$1.core pid i why= r
    shift
    setsid "$@" "$d" "$f" >"$W/killed-dump-$d.out" 2>&1 &
    pid=$!
    for ((i = 0; i < 6000; i++)); do
        compgen -G "$W/sav/.killed-$d.core.mem.*/.hvmon-mem.*" >/dev/null && break
        sleep 0.01
    done
    kill -KILL -- -"$pid"
    wait "$pid"
    wait_guards
    for ((i = 0; i < 100; i++)); do
        [ -z "$(ls -A "$W/sav")" ] && break
        sleep 0.1
    done
    left=$(ls -A "$W/sav" | tr '\n' ' ')
    [ -z "$left" ] || why+=" left behind: $left;"
    r=$("$HVCTL" -s "$S/$d.sock" --timeout 30 query-status 2>&1)
    [[ $r == *'"status": "running"'* ]] || why+=" $d is not running: $r;"
    counting "$d" 60 || why+=" $d does not count;"
    # The rounds below start from running domains whatever happened here.
    "$XL" unpause "$d" >/dev/null 2>&1
    echo "$why"
}
why=$(killed_dump xa "$XL" dump-core)$(killed_dump vb "$VIRSH" dump --memory-only)
if [ -z "$why" ]; then
    pass "chaos-killed-dump: xl dump-core and virsh dump killed mid-dump: the domains run on, no file left"
else
    fail chaos-killed-dump "$why"
fi

# A restore whose front-end is killed with its process group as its
# machine starts (the machine still booting): the machine ended, its kernel and state files gone, so
# the same file restores afterwards.
killed_restore() {
    local f=$W/sav/killed-restore.sav pid i
    "$XL" save xa "$f" >"$W/killed-restore.out" 2>&1 || { echo "xl save failed"; return; }
    setsid "$XL" restore "$f" >>"$W/killed-restore.out" 2>&1 &
    pid=$!
    for ((i = 0; i < 6000; i++)); do
        [ -e "$S/xa.kernel" ] && break
        sleep 0.01
    done
    kill -KILL -- -"$pid"
    wait "$pid"
    wait_guards
    for ((i = 0; i < 150; i++)); do
        ended xa && break
        sleep 0.2
    done
    ended xa || echo "the restore's machine runs on;"
    ls -A "$S" | grep -E '^xa\.(kernel|state)$' | tr '\n' ' '
    "$XL" destroy xa >/dev/null 2>&1
    "$XL" restore "$f" >>"$W/killed-restore.out" 2>&1 && counting xa 60 ||
        echo "the file does not restore afterwards;"
    rm -f "$f"
}
left=$(killed_restore)
if [ -z "$left" ]; then
    pass "chaos-killed-restore: xl restore killed while its machine starts leaves nothing behind"
else
    fail chaos-killed-restore "$left"
    show_log "$W/killed-restore.out"
fi

# ---- The rounds ------------------------------------------------------------
# shows_trouble LOG: a job's log shows a front-end dying of a signal it was
# not sent, a hang, hv not answering, or a broken promise (VIOLATION).
shows_trouble() {
    grep -E 'VIOLATION|Timeout|has not answered|does not answer|Segmentation|Aborted|core dumped|internal error: hv|assert' "$1"
}

RANDOM=$SEED
round=0 nops=0 trouble=
end=$((SECONDS + LENGTH))
while [ $SECONDS -lt $end ]; do
    round=$((round + 1))
    jobs_now=$((1 + RANDOM % JOBS))
    pids=() logs=() lines=()
    for ((j = 0; j < jobs_now; j++)); do
        op=${CHAOS_OPS[RANDOM % ${#CHAOS_OPS[@]}]}
        d=${DOMS[RANDOM % ${#DOMS[@]}]}
        n=$RANDOM
        kill_after=0
        [ $((RANDOM % 5)) = 0 ] && kill_after=$((RANDOM % 30 / 10)).$((RANDOM % 10))
        [ "$kill_after" = 0.0 ] && kill_after=0.1
        nops=$((nops + 1))
        log=$W/ops/$round.$j
        line="round $round: $op $d $n kill=$kill_after"
        echo "$line" >>"$W/ops.log"
        "op_$op" "$d" "$n" "$kill_after" >"$log" 2>&1 &
        pids+=($!) logs+=("$log") lines+=("$line")
    done
    for ((j = 0; j < jobs_now; j++)); do
        wait "${pids[j]}"
        st=$?
        sed 's/^/      /' "${logs[j]}" >>"$W/ops.log"
        echo "    -> ${lines[j]}: status $st" >>"$W/ops.log"
        # 137: a front-end this script killed; above 128 otherwise: one
        # that died of a signal (or hung and was cut off after 180 s).
        if { [ $st -gt 128 ] && [ $st != 137 ]; } || { [ $st = 137 ] && [[ ${lines[j]} == *kill=0 ]]; } ||
            shows_trouble "${logs[j]}" >/dev/null; then
            trouble+="${lines[j]}: status $st: $(shows_trouble "${logs[j]}" | head -2 | tr '\n' ' ')"$'\n'
        fi
    done
    # A domain gone after the round (its guards done) is made again;
    # only a killed operation, a save or a destroy may have ended it.
    wait_guards || trouble+="round $round: a killed front-end's guard runs on after 60 s"$'\n'
    for d in "${DOMS[@]}"; do
        # A rename the round left half done (killed, or beaten by a
        # create of the name) is undone first.
        if [ -e "$S/$d-renamed" ]; then
            "$XL" rename "$d-renamed" "$d" >>"$W/ops.log" 2>&1 ||
                "$XL" destroy "$d-renamed" >>"$W/ops.log" 2>&1
        fi
        live "$d" && continue
        may=$(printf '%s\n' "${lines[@]}" | grep -E ": (save|recreate|rename) $d |: [a-z]+ $d [0-9]+ kill=[0-9]+\.[0-9]")
        [ -n "$may" ] || trouble+="round $round: $d is gone after: $(printf '%s; ' "${lines[@]}")"$'\n'
        echo "    round $round: $d is gone; made again" >>"$W/ops.log"
        for ((i = 0; i < 150; i++)); do
            ended "$d" && break
            sleep 0.2
        done
        "$XL" destroy "$d" >>"$W/ops.log" 2>&1
        create "$d" || trouble+="round $round: $d could not be made again"$'\n'
    done
    [ -z "$trouble" ] || break
done

# report CASE WHY: FAIL with the seed and the last operations.
report() {
    fail "$1" "seed $SEED (CHAOS_SEED=$SEED CHAOS_SECONDS=$LENGTH): $2"
    grep -E '^round|-> round' "$W/ops.log" | tail -n 12 | sed 's/^/    /'
}

if [ -z "$trouble" ]; then
    pass "chaos-ops: $nops operations in $round rounds, no front-end crashed or hung"
else
    report chaos-ops "$(head -3 <<<"$trouble" | tr '\n' ' ')"
fi

# ---- Afterwards ------------------------------------------------------------
bad=
for d in "${DOMS[@]}"; do
    r=$(timeout 60 "$HVCTL" -s "$S/$d.sock" --timeout 30 query-status 2>&1)
    echo "$d: $r" >>"$W/ops.log"
    [[ $r == *'"return": {"status": '* ]] || bad+=" $d: ${r:-no answer within 30 s};"
done
if [ -z "$bad" ]; then pass chaos-answers; else report chaos-answers "$bad"; fi

bad=
for d in "${DOMS[@]}"; do
    "$XL" unpause "$d" >>"$W/ops.log" 2>&1
    counting "$d" 60 || bad+=" $d"
done
if [ -z "$bad" ]; then pass chaos-counts; else report chaos-counts "no new counts from$bad"; fi

[ -n "${CHAOS_KEEP:-}" ] && exit 0
for d in "${DOMS[@]}"; do "$XL" destroy "$d" >>"$W/ops.log" 2>&1; done
bad=
for f in "$W"/img/*.qcow2; do
    qemu-img check -q "$f" >>"$W/ops.log" 2>&1 || bad+=" $(basename "$f")"
done
if [ -z "$bad" ]; then pass chaos-disks; else report chaos-disks "qemu-img check finds$bad damaged"; fi

"$XL" list >/dev/null 2>&1 # forgets the records of ended machines
sleep 1
left=$(
    ls -A "$S" | grep -vx -e lock -e next-domid | sed 's/^/registry: /'
    ls -A "$W/tmp" | sed 's/^/tmp: /'
    ls -A "$W/img" "$W/sav" | grep '^\.' | sed 's/^/temporary file: /'
    pgrep -af -- "$W/" | grep -v "^$$ " | sed 's/^/process: /'
)
if [ -z "$left" ]; then pass chaos-leftovers; else report chaos-leftovers "$(tr '\n' ';' <<<"$left")"; fi
