#!/usr/bin/env bash
# The control protocol end to end (docs/control-protocol.md): bin/hvrun
# --control starts the manager (build/mgmt/hvmgr), hv serves the protocol on
# the outer machine's COM2, and bin/hvctl talks to it while the pattern
# guest counts.  On QEMU+SVM (one domain) and Bochs+VMX (two), one machine
# each:
#   - the greeting, query-status on the running guest, query-domains;
#   - with two domains (Bochs), stop domain=1 leaves domain 0 counting;
#   - the pause proof: after stop two reads of the guest's counter 1 s
#     apart give the same value (by virtual and by physical address), after
#     cont it moves; the pattern page reads as the guest wrote it (its
#     source is the oracle);
#   - bad JSON, an unknown command, bad arguments, an unmapped address: the
#     documented error classes, and the guest still runs;
#   - two front-ends at once, each sending 40 requests back to back: every
#     reply comes to the front-end that asked, with its own id;
#   - a front-end that dies in the middle of a line (nothing happens) and
#     one that goes away before its reply (the request is carried out
#     whole; the next front-end gets its own reply, not that one);
#   - system_reset starts the guest over;
#   - the events STOP, RESUME, RESET and SHUTDOWN reach a listening
#     front-end, and quit ends hv, the manager and its socket;
#   - an hv that does not answer (its outer QEMU stopped with SIGSTOP):
#     with the manager's time limit at 3 s (HVMGR_REPLY_TIMEOUT), the
#     front-end whose request hv has gets a Timeout error, and so does one
#     queued behind it, whose request never reaches hv; once QEMU goes on,
#     the next request is served and quit ends the run with status 0.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
G=$BUILD/guestkit/pattern.elf
HVCTL=$BUILD/mgmt/hvctl
TIMEOUT=${GUEST_TIMEOUT:-240}

# The first 300 bytes of the pattern page as guestkit/tests/pattern.c
# writes them: bytes 0..255, then "hvkit pattern" and its NUL, then 0xff.
expected_page() {
    local i s=''
    for ((i = 0; i < 256; i++)); do s+=$(printf '%02x' "$i"); done
    s+=$(printf 'hvkit pattern' | od -An -tx1 | tr -d ' \n')00
    for ((i = 256 + 14; i < 300; i++)); do s+=ff; done
    echo "$s"
}

# data REPLY: the hex string of an x-read-memory reply, or nothing.
data() { sed -n 's/^{"return": {"data": "\([0-9a-f]*\)"}}$/\1/p' <<<"$1"; }

# class REPLY: the error class of a reply, or nothing.
class() { sed -n 's/^{"error": {"class": "\([A-Za-z]*\)".*/\1/p' <<<"$1"; }

# session ID EMULATOR VENDOR DOMAINS: one machine, every check in turn;
# the first check that fails ends the case with its reason.
session() {
    local id=$1 emu=$2 vendor=$3 doms=$4 d=$W/$1
    mkdir -p "$d"
    local sock=$d/ctl.sock
    "$TOP/bin/hvrun" --emulator "$emu" --vendor "$vendor" --hv "$HV" --timeout "$TIMEOUT" \
        -m 32M --domains "$doms" --control "$sock" -kernel "$G" >"$d/out" 2>"$d/err" </dev/null &
    local run=$!
    local why
    why=$(checks "$d" "$sock" "$run" "$doms")
    if [ -n "$why" ]; then
        fail "$id" "$why"
        kill "$run" 2>/dev/null
        wait "$run"
        show_log "$d/err"
        show_log "$d/log" 30
        return
    fi
    wait "$run"
    local st=$?
    if [ -e "$sock" ]; then
        fail "$id" "the manager's socket is still there after quit"
    elif ! grep -q '^{"event": "SHUTDOWN", "data": {"domain": 0, "reason": "host-qmp-quit"}' \
        "$d/events"; then
        fail "$id" "no SHUTDOWN event (host-qmp-quit) after quit"
        show_log "$d/events"
    elif ! grep -qx '\[hv\] ctl: quit' "$d/err" || [ "$st" != 0 ]; then
        fail "$id" "hv did not log the quit, or hvrun did not end 0 as QEMU after quit (status $st)"
        show_log "$d/err"
    else
        pass "$id"
    fi
}

