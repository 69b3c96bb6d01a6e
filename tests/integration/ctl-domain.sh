#!/usr/bin/env bash
# Domains made and destroyed while hv runs (docs/control-protocol.md
# "Loading a new domain at run time"): bin/hvrun --control boots one guest
# and attaches the staging disk; bin/hvctl sends domain-create with a
# kernel's host path, the manager (build/mgmt/hvmgr) writes the kernel to
# the staging disk, hv reads it from there, builds the domain as at boot
# and runs it beside the others.  On QEMU+SVM:
#   - two pattern guests made at run time count beside domain 0 (their
#     console lines with [d1] and [d2], query-domains with their names and
#     memory, their counters move), CREATED events;
#   - a triple-faulting guest made at run time crashes alone: the others
#     still count;
#   - a missing file, a file that is no Multiboot image, a relative path,
#     too much memory, a taken name and bad arguments are each refused with
#     a clear error and change nothing (query-host and query-domains the
#     same before and after);
#   - with four domains a fifth is refused (hv's limit), and the crashed
#     domain's number is given to the next domain made;
#   - domain-destroy gives the domain's memory back, and create/destroy
#     three times over leaves hv's heap exactly as it was (no leak); after
#     quit hv's heap holds what it held before any domain was made;
#   - a domain made with vcpus=2 (maxvcpus=3: a third vCPU not available)
#     runs the smp guest as plain QEMU -smp 2
#     does (the same lines).
# On Bochs+VMX: one domain made at run time counts beside domain 0 and is
# destroyed.  And on QEMU+SVM, a machine whose only domain crashed with
# on_crash=preserve stays up, the domain listed as crashed, until it is
# destroyed.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/ctl.bash"

W=$IT_WORK
P=$BUILD/guestkit/pattern.elf
T=$BUILD/guestkit/triple.elf
S=$BUILD/guestkit/smp.elf
TIMEOUT=${GUEST_TIMEOUT:-240}

# counter OUT PREFIX: the guest-physical address of a pattern guest's
# counter, from its console line.
counter() { sed -n "s/^$2pattern: counter at //p" "$1" | tail -n 1; }

# moves SOCK DOMAIN ADDR: the counter at ADDR of DOMAIN changes within 1 s.
moves() {
    local a b
    a=$("$HVCTL" -s "$1" --timeout 120 x-read-memory domain="$2" addr="$3" size=8 physical=true)
    sleep 1
    b=$("$HVCTL" -s "$1" --timeout 120 x-read-memory domain="$2" addr="$3" size=8 physical=true)
    [[ $a == '{"return": {"data": '* ]] && [ "$a" != "$b" ]
}

# free SOCK: hv's free heap bytes.
free_mem() {
    "$HVCTL" -s "$1" --timeout 120 query-host | sed -n 's/.*"free-memory": \([0-9]*\).*/\1/p'
}

# refused SOCK CLASS WORDS ARGS...: domain-create ARGS is refused with an
# error of CLASS whose words contain WORDS, and nothing changes.
refused() {
    local sock=$1 cls=$2 words=$3
    shift 3
    ctl_refused "$sock" "$cls" "$words" domain-create "$@"
}

# create SOCK ARGS...: domain-create; prints the domain's number.
create() {
    local sock=$1 r
    shift
    r=$("$HVCTL" -s "$sock" --timeout 120 domain-create "$@")
    echo "domain-create $*: $r" >>"$W/creates"
    sed -n 's/^{"return": {"domain": \([0-9]\), "name": "[^"]*"}}$/\1/p' <<<"$r"
}

