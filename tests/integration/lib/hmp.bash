# shellcheck shell=bash
# A QEMU monitor session on plain QEMU and one on hvkit's monitor under hv,
# with the same command lines, and their transcripts compared command by
# command (tests/integration/hmp-qemu.sh, commit.sh).  Sourced after
# lib.bash; the sourcing script sets G (the guest's ELF file) and
# HMP_READY, the console line (a grep pattern) after which the guest takes
# commands, and may change MEM (the guest's MiB) and QEMU_EXTRA/HV_EXTRA
# (options each machine gets besides the usual ones).  A command file's lines are sent one at a time; "sleep N"
# lines wait instead (feed).  PAGE and COUNTER in a command stand for the
# addresses the guest printed ("...: page at ADDR", "...: counter at
# ADDR").  HMP_WRAP, if set, is a command both machines run under (QEMU
# and bin/hvrun), such as setpriv with fewer capabilities.
HMP_WRAP=()
W=$IT_WORK
HVMON=$BUILD/mgmt/hvmon
TIMEOUT=${GUEST_TIMEOUT:-240}
QEMU_EXTRA=() HV_EXTRA=() MEM=128

# clean FILE: a monitor transcript without terminal escapes and CRs, each
# prompt line (with the command QEMU echoes) reduced to "(qemu)".
clean() {
    tr -d '\r' <"$1" | sed -E 's/\x1b\[[0-9;]*[A-Za-z]//g; s/^\(qemu\) .*$/(qemu)/'
}

# block FILE N: the output of the N-th command (from 1) of a clean
# transcript: the lines between its prompt and the next.
block() {
    awk -v n="$2" '/^\(qemu\)/ { k++; next } k == n' "$1"
}

# feed FIFO_FD FILE TRANSCRIPT [CONSOLE]: the lines of FILE, one at a time,
# "sleep N" lines waiting instead of being sent, and "until N SECONDS
# REGEX" lines too: until the guest's CONSOLE holds N more lines matching
# REGEX than when the line was reached, at most SECONDS (a wait that ends
# as soon as the guest has done what the next command looks at).  Each
# line is sent once the monitor has answered every line sent before it
# (its prompts in TRANSCRIPT: one at the start, one after each answer), and
# so is each sleep begun: on a loaded host a monitor can lag behind its
# input, and a sleep it has not caught up with would pass before the
# commands around it run (the pause proof's `cont` and the read after it
# would then come together).  A monitor that leaves a line unanswered for
# 60 s is not waited for again: the rest go 0.3 s apart.
feed() {
    local l sent=0 i lagging=0
    while IFS= read -r l; do
        if [ "$lagging" = 0 ] && ! answered "$3" "$sent"; then
            lagging=1
        fi
        case $l in
        sleep\ * | until\ *)
            if [[ $l == until\ * ]]; then
                read -r _ more secs regex <<<"$l"
                local want=$(($(grep -Ec "$regex" "$4" 2>/dev/null) + more))
                for ((i = 0; i < secs * 10; i++)); do
                    [ "$(grep -Ec "$regex" "$4" 2>/dev/null)" -ge "$want" ] && break
                    sleep 0.1
                done
            else
                sleep "${l#sleep }"
            fi
            ;;
        *)
            printf '%s\n' "$l" >&"$1" 2>/dev/null || return 1
            sent=$((sent + 1))
            [ "$lagging" = 0 ] || sleep 0.3
            ;;
        esac
    done <"$2"
}

# answered TRANSCRIPT SENT: wait (up to 60 s) until TRANSCRIPT holds more
# prompts than SENT, that is until the monitor has answered SENT lines and
# waits for the next; false if it never does.
answered() {
    local i
    for ((i = 0; i < 1200; i++)); do
        [ "$(grep -o '(qemu)' "$1" 2>/dev/null | wc -l)" -gt "$2" ] && return 0
        sleep 0.05
    done
    return 1
}

# expand CONSOLE TEMPLATE: the template's command lines with PAGE and
# COUNTER replaced by the addresses the guest printed on CONSOLE.
expand() {
    local page counter
    page=$(sed -n 's/.*: page at \(0x[0-9a-f]*\)$/\1/p' "$1" | head -n 1)
    counter=$(sed -n 's/.*: counter at \(0x[0-9a-f]*\)$/\1/p' "$1" | head -n 1)
    sed "s/PAGE/$page/g; s/COUNTER/$counter/g" "$2"
}

