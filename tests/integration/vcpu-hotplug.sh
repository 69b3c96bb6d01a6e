#!/usr/bin/env bash
# vCPUs of a running domain (include/hvkit/pv.h "vCPU hot-plug"), on
# QEMU+SVM, judged by the guest itself: the vcpuhot guest
# (guestkit/tests/vcpuhot.c) prints its online CPUs each time the set
# changes, after checking that every one of them counts.
#   - xl: a domain with vcpus=1 maxvcpus=4 starts with one CPU; vcpu-set 3
#     brings two up (the guest's line, vcpu-list, xl list's VCPUs), vcpu-set
#     2 takes one down (hv's line, '--p' in vcpu-list, and the offline vCPU
#     makes no exits); above maxvcpus and 0 are refused in xl's words and
#     change nothing; the protocol's own refusals (x-vcpu-set);
#   - a guest without hot-plug (the pattern guest): refused, as libxl
#     refuses an HVM guest without it;
#   - virsh: a domain "test" with <vcpu current='1'>2</vcpu>: setvcpus
#     --live up and down as the guest sees it, and against the real virsh
#     on libvirt's test driver (whose running "test" has 2 vCPUs):
#     vcpucount in each form, dumpxml's <vcpu current=...>, dominfo's
#     CPU(s), and setvcpus' refusals (above the maximum, 0, --maximum
#     without --config).
#   - Bochs+VMX: the same guest on VT-x (hvrun -smp 1,maxcpus=2 with the
#     control protocol): x-vcpu-set 2 brings CPU 1 up, 1 takes it down.
# (tests/integration/xl.sh and virsh-live.sh check memory below maxmem.)
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib/virsh.bash"

W=$IT_WORK
XL=$TOP/bin/xl
V=$BUILD/mgmt/virsh
G=$BUILD/guestkit/vcpuhot.elf
export HVKIT_STATE_DIR=$W/st HVKIT_TOP=$TOP
S=$HVKIT_STATE_DIR/running

skip_all_if "$(built_missing "$HV" "$G" "$BUILD/guestkit/pattern.elf" "$V")" vcpu-hotplug

# COMMANDS; verdict NAME: PASS when the commands just before succeeded,
# else FAIL with the tail of $W/last.
verdict() {
    local st=$? id=$1
    if [ "$st" = 0 ]; then pass "$id"; else fail "$id" "$(tail -3 "$W/last" 2>/dev/null | tr '\n' ' ')"; fi
}
# fails COMMAND...: the command must fail; its output into $W/last.
fails() { ! "$@" >"$W/last" 2>&1; }
# online LOG LINE: wait (up to 60 s) for the guest's line in LOG.
online() { wait_for "$1" "^vcpuhot: $2, each counting$" 60 || { tail -5 "$1" >"$W/last"; false; }; }
# vcpu_state NAME V: vCPU V's CPU and State columns in xl vcpu-list.
vcpu_state() { "$XL" vcpu-list "$1" | awk -v v="$2" 'NR > 1 && $3 == v { print $4, $5 }'; }
# list_vcpus NAME: xl list's VCPUs column.
list_vcpus() { "$XL" list "$1" | awk 'NR == 2 { print $4 }'; }
# exits NAME V: vCPU V's exits so far (query-cpus-fast).
exits() {
    "$TOP/bin/hvctl" -s "$S/$1.sock" query-cpus-fast |
        python3 -c "import json,sys; print(json.load(sys.stdin)['return'][$2]['exits'])"
}

# ---- xl ---------------------------------------------------------------------
printf 'name="h1"\nkernel="%s"\nmemory=32\nvcpus=1\nmaxvcpus=4\n' "$G" >"$W/h1.cfg"
"$XL" create "$W/h1.cfg" >"$W/last" 2>&1
online "$S/h1.log" '1 CPU online (0)' &&
    [ "$(list_vcpus h1)" = 1 ] && [ "$(vcpu_state h1 1)" = '- --p' ] && [ "$(vcpu_state h1 3)" = '- --p' ] &&
    [ "$("$XL" vcpu-list h1 | grep -c '^h1 ')" = 4 ]