# qemu_checks DIR SOCK RUN_PID: the QEMU+SVM checks; the first failure's
# reason, or nothing.
qemu_checks() {
    local d=$1 s=$2 run=$3 n a0 a1 a2 r f0 f1
    local H=("$HVCTL" -s "$s" --timeout 120)
    wait_for "$d/out" '^pattern: counting' 120 "$run" || { echo "domain 0 did not start"; return; }
    "$HVCTL" -s "$s" --timeout 200 --events --count 7 >"$d/events" 2>&1 &
    a0=$(counter "$d/out" '')
    # Two more domains, each with its own name and memory.
    n=$(create "$s" kernel="$P" name=p1 memory=8 cmdline='"one"')
    [ "$n" = 1 ] || { echo "the first domain-create: want domain 1, got '$n'"; return; }
    n=$(create "$s" kernel="$P" name=p2 memory=6)
    [ "$n" = 2 ] || { echo "the second domain-create: want domain 2, got '$n'"; return; }
    wait_for "$d/out" '^\[d1\] pattern: counting' 120 "$run" &&
        wait_for "$d/out" '^\[d2\] pattern: counting' 120 "$run" ||
        { echo "the new domains printed nothing"; return; }
    a1=$(counter "$d/out" '\[d1\] ')
    a2=$(counter "$d/out" '\[d2\] ')
    grep -q "^\[hv\] guest '$P one': " "$d/err" ||
        { echo "domain 1's command line is not the kernel's path and its arguments"; return; }
    r=$("${H[@]}" query-domains)
    [[ $r == '{"return": [{"domain": 0, "name": "d0", '*'"state": "running"'*'{"domain": 1, "name": "p1", '*'"state": "running", "status": "running", "vcpus": 1, "memory": 8388608, '*'{"domain": 2, "name": "p2", '*'"memory": 6291456, '* ]] ||
        { echo "query-domains with three: $r"; return; }
    moves "$s" 1 "$a1" && moves "$s" 2 "$a2" || { echo "the new domains' counters do not move"; return; }
    # A guest that triple-faults crashes alone.
    n=$(create "$s" kernel="$T" name=t memory=4)
    [ "$n" = 3 ] || { echo "domain-create of the triple guest: want domain 3, got '$n'"; return; }
    wait_for "$d/err" '^\[hv\] domain 3 torn down: ' 120 "$run" ||
        { echo "the triple guest did not crash and go"; return; }
    grep -q '^\[hv\] domain 3 crashed: triple fault' "$d/err" || { echo "no crash of domain 3"; return; }
    moves "$s" 0 "$a0" && moves "$s" 1 "$a1" && moves "$s" 2 "$a2" ||
        { echo "a domain stopped counting after domain 3 crashed"; return; }
    # Refusals that change nothing.
    head -c 20000 /dev/urandom >"$d/noise.bin"
    refused "$s" GenericError "No such file or directory" kernel="$d/missing.elf" || return
    refused "$s" GenericError "bad guest image: no Multiboot header" kernel="$d/noise.bin" || return
    # (Number 3 is the crashed domain's, which a new one would replace: a
    # refused one leaves it as it was, its name too.)
    refused "$s" GenericError "bad guest image: no Multiboot header" kernel="$d/noise.bin" \
        name=fresh vcpus=2 || return
    refused "$s" GenericError "give an absolute path" kernel=build/guestkit/pattern.elf || return
    refused "$s" GenericError "not enough free host memory for 3000 MiB" kernel="$P" memory=3000 || return
    refused "$s" GenericError "a domain called 'p1' exists already (domain 1)" kernel="$P" name=p1 || return
    refused "$s" InvalidParameter "argument 'memory' must be 2 to 3072" kernel="$P" memory=1 || return
    refused "$s" InvalidParameter "argument 'on_crash' must be destroy, restart or preserve" \
        kernel="$P" on_crash=reboot || return
    refused "$s" InvalidParameter "domain-create takes no argument 'colour'" kernel="$P" colour=red || return
    refused "$s" InvalidParameter "argument 'maxvcpus' must be 2 to 8" kernel="$P" vcpus=2 maxvcpus=1 || return
    # The crashed domain's number goes to the next domain; then hv is full.
    n=$(create "$s" kernel="$P" name=p3 memory=4)
    [ "$n" = 3 ] || { echo "a domain after the crash: want domain 3 (its number), got '$n'"; return; }
    refused "$s" GenericError "hv already holds 4 domains (its limit)" kernel="$P" || return
    # Destroy gives the memory back; a new domain takes the number.
    f0=$(free_mem "$s")
    r=$("${H[@]}" domain-destroy domain=1)
    [ "$r" = '{"return": {}}' ] || { echo "domain-destroy: $r"; return; }
    f1=$(free_mem "$s")
    [ -n "$f0" ] && [ $((f1 - f0)) -ge $((8 << 20)) ] ||
        { echo "domain-destroy gave back $((f1 - f0)) bytes, want at least 8 MiB"; return; }
    r=$("${H[@]}" domain-destroy domain=1)
    [[ $r == '{"error": {"class": "GenericError", "desc": "domain 1 is being destroyed already"}}' ]] ||
        { echo "domain-destroy twice: $r"; return; }
    # Create and destroy three times over: the heap exactly as before.
    local i
    for i in 1 2 3; do
        n=$(create "$s" kernel="$P" name=again memory=8)
        [ "$n" = 1 ] || { echo "create $i after destroy: want domain 1 again, got '$n'"; return; }
        r=$("${H[@]}" domain-destroy domain=1)
        [ "$r" = '{"return": {}}' ] || { echo "destroy $i: $r"; return; }
    done
    [ "$(free_mem "$s")" = "$f1" ] ||
        { echo "after 3 creates and destroys hv's heap has $(free_mem "$s") bytes free, want $f1"; return; }
    moves "$s" 0 "$a0" && moves "$s" 2 "$a2" || { echo "domains 0 and 2 stopped counting"; return; }
    # A domain with two vCPUs: the smp guest prints what it prints on plain
    # QEMU with -smp 2, each line with its domain's prefix.
    timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 16M -nodefaults \
        -display none -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -kernel "$S" >"$d/smp.plain" 2>&1
    # (Built with a third vCPU, not available: the MADT lists it Online
    # Capable, which the guest skips, as QEMU's has no such entry.)
    n=$(create "$s" kernel="$S" name=two memory=16 vcpus=2 maxvcpus=3)
    [ "$n" = 1 ] || { echo "domain-create with vcpus=2: want domain 1, got '$n'"; return; }
    wait_for "$d/err" '^\[hv\] domain 1 shut down' 120 "$run" || { echo "the smp guest did not end"; return; }
    grep -q '^smp: the MADT lists 2 CPU' "$d/smp.plain" &&
        cmp -s <(sed 's/^/[d1] /' "$d/smp.plain") <(grep '^\[d1\] ' "$d/out" | tail -n "$(wc -l <"$d/smp.plain")") ||
        { echo "the smp guest with vcpus=2 did not print what it prints on plain QEMU -smp 2"; return; }
    grep -q "^\[hv\] domain 1 'two' created: 16 MiB, 3 vCPUs" "$d/err" ||
        { echo "no log line of domain 1 with 3 vCPUs"; return; }
    wait
    grep -q '^{"event": "CREATED", "data": {"domain": 1, "name": "p1"}, "timestamp": ' "$d/events" &&
        grep -q '^{"event": "CRASHED", "data": {"domain": 3, "reason": "triple fault' "$d/events" &&
        grep -q '^{"event": "SHUTDOWN", "data": {"domain": 1, "reason": "destroyed"}' "$d/events" ||
        { echo "events: $(cat "$d/events")"; return; }
    "${H[@]}" quit >/dev/null
}