# qemu_session CMDS OUT: the guest on plain QEMU, QEMU's monitor on a
# pipe; once the guest is ready (HMP_READY), the commands, then quit.
qemu_session() {
    local cmds=$1 out=$2 d=$W/qemu.$$.$RANDOM
    mkdir -p "$d"
    mkfifo "$d/in"
    timeout -k 5 "$TIMEOUT" "${HMP_WRAP[@]}" qemu-system-x86_64 -accel tcg -cpu max -nodefaults -display none \
        -no-reboot -serial "file:$d/serial" -device isa-debug-exit,iobase=0xf4,iosize=4 -m "$MEM" \
        "${QEMU_EXTRA[@]}" -kernel "$G" -monitor stdio <"$d/in" >"$out.raw" 2>&1 &
    local pid=$!
    exec {fd}>"$d/in"
    if wait_for "$d/serial" "$HMP_READY" 60; then
        feed "$fd" <(expand "$d/serial" "$cmds") "$out.raw" "$d/serial"
    fi
    printf 'quit\n' >&"$fd" 2>/dev/null
    exec {fd}>&-
    wait "$pid"
    cp "$d/serial" "$out.console"
    clean "$out.raw" >"$out"
}

# damaged OUT: did the control channel lose bytes in that session?  Under a
# heavy host load a reply from hv can arrive damaged (the manager then
# drops it: "not a JSON object") and the request goes unanswered; that is
# the channel's fault, not the monitor's.
damaged() {
    grep -q 'not a JSON object' "$1.err" 2>/dev/null ||
        grep -q "x-read-memory's replies came back damaged" "$1.raw" 2>/dev/null
}

# hv_session CMDS OUT [EMULATOR VENDOR]: as hv_once, once more if the
# control channel damaged a reply the first time (said on stdout).
hv_session() {
    hv_once "$@"
    if damaged "$2"; then
        echo "    (the control channel damaged a reply; running the session again)"
        hv_once "$@"
    fi
}

# hv_once CMDS OUT [EMULATOR VENDOR]: the guest under hv with its
# manager's socket (bin/hvrun --control), hvkit's monitor on it; once the
# guest is ready, the commands, then quit.
hv_once() {
    local cmds=$1 out=$2 emu=${3:-qemu} vendor=${4:-svm} d=$W/hv.$$.$RANDOM
    mkdir -p "$d"
    "${HMP_WRAP[@]}" "$TOP/bin/hvrun" --emulator "$emu" --vendor "$vendor" --hv "$HV" --timeout "$TIMEOUT" \
        -m "${MEM}M" "${HV_EXTRA[@]}" --control "$d/ctl.sock" -kernel "$G" >"$out.console" \
        2>"$out.err" &
    local pid=$!
    if wait_for "$out.console" "$HMP_READY" "$TIMEOUT"; then
        { feed 1 <(expand "$out.console" "$cmds") "$out.raw" "$out.console" && echo quit; } |
            HVMON_TRACE=1 "$HVMON" "$d/ctl.sock" >"$out.raw" 2>"$out.trace"
    fi
    wait "$pid"
    echo $? >"$out.status"
    clean "$out.raw" >"$out"
}

# compare_same Q H [CMDS UPTO LABEL]: the outputs of the first UPTO
# commands of CMDS ("sleep" lines not counted; default: cmds, SAME_UPTO),
# one case each named "LABEL: COMMAND", each output passed through
# snap_form first.
compare_same() {
    local q=$1 h=$2 cmds=${3:-$W/cmds} upto=${4:-$SAME_UPTO} label=${5:-same output as QEMU}
    local n=0 cmd
    while IFS= read -r cmd; do
        [[ $cmd == sleep\ * || $cmd == until\ * ]] && continue
        n=$((n + 1))
        [ "$n" -le "$upto" ] || break
        if [ "$(block "$q" "$n" | snap_form)" = "$(block "$h" "$n" | snap_form)" ]; then
            pass "$label: $cmd"
        else
            fail "$label: $cmd" "outputs differ"
            diff <(block "$q" "$n") <(block "$h" "$n") | sed 's/^/    /' | head -20
        fi
    done <"$cmds"
}

# snap_form: a snapshot line's VM SIZE, DATE and VM CLOCK columns (QEMU's
# bdrv_snapshot_dump: 8, 20 and 13 characters from column 28 of 79)
# replaced by "SIZE DATE CLOCK" where each has its form, so that tables
# taken at other times compare.
snap_form() {
    awk '/^--/ && length($0) == 79 &&
        substr($0, 28, 8) ~ /^ *[0-9.]+ [KMGT]?i?B$/ &&
        substr($0, 36, 20) ~ /^ [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]$/ &&
        substr($0, 56, 13) ~ /^ +[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9]$/ {
            $0 = substr($0, 1, 27) "SIZE DATE CLOCK" substr($0, 69)
        }
        { print }'
}