# checks DIR SOCKET RUN_PID DOMAINS: print the first failure's reason, or
# nothing.
checks() {
    local d=$1 sock=$2 run=$3 doms=$4 r a b c addr page
    local H=("$HVCTL" -s "$sock" --timeout 120)
    # The manager's socket appears before the machine starts; the guest
    # says where its page and counter are once it runs.
    for _ in $(seq 600); do
        [ -S "$sock" ] && grep -q '^pattern: counting' "$d/out" && break
        kill -0 "$run" 2>/dev/null || { echo "hvrun ended before the guest counted"; return; }
        sleep 0.2
    done
    addr=$(sed -n 's/^pattern: counter at //p' "$d/out")
    page=$(sed -n 's/^pattern: page at //p' "$d/out")
    [ -n "$addr" ] && [ -n "$page" ] || { echo "the guest did not say where its counter is"; return; }
    # A front-end listening for events from the start: STOP, RESUME twice
    # (and for domain 1), RESET, SHUTDOWN (of each domain).
    "$HVCTL" -s "$sock" --timeout 200 --events --count $((doms == 2 ? 9 : 6)) >"$d/events" 2>&1 &

    r=$("${H[@]}" query-status)
    echo "query-status: $r" >>"$d/log"
    [ "$r" = '{"return": {"status": "running", "running": true, "singlestep": false, "state": "running"}}' ] ||
        { echo "query-status on the running guest: $r"; return; }
    # The registers of a 64-bit guest: long mode in EFER (LME, LMA), a
    # 64-bit code segment (attribute L), paging on, RIP in the guest.
    r=$("${H[@]}" x-query-registers)
    echo "registers: $r" >>"$d/log"
    local efer cr0 csa rip
    efer=$(sed -n 's/.*"efer": \([0-9]*\),.*/\1/p' <<<"$r")
    cr0=$(sed -n 's/.*"cr0": \([0-9]*\),.*/\1/p' <<<"$r")
    csa=$(sed -n 's/.*"cs": {"selector": [0-9]*, "base": 0, "limit": [0-9]*, "attrib": \([0-9]*\)}.*/\1/p' <<<"$r")
    rip=$(sed -n 's/.*"rip": \([0-9]*\),.*/\1/p' <<<"$r")
    [ -n "$efer" ] && [ -n "$cr0" ] && [ -n "$csa" ] && [ -n "$rip" ] &&
        [ $((efer & 0x500)) = $((0x500)) ] && [ $((cr0 & 0x80000001)) = $((0x80000001)) ] &&
        [ $((csa & 0x200)) != 0 ] && [ "$rip" -ge $((0x100000)) ] && [ "$rip" -lt $((0x200000)) ] ||
        { echo "x-query-registers: $r"; return; }
    r=$("${H[@]}" query-domains)
    [[ $r == '{"return": [{"domain": 0, "name": "d0", '*'"memory": 33554432, '* ]] ||
        { echo "query-domains: $r"; return; }

    # The pause proof.
    r=$("${H[@]}" stop)
    [ "$r" = '{"return": {}}' ] || { echo "stop: $r"; return; }
    a=$(data "$("${H[@]}" x-read-memory addr="$addr" size=8)")
    sleep 1
    b=$(data "$("${H[@]}" x-read-memory addr="$addr" size=8 physical=true)")
    echo "stopped: $a $b" >>"$d/log"
    [ -n "$a" ] && [ "$a" = "$b" ] || { echo "stopped, the counter moved: $a then $b"; return; }
    r=$("${H[@]}" query-status)
    [[ $r == '{"return": {"status": "paused", "running": false, '* ]] ||
        { echo "query-status after stop: $r"; return; }
    r=$("${H[@]}" cont)
    [ "$r" = '{"return": {}}' ] || { echo "cont: $r"; return; }
    sleep 1
    c=$(data "$("${H[@]}" x-read-memory addr="$addr" size=8)")
    echo "after cont: $c" >>"$d/log"
    [ -n "$c" ] && [ "$c" != "$b" ] || { echo "after cont the counter did not move: $b then $c"; return; }
    # With two domains: domain 1 stopped, domain 0 still counts.
    if [ "$doms" = 2 ]; then
        local a1 b1
        r=$("${H[@]}" stop domain=1)
        [ "$r" = '{"return": {}}' ] || { echo "stop domain=1: $r"; return; }
        a=$(data "$("${H[@]}" x-read-memory addr="$addr" size=8)")
        a1=$(data "$("${H[@]}" x-read-memory domain=1 addr="$addr" size=8)")
        sleep 1
        b=$(data "$("${H[@]}" x-read-memory addr="$addr" size=8)")
        b1=$(data "$("${H[@]}" x-read-memory domain=1 addr="$addr" size=8)")
        echo "domain 1 stopped: d0 $a $b, d1 $a1 $b1" >>"$d/log"
        [ -n "$a1" ] && [ "$a1" = "$b1" ] && [ -n "$b" ] && [ "$a" != "$b" ] ||
            { echo "domain 1 stopped: domain 0 went $a -> $b, domain 1 $a1 -> $b1"; return; }
        r=$("${H[@]}" cont domain=1)
        [ "$r" = '{"return": {}}' ] || { echo "cont domain=1: $r"; return; }
    fi
    r=$(data "$("${H[@]}" x-read-memory addr="$page" size=300)")
    [ "$r" = "$(expected_page)" ] || { echo "the pattern page reads $r"; return; }

    # Errors, each of its class; the guest goes on.
    r=$("${H[@]}" --json '{"execute": "query-status"')
    [ "$(class "$r")" = GenericError ] || { echo "bad JSON: $r"; return; }
    # A line that is not JSON still gets its error with the id it shows.
    r=$("${H[@]}" --json '{"execute": "query-status", "id": 12, "arguments": {"domain": 0x1}}')
    [ "$(class "$r")" = GenericError ] && [[ $r == *'}, "id": 12}' ]] ||
        { echo "bad JSON with an id: $r"; return; }
    r=$("${H[@]}" --json '{"execute": "no-such-command", "id": 7}')
    [ "$r" = '{"error": {"class": "CommandNotFound", "desc": "The command no-such-command has not been found"}, "id": 7}' ] ||
        { echo "unknown command: $r"; return; }
    r=$("${H[@]}" x-read-memory addr="$addr" size=0)
    [ "$(class "$r")" = InvalidParameter ] || { echo "size=0: $r"; return; }
    r=$("${H[@]}" stop bogus=1)
    [ "$(class "$r")" = InvalidParameter ] || { echo "stop bogus=1: $r"; return; }
    r=$("${H[@]}" query-status domain=$doms)
    [ "$(class "$r")" = DeviceNotFound ] || { echo "domain=3: $r"; return; }
    r=$("${H[@]}" x-read-memory addr=0x7ffffffff000 size=16)
    [ "$(class "$r")" = GenericError ] && [[ $r == *"cannot be read"* ]] ||
        { echo "an unmapped virtual address: $r"; return; }
    r=$("${H[@]}" x-read-memory addr=0x2000000 size=16 physical=true)
    [[ $r == *'"desc": "guest-physical 0x2000000 is outside guest RAM (RAM is 0x0-0x1ffffff)"}}' ]] ||
        { echo "past the end of RAM: $r"; return; }
    r=$("${H[@]}" query-status)
    [[ $r == '{"return": {"status": "running", "running": true, '* ]] ||
        { echo "after the errors: $r"; return; }

    # Two front-ends at once.
    "${H[@]}" --repeat 40 query-status >"$d/two.a" 2>&1 &
    local pa=$!
    "${H[@]}" --repeat 40 x-read-memory addr="$page" size=16 >"$d/two.b" 2>&1
    local sb=$?
    wait "$pa"
    local sa=$?
    [ "$sa" = 0 ] && [ "$sb" = 0 ] || {
        echo "two front-ends at once: $(cat "$d/two.a" "$d/two.b")"
        return
    }

    # A front-end dying in the middle of a line does nothing ...
    "${H[@]}" --partial '{"execute": "stop"' || { echo "--partial failed"; return; }
    r=$("${H[@]}" query-status)
    [[ $r == '{"return": {"status": "running", '* ]] || { echo "after half a stop: $r"; return; }
    # ... one that goes away before its reply has it carried out whole, and
    # the next front-end gets its own reply.
    "${H[@]}" --send-only stop || { echo "--send-only failed"; return; }
    r=$("${H[@]}" --repeat 3 query-status)
    [ "$r" = "3 replies, each with its own id" ] || { echo "after a front-end left: $r"; return; }
    r=$("${H[@]}" query-status)
    [[ $r == '{"return": {"status": "paused", '* ]] || { echo "the stop of the front-end that left: $r"; return; }
    "${H[@]}" cont >/dev/null
    # A front-end killed while it waits.
    "${H[@]}" x-read-memory addr="$page" size=4096 >/dev/null &
    kill -KILL $! 2>/dev/null
    r=$("${H[@]}" x-read-memory addr="$page" size=2)
    [ "$r" = '{"return": {"data": "0001"}}' ] || { echo "after a killed front-end: $r"; return; }

    # system_reset builds the domain again: the guest starts over (its
    # lines a second time) and a RESET event says so.
    r=$("${H[@]}" system_reset)
    [ "$r" = '{"return": {}}' ] || { echo "system_reset: $r"; return; }
    for _ in $(seq 300); do
        [ "$(grep -c '^pattern: counting' "$d/out")" -ge 2 ] && break
        sleep 0.2
    done
    [ "$(grep -c '^pattern: counting' "$d/out")" = 2 ] || { echo "the guest did not start over after system_reset"; return; }
    r=$("${H[@]}" query-status)
    [[ $r == '{"return": {"status": "running", '* ]] || { echo "after system_reset: $r"; return; }

    r=$("${H[@]}" quit)
    [ "$r" = '{"return": {}}' ] || { echo "quit: $r"; return; }
    wait
    for e in STOP RESUME RESET; do
        grep -q "^{\"event\": \"$e\", \"data\": {\"domain\": 0}, \"timestamp\": {\"seconds\": [0-9]*, \"microseconds\": [0-9]*}}$" \
            "$d/events" || { echo "no $e event: $(cat "$d/events")"; return; }
    done
}