# bochs_checks DIR SOCK RUN_PID: one domain made at run time on VT-x.
bochs_checks() {
    local d=$1 s=$2 run=$3 n a1 r
    wait_for "$d/out" '^pattern: counting' 120 "$run" || { echo "domain 0 did not start"; return; }
    n=$(create "$s" kernel="$P" name=vmx1 memory=4)
    [ "$n" = 1 ] || { echo "domain-create: want domain 1, got '$n'"; return; }
    wait_for "$d/out" '^\[d1\] pattern: counting' 120 "$run" || { echo "domain 1 printed nothing"; return; }
    a1=$(counter "$d/out" '\[d1\] ')
    moves "$s" 1 "$a1" || { echo "domain 1's counter does not move"; return; }
    r=$("$HVCTL" -s "$s" --timeout 120 domain-destroy domain=1)
    [ "$r" = '{"return": {}}' ] || { echo "domain-destroy: $r"; return; }
    moves "$s" 0 "$(counter "$d/out" '')" || { echo "domain 0 stopped counting"; return; }
    "$HVCTL" -s "$s" --timeout 120 quit >/dev/null
}

# session ID EMULATOR VENDOR CHECKS: one machine with the pattern guest as
# domain 0 and the checks; hv must then end by the quit.
session() {
    local id=$1 emu=$2 vendor=$3 checks=$4 d=$W/$1 why
    mkdir -p "$d"
    if ! why=$(ctl_machine "$d" "$emu" "$vendor" "$checks" "$d/err" -kernel "$P"); then
        fail "$id" "$why"
        show_log "$d/err" 25
        return
    fi
    # With every domain destroyed, hv's heap holds what it held before the
    # boot's domain was made: nothing the domains made at run time had
    # stays behind.
    local heap
    heap=$(sed -n 's/^\[hv\] heap: \([0-9]*\) KiB free after teardown, \([0-9]*\) KiB before.*/\1 \2/p' "$d/err")
    if ! grep -qx '\[hv\] ctl: quit' "$d/err"; then
        fail "$id" "hv did not end by the quit"
        show_log "$d/err"
    elif [ -z "$heap" ] || [ "${heap% *}" != "${heap#* }" ]; then
        fail "$id" "hv's heap after the last teardown is not what it was before the domains ('$heap')"
        show_log "$d/err"
    else
        pass "$id"
    fi
}