verdict "vcpus=1 maxvcpus=4: four vCPUs, one online; xl list counts 1"

"$XL" vcpu-set h1 3 >"$W/last" 2>&1 &&
    online "$S/h1.log" '3 CPUs online (0 1 2)' &&
    [ "$(list_vcpus h1)" = 3 ] && [[ $(vcpu_state h1 2) =~ ^[0-9]+\ [rb-][rb-]-$ ]] &&
    [ "$(vcpu_state h1 3)" = '- --p' ] &&
    "$XL" list -l h1 | python3 -c 'import json,sys; b=json.load(sys.stdin)[0]["config"]["b_info"]; assert b["avail_vcpus"] == [0, 1, 2] and b["max_vcpus"] == 4'
verdict "vcpu-set h1 3: the guest starts CPUs 1 and 2, each counts; vcpu-list, list and list -l show 3"

# vcpu_times NAME: each online vCPU's Time(s) in xl vcpu-list, one a line.
vcpu_times() { "$XL" vcpu-list "$1" | awk 'NR > 1 && $4 != "-" { print $6 }'; }
# grown OLD NEW: every time in NEW (a list of lines) is above OLD's.
grown() { paste <(echo "$1") <(echo "$2") | awk '{ if (!($2 > $1)) bad = 1 } END { exit bad }'; }
# exact_ns NAME: each online vCPU's guest time in nanoseconds as hv gives it
# (query-cpus-fast's cpu-time-ns), one a line.
exact_ns() {
    "$TOP/bin/hvctl" -s "$S/$1.sock" query-cpus-fast | python3 -c '
import json, sys
for c in json.load(sys.stdin)["return"]:
    if c["online"]:
        print(c["cpu-time-ns"])'
}
# own_times N FUNCTION NAME: FUNCTION prints each online vCPU's time, one a
# line: there are N, each grows while the guest's CPUs count (waiting up
# to 30 s: under load a tenth of a second of guest time can take a while)
# and none is 0.0 then; and they are each vCPU's own: hv's exact times of
# vCPU 0 (it ran since the boot) and vCPU 1 differ, where the tenths shown
# may not.
own_times() {
    local t0 t1 ns _
    t0=$($2)
    for _ in $(seq 60); do
        sleep 0.5
        t1=$($2)
        grown "$t0" "$t1" && break
    done
    ns=$(exact_ns "$3")
    echo "$2: $(echo $t0), then $(echo $t1); hv's: $(echo $ns)" >"$W/last"
    [ "$(echo "$t1" | wc -l)" = "$1" ] && ! echo "$t1" | grep -qx '0\.0' && grown "$t0" "$t1" &&
        [ "$(echo "$ns" | wc -l)" = "$1" ] && [ "$(echo "$ns" | sed -n 1p)" != "$(echo "$ns" | sed -n 2p)" ]
}
# Each vCPU's own time in guest mode (hv counts it per vCPU).
vcpu_times_h1() { vcpu_times h1; }
own_times 3 vcpu_times_h1 h1
verdict "vcpu-list: each online vCPU's own time, each growing; hv's differ"

"$XL" vcpu-set h1 2 >"$W/last" 2>&1 &&
    online "$S/h1.log" '2 CPUs online (0 1)' &&
    grep -q 'domain 0 vCPU 2: offline at the guest.s word (HC_VCPU_DOWN)' "$S/h1.log" &&
    [ "$(list_vcpus h1)" = 2 ] && [ "$(vcpu_state h1 2)" = '- --p' ]
verdict "vcpu-set h1 2: CPU 2 leaves its work and goes offline; vcpu-list shows '--p'"
a=$(exits h1 2)
sleep 1
b=$(exits h1 2)
[ -n "$a" ] && [ "$a" = "$b" ] && [ "$(exits h1 1)" -gt 0 ]
verdict "an offline vCPU is not scheduled: no exits in a second ($a, $b)"