# stuck ID: the time limit of the manager on an hv that does not answer.
stuck() {
    local id=$1 d=$W/$1 qemu a b r st
    mkdir -p "$d"
    local sock=$d/ctl.sock
    HVMGR_REPLY_TIMEOUT=3 "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" -m 32M \
        --control "$sock" -kernel "$G" >"$d/out" 2>"$d/err" </dev/null &
    local run=$!
    for _ in $(seq 600); do
        [ -S "$sock" ] && grep -q '^pattern: counting' "$d/out" && break
        sleep 0.2
    done
    qemu=$(emulator_of "$run")
    if [ -z "$qemu" ] || ! grep -q '^pattern: counting' "$d/out"; then
        fail "$id" "the guest did not count, or no QEMU under hvrun"
        kill "$run" 2>/dev/null
        wait "$run"
        show_log "$d/err"
        return
    fi
    # hv stops in the middle of its work: nothing it does can answer.
    kill -STOP "$qemu"
    "$HVCTL" -s "$sock" --timeout 30 query-status >"$d/a" 2>&1 &
    a=$!
    sleep 1
    "$HVCTL" -s "$sock" --timeout 30 stop >"$d/b" 2>&1
    b=$?
    wait "$a"
    st=$?
    kill -CONT "$qemu"
    r=$("$HVCTL" -s "$sock" --timeout 120 query-status)
    "$HVCTL" -s "$sock" --timeout 120 quit >/dev/null
    wait "$run"
    local end=$?
    if [ "$st" != 1 ] || [ "$(class "$(cat "$d/a")")" != Timeout ] ||
        ! grep -q 'hv has not answered within 3 s' "$d/a"; then
        fail "$id" "the request hv had: status $st, reply $(cat "$d/a")"
    elif [ "$b" != 1 ] || ! grep -q '"class": "Timeout", "desc": "hv has not answered an earlier request within 3 s; this one was not sent"' "$d/b"; then
        fail "$id" "the request queued behind it: status $b, reply $(cat "$d/b")"
    elif [[ $r != '{"return": {"status": "running", '* ]] || [ "$end" != 0 ]; then
        fail "$id" "after QEMU went on: query-status '$r' (the stop must not have run), hvrun status $end"
        show_log "$d/err"
    else
        pass "$id"
    fi
}

skip_all_if "$(built_missing "$G" "$HV" "$HVCTL")" ctl-qemu-svm ctl-bochs-vmx ctl-stuck-hv
run_case ctl-qemu-svm session ctl-qemu-svm qemu svm 1
run_case ctl-stuck-hv stuck ctl-stuck-hv
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip ctl-bochs-vmx "$why"
else
    run_case ctl-bochs-vmx session ctl-bochs-vmx bochs vmx 2
fi
finish_cases
