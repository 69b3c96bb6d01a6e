# shellcheck shell=bash
# The operations of tests/integration/chaos.sh, sourced after lib.bash: each
# op_NAME DOMAIN ARG... is one thing a user does to a running domain with
# xl, virsh or the monitor, run as a job of its own beside others.  Every
# choice an operation makes (which front-end, which snapshot name, when to
# kill it) is made by the caller from the seeded $RANDOM and passed in as
# an argument, so that a seed repeats the same sequence.
#
# The caller sets: W (the work directory), S (the registry,
# $HVKIT_STATE_DIR/running), XL, VIRSH, HVCTL, HVMON, and for each domain
# D: KIND[D] (xl or virsh), SPEC[D] (its cfg or XML file), HOT[D] (an
# image to attach at run time), CD[D] (the CD-ROM drive's vdev, or empty).
#
# fe KILL COMMAND...: one front-end command, cut off after 180 s (a hang,
# which the caller reports); KILL (seconds, or 0) sends it SIGKILL after
# that long instead, a front-end that dies mid-request.  Its output goes
# to the job's log.
fe() {
    local k=$1
    shift
    echo "\$ $*"
    if [ "$k" != 0 ]; then
        timeout -s KILL "$k" "$@" </dev/null 2>&1
        local st=$?
        [ $st = 137 ] && echo "(killed after $k s)"
        return "$st"
    fi
    timeout -s KILL 180 "$@" </dev/null 2>&1
}

# hmp D KILL LINE...: the lines typed at a monitor on the domain's manager.
hmp() {
    local d=$1 k=$2
    shift 2
    printf '%s\n' "$@" | {
        echo "\$ hvmon $d: $*"
        if [ "$k" != 0 ]; then
            timeout -s KILL "$k" "$HVMON" "$S/$d.sock" 2>&1
        else
            timeout -s KILL 180 "$HVMON" "$S/$d.sock" 2>&1
        fi
    }
}

# pick N WORD...: the N-th word (from 0, modulo the count).
pick() {
    local n=$1
    shift
    local a=("$@")
    echo "${a[n % ${#a[@]}]}"
}

op_pause() {
    case $(pick "$2" xl virsh hmp) in
    xl) fe "$3" "$XL" pause "$1" ;;
    virsh) fe "$3" "$VIRSH" suspend "$1" ;;
    hmp) hmp "$1" "$3" stop ;;
    esac
}

op_unpause() {
    case $(pick "$2" xl virsh hmp) in
    xl) fe "$3" "$XL" unpause "$1" ;;
    virsh) fe "$3" "$VIRSH" resume "$1" ;;
    hmp) hmp "$1" "$3" cont ;;
    esac
}

# op_query D N KILL: one of the commands that only look.
op_query() {
    case $(($2 % 12)) in
    0) fe "$3" "$XL" list ;;
    1) fe "$3" "$XL" list -l "$1" ;;
    2) fe "$3" "$XL" vcpu-list "$1" ;;
    3) fe "$3" "$XL" top -b -i 1 -d 1 ;;
    4) fe "$3" "$XL" block-list "$1" ;;
    5) fe "$3" "$VIRSH" dominfo "$1" ;;
    6) fe "$3" "$VIRSH" domstats "$1" ;;
    7) fe "$3" "$VIRSH" domblkstat "$1" ;;
    8) fe "$3" "$VIRSH" list --all ;;
    9) fe "$3" "$HVCTL" -s "$S/$1.sock" query-domains ;;
    10) hmp "$1" "$3" 'info status' 'info block' 'info snapshots' 'info cpus' ;;
    11) hmp "$1" "$3" 'info registers' 'xp /4xw 0x100000' 'info blockstats' 'info balloon' ;;
    esac
}

# op_savevm D N KILL: an internal snapshot sN of the domain (N picks the
# front-end and the name among four).
op_savevm() {
    case $(pick "$2" hmp virsh) in
    hmp) hmp "$1" "$3" "savevm s$(($2 / 2 % 4))" ;;
    virsh) fe "$3" "$VIRSH" snapshot-create-as "$1" "s$(($2 / 2 % 4))" ;;
    esac
}

op_loadvm() {
    case $(pick "$2" hmp virsh) in
    hmp) hmp "$1" "$3" "loadvm s$(($2 / 2 % 4))" ;;
    virsh) fe "$3" "$VIRSH" snapshot-revert "$1" "s$(($2 / 2 % 4))" ;;
    esac
}