lines=$(grep -c '^vcpuhot: ' "$S/h1.log")
fails "$XL" vcpu-set -i h1 5 &&
    grep -qx 'libxl: error: Requested 5 VCPUs, however maxcpus is 4!' "$W/last" &&
    grep -qx 'libxl_set_vcpuonline failed domid=1 max_vcpus=5, rc: -6' "$W/last" &&
    fails "$XL" vcpu-set h1 0 && grep -qx 'Error: Invalid argument.' "$W/last" &&
    fails "$XL" vcpu-set nosuch 2 && grep -q 'nosuch is an invalid domain identifier' "$W/last" &&
    sleep 1 && [ "$(grep -c '^vcpuhot: ' "$S/h1.log")" = "$lines" ] && [ "$(list_vcpus h1)" = 2 ]
verdict "vcpu-set above maxvcpus, 0, an unknown domain: xl's words, nothing changes"

ctl() { "$TOP/bin/hvctl" -s "$S/h1.sock" x-vcpu-set "$@" 2>&1; }
[ "$(ctl vcpus=9)" = '{"error": {"class": "InvalidParameter", "desc": "argument '"'vcpus'"' must be 1 to 4 (the vCPUs domain 0 was built with)"}}' ] &&
    [ "$(ctl vcpus=0)" = "$(ctl vcpus=9)" ] &&
    [ "$(ctl domain=3 vcpus=2)" = '{"error": {"class": "DeviceNotFound", "desc": "no domain 3 (hv has 1)"}}' ] &&
    [ "$(ctl vcpus=2)" = '{"return": {}}' ]
verdict "x-vcpu-set: above the maximum, 0, an unknown domain refused; the count it has accepted"

# ---- A guest without hot-plug ------------------------------------------------
printf 'name="p1"\nkernel="%s"\nmemory=16\nvcpus=1\nmaxvcpus=2\n' "$BUILD/guestkit/pattern.elf" >"$W/p1.cfg"
"$XL" create "$W/p1.cfg" >"$W/last" 2>&1
wait_for "$S/p1.log" '^pattern: counting' 60
fails "$XL" vcpu-set p1 2 &&
    grep -qx 'libxl: error: domain 2: The guest has not activated vCPU hot-plug (include/hvkit/pv.h HC_VCPU_AVAIL): only its current count can be set' "$W/last" &&
    grep -qx 'libxl_set_vcpuonline failed domid=2 max_vcpus=2, rc: -3' "$W/last" &&
    "$XL" vcpu-set p1 1 && [ "$(list_vcpus p1)" = 1 ] && [ "$(vcpu_state p1 1)" = '- --p' ]
verdict "a guest without hot-plug: vcpu-set refused in libxl's form, its own count accepted"
"$XL" destroy p1
"$XL" destroy h1

# ---- virsh ----------------------------------------------------------------
VIRSH=$V REAL_DIR=$W HV_DIR=$W
cat >"$W/test.xml" <<XML
<domain type='kvm'>
  <name>test</name>
  <memory unit='MiB'>32</memory>
  <vcpu current='1'>2</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>$G</kernel></os>
</domain>
XML
"$V" "define $W/test.xml; start test" >"$W/last" 2>&1
wait_for "$S/test.log" '^vcpuhot: 1 CPU online (0), each counting$' 60 &&
    "$V" "setvcpus test 2 --live" >"$W/last" 2>&1 &&
    [ "$(exact_ns test | wc -l)" = 2 ] &&
    "$V" -q "vcpuinfo test; dominfo test" >"$W/out" 2>&1 &&
    grep -qx 'VCPU:           1' "$W/out" && grep -qx 'CPU(s):         2' "$W/out" &&
    wait_for "$S/test.log" '^vcpuhot: 2 CPUs online (0 1), each counting$' 60