# preserved ID: a machine whose only domain crashes with on_crash=preserve
# stays up with the domain listed as crashed (not torn down) until a
# front-end destroys it; then hv ends as when the last guest ends.
preserved() {
    local id=$1 d=$W/$1 r st=0
    mkdir -p "$d"
    "$TOP/bin/hvrun" --hv "$HV" --timeout "$TIMEOUT" -m 16M --on-crash preserve \
        --control "$d/ctl.sock" -kernel "$T" >"$d/out" 2>"$d/err" </dev/null &
    local run=$!
    if ! wait_for "$d/err" '^\[hv\] domain 0 crashed: triple fault.*; preserved' 120 "$run"; then
        fail "$id" "the triple guest was not preserved"
    elif sleep 2 && ! kill -0 "$run" 2>/dev/null; then
        fail "$id" "the machine ended with its preserved domain"
    elif r=$("$HVCTL" -s "$d/ctl.sock" --timeout 120 query-domains) &&
        [[ $r != '{"return": [{"domain": 0, '*'"state": "crashed"'* ]]; then
        fail "$id" "query-domains does not list the preserved domain as crashed: $r"
    elif r=$("$HVCTL" -s "$d/ctl.sock" --timeout 120 domain-destroy domain=0) &&
        [ "$r" != '{"return": {}}' ]; then
        fail "$id" "domain-destroy: $r"
    else
        # Its end was a crash: hvrun says so (status 127) once it is gone.
        wait "$run" || st=$?
        if [ "$st" = 127 ] && grep -q '^hvrun: the guest crashed: triple fault' "$d/err"; then
            pass "$id"
        else
            fail "$id" "after domain-destroy hvrun ended with status $st, not the crash's 127"
            show_log "$d/err" 10
        fi
        return
    fi
    kill "$run" 2>/dev/null
    wait "$run"
    show_log "$d/err" 25
}

skip_all_if "$(built_missing "$P" "$T" "$S" "$HV" "$HVCTL")" ctl-domain-qemu-svm ctl-domain-bochs-vmx \
    ctl-domain-preserve
run_case ctl-domain-qemu-svm session ctl-domain-qemu-svm qemu svm qemu_checks
run_case ctl-domain-preserve preserved ctl-domain-preserve
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip ctl-domain-bochs-vmx "$why"
else
    run_case ctl-domain-bochs-vmx session ctl-domain-bochs-vmx bochs vmx bochs_checks
fi
finish_cases