op_delvm() {
    case $(pick "$2" hmp virsh) in
    hmp) hmp "$1" "$3" "delvm s$(($2 / 2 % 4))" ;;
    virsh) fe "$3" "$VIRSH" snapshot-delete "$1" "s$(($2 / 2 % 4))" ;;
    esac
}

# op_memset D N KILL: a balloon target within the domain's RAM (the
# counter has no balloon driver: hv refuses, which is what is tested).
op_memset() {
    case $(pick "$2" xl virsh hmp) in
    xl) fe "$3" "$XL" mem-set "$1" "$((2 + $2 % 3))m" ;;
    virsh) fe "$3" "$VIRSH" setmem "$1" "$((2 + $2 % 3))M" ;;
    hmp) hmp "$1" "$3" "balloon $((2 + $2 % 3))" ;;
    esac
}

# op_blk D N KILL: a disk attached at run time, then (after N's pause)
# detached again; either may be the one killed.
op_blk() {
    local f=${HOT[$1]}
    case $(pick "$2" xl virsh) in
    xl)
        fe "$3" "$XL" block-attach "$1" "format=qcow2, vdev=xvdb, access=rw, target=$f"
        sleep "0.$(($2 % 10))"
        fe 0 "$XL" block-detach "$1" xvdb
        ;;
    virsh)
        fe "$3" "$VIRSH" attach-disk "$1" "$f" vdb --live --subdriver qcow2
        sleep "0.$(($2 % 10))"
        fe 0 "$VIRSH" detach-disk "$1" vdb --live
        ;;
    esac
}

# op_cd D N KILL: a medium into the CD-ROM drive or out of it.
op_cd() {
    local cd=${CD[$1]}
    [ -n "$cd" ] || { echo "(no CD-ROM drive)"; return 0; }
    case $(($2 % 4)) in
    0) fe "$3" "$XL" cd-insert "$1" "$cd" "$W/img/disc$(($2 / 4 % 2)).iso" ;;
    1) fe "$3" "$XL" cd-eject "$1" "$cd" ;;
    2) fe "$3" "$VIRSH" change-media "$1" "$cd" "$W/img/disc$(($2 / 4 % 2)).iso" --live --update ;;
    3) hmp "$1" "$3" "eject -f ide1-cd0" ;;
    esac
}

# op_console D N KILL: attach to the console on a terminal, see a count go
# by, detach with ^] (or be killed while attached).
op_console() {
    local tool
    tool=$(pick "$2" xl virsh)
    echo "\$ $tool console $1"
    local cmd=("$XL" console "$1")
    [ "$tool" = virsh ] && cmd=("$VIRSH" console "$1")
    local k=$3 t=$W/console.$BASHPID
    [ "$k" != 0 ] || k=60
    printf 'expect count\nsend \\x1d\neof\n' |
        timeout -s KILL "$k" python3 "$TOP/tests/integration/lib/ptyrun.py" --timeout 30 \
            "$t" "${cmd[@]}" 2>&1
    local st=$?
    tail -c 300 "$t" | tr -d '\r' | tail -n 3
    echo
    rm -f "$t"
    return $st
}

# op_save D N KILL: the domain saved to a file and restored from it (or
# saved with -c and left running).
op_save() {
    local f=$W/sav/$1.$2.sav st ks=$3 kr=0
    # N's second bit kills the restore (when this one is killed) instead.
    [ $(($2 / 2 % 2)) = 0 ] || { ks=0 kr=$3; }
    if [ "${KIND[$1]}" = xl ]; then
        if [ $(($2 % 3)) = 0 ]; then
            ks=$3
            fe "$ks" "$XL" save -c "$1" "$f"
            st=$?
        else
            fe "$ks" "$XL" save "$1" "$f" && restore_saved "$1" "$kr" "$XL" restore "$f"
            st=$?
        fi
    else
        fe "$ks" "$VIRSH" save "$1" "$f" && restore_saved "$1" "$kr" "$VIRSH" restore "$f"
        st=$?
    fi
    [ $st = 137 ] && [ "$ks" != 0 ] && { after_killed_save "$1" "$f"; st=$?; }
    rm -f "$f"
    return $st
}

# restore_saved D KILL COMMAND...: the restore of a save that succeeded
# (the domain is gone: a save ends it).  Its file must restore: a refusal
# is a broken promise (VIOLATION), unless this script killed the restore
# or a domain of that name runs again already (a create of the same round
# came first, which xl and virsh refuse to replace).
restore_saved() {
    local d=$1 k=$2 out st
    shift 2
    out=$(fe "$k" "$@")
    st=$?
    echo "$out"
    [ $st = 0 ] || { [ $st = 137 ] && [ "$k" != 0 ]; } ||
        grep -qE 'already exists|already active' <<<"$out" ||
        echo "VIOLATION: $d: saved, but the file does not restore"
    return $st
}