verdict "virsh setvcpus --live 2: the guest starts its second CPU before virsh returns (hv counts 2 online); vcpuinfo and dominfo show 2; the guest says both count"
# vcpuinfo_times: each vCPU's "CPU time:" in virsh vcpuinfo, one a line.
vcpuinfo_times() { "$V" vcpuinfo test | sed -n 's/^CPU time: *\([0-9.]*\)s$/\1/p'; }
own_times 2 vcpuinfo_times test
verdict "vcpuinfo: each vCPU's own CPU time, each growing; hv's differ"
# Both sides now run "test" with 2 vCPUs of at most 2 (and, once hvkit's
# definition says current 2 as the test driver's does, the same config).
virsh_same setvcpus-live "setvcpus test 1 --live; vcpucount test; vcpucount test --live --active;
    vcpucount test --maximum; vcpucount test --config; dominfo test" \
    "setvcpus test 2 --config; setvcpus test 1 --live; vcpucount test; vcpucount test --live --active;
    vcpucount test --maximum; vcpucount test --config; dominfo test" 0 \
    "grep -E '^(maximum|current) |^[0-9]+\$|^CPU\\(s\\):'" cat
grep -q '^vcpuhot: 1 CPU online (0), each counting$' "$S/test.log" >"$W/last" 2>&1
verdict "virsh setvcpus --live 1: the guest took CPU 1 down"
virsh_same setvcpus-refused "setvcpus test 2 --live; setvcpus test 3 --live; setvcpus test 0 --live; setvcpus test 2 --live --maximum;
    setvcpus test x --live; vcpucount test --live" \
    "setvcpus test 2 --live; setvcpus test 3 --live; setvcpus test 0 --live; setvcpus test 2 --live --maximum;
    setvcpus test x --live; vcpucount test --live" 0 cat cat
virsh_same dumpxml-vcpu "setvcpus test 1 --live; dumpxml test" "setvcpus test 1 --live; dumpxml test" 0 "grep '<vcpu'" cat
"$V" destroy test >/dev/null 2>&1

# ---- Bochs+VMX ----------------------------------------------------------------
# lines FILE: the guest's lines so far, one a line ("1 CPU online (0)").
lines() { sed -n 's/^vcpuhot: \(.*\), each counting$/\1/p' "$1" | paste -sd/; }
# lines_are FILE WANT: wait (up to 120 s: Bochs is slow) until they are WANT.
lines_are() {
    local _
    for _ in $(seq 600); do
        [ "$(lines "$1")" = "$2" ] && return 0
        sleep 0.2
    done
    echo "the guest said: $(lines "$1")" >"$W/last"
    return 1
}
why=$(bochs_missing)
if [ -n "$why" ]; then
    skip "bochs-vmx: x-vcpu-set up and down" "$why"
else
    d=$W/bochs
    mkdir -p "$d"
    "$TOP/bin/hvrun" --emulator bochs --vendor vmx --hv "$HV" --timeout 600 -m 16M -smp 1,maxcpus=2 \
        --control "$d/ctl.sock" -kernel "$G" >"$d/out" 2>"$d/err" </dev/null &
    run=$!
    b() { "$TOP/bin/hvctl" -s "$d/ctl.sock" --timeout 120 x-vcpu-set "$@" >/dev/null; }
    lines_are "$d/out" '1 CPU online (0)' && b vcpus=2 &&
        lines_are "$d/out" '1 CPU online (0)/2 CPUs online (0 1)' && b vcpus=1 &&
        lines_are "$d/out" '1 CPU online (0)/2 CPUs online (0 1)/1 CPU online (0)' &&
        grep -q 'domain 0 vCPU 1: offline at the guest.s word' "$d/err"
    verdict "bochs-vmx: x-vcpu-set 2 brings CPU 1 up on VT-x, 1 takes it down"
    "$TOP/bin/hvctl" -s "$d/ctl.sock" --timeout 120 quit >/dev/null 2>&1
    wait "$run"
fi