# after_killed_save D FILE: a save whose front-end was killed is done whole
# or not at all: either the domain runs on (no file), or FILE is whole and
# the domain gone, and then it is restored from FILE.  Waits for the
# manager, which carries the save out without its front-end.
after_killed_save() {
    local i
    for ((i = 0; i < 300; i++)); do
        [ -s "$2" ] && ! live "$1" && break
        sleep 0.2
    done
    if [ -s "$2" ]; then
        # Its machine ends after the file is whole (xl save's destroy).
        for ((i = 0; i < 150; i++)); do
            ended "$1" && break
            sleep 0.2
        done
        live "$1" && return 0 # saved with -c
        if [ "${KIND[$1]}" = xl ]; then fe 0 "$XL" restore "$2"; else fe 0 "$VIRSH" restore "$2"; fi ||
            echo "VIOLATION: $1: the killed save's file does not restore"
        return 0
    fi
    live "$1" || echo "VIOLATION: $1: the killed save left neither the domain nor a file"
    return 0
}

# wait_guards: until no guard of this run's front-ends is left (up to
# 60 s): a front-end killed mid-save, -restore or -dump leaves a guard
# (mgmt/common/guard.h) finishing its work -- ending a machine takes it
# up to 40 s -- and what it leaves is judged after it.  A guard is a
# process of xl, virsh or hvmon with this run's state directory.
wait_guards() {
    local i p busy
    for ((i = 0; i < 300; i++)); do
        busy=
        for p in $(pgrep -f -- "$BUILD/mgmt/(xl|virsh|hvmon) " 2>/dev/null); do
            { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qx "HVKIT_STATE_DIR=$HVKIT_STATE_DIR" &&
                busy=1
        done
        [ -z "$busy" ] && return 0
        sleep 0.2
    done
    return 1
}

# ended D: the domain's machine has ended (its record gone, or its pid).
ended() {
    local pid
    pid=$(sed -n 's/^pid=//p' "$S/$1" 2>/dev/null)
    [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null
}

# live D: the domain is in the registry and its manager answers.
live() {
    [ -e "$S/$1" ] && timeout 60 "$HVCTL" -s "$S/$1.sock" --timeout 50 query-status 2>/dev/null |
        grep -q '"return"'
}

# op_reset D N KILL: the reset button, or the power button (the counter
# ignores it), in each front-end's words.
op_reset() {
    case $(($2 % 5)) in
    0) fe "$3" "$XL" reboot "$1" ;;
    1) fe "$3" "$XL" trigger "$1" reset ;;
    2) fe "$3" "$VIRSH" reset "$1" ;;
    3) hmp "$1" "$3" system_reset ;;
    4) fe "$3" "$XL" shutdown "$1" ;;
    esac
}

# op_recreate D N KILL: the domain destroyed and made again from its file.
# An odd N kills the create (when this one is killed) instead of the destroy.
op_recreate() {
    local kd=$3 kc=0
    [ $(($2 % 2)) = 0 ] || { kd=0 kc=$3; }
    if [ "${KIND[$1]}" = xl ]; then
        fe "$kd" "$XL" destroy "$1"
        fe "$kc" "$XL" create "${SPEC[$1]}"
    else
        fe "$kd" "$VIRSH" destroy "$1"
        fe "$kc" "$VIRSH" create "${SPEC[$1]}"
    fi
}

# op_dump D N KILL: the domain's memory into a file (an ELF core, or
# pmemsave's raw bytes), then the file removed.
op_dump() {
    local f=$W/sav/$1.$2.core st
    case $(($2 % 3)) in
    0) fe "$3" "$XL" dump-core "$1" "$f" ;;
    1) fe "$3" "$VIRSH" dump "$1" "$f" --memory-only ;;
    2) hmp "$1" "$3" "pmemsave 0 0x400000 \"$f\"" ;;
    esac
    st=$?
    rm -f "$f"
    return $st
}

# op_rename D N KILL: a new name for the domain, then its own again.
op_rename() {
    fe "$3" "$XL" rename "$1" "$1-renamed"
    fe 0 "$XL" rename "$1-renamed" "$1"
}

CHAOS_OPS=(pause unpause query query savevm loadvm delvm memset blk cd console save reset recreate dump rename)
