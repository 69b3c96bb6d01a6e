#!/usr/bin/env bash
# bin/xl on live hvkit machines (QEMU+SVM), against xl(1)'s formats and
# messages:
#   - bad config files: libxlu's "FILE:LINE: config parsing error near ..."
#     and xl's "Failed to parse config", exit 1, nothing recorded;
#   - create from a cfg (the pattern guest, 32 MiB, a read-only raw disk):
#     list shows it running in xl's column layout, the disk reached hv;
#   - pause: list shows p, and the guest's counter (x-read-memory through
#     bin/hvctl on the domain's socket) does not move for a second; unpause:
#     it moves again;
#   - domid / domname, an unknown domain and a second domain of the same
#     name get xl's messages and change nothing;
#   - on the same domain, the other commands: list -v and -l (the JSON
#     checked by Python), vcpu-list/-pin (the machine's processes really
#     pinned)/-set, uptime, info (against /proc), dmesg [-c], top -b,
#     block-list and the refused hot-plugs, trigger, mem-set/mem-max,
#     save, dump-core, config-update, rename, each with xl's messages;
#   - on_crash=restart: a triple-faulting guest is restarted by hv and stays
#     in xl list;
#   - destroy: the domain is gone from list, its machine and files too.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
XL=$TOP/bin/xl
G=$BUILD/guestkit/pattern.elf
export HVKIT_STATE_DIR=$W/st
S=$HVKIT_STATE_DIR/running

# check NAME COMMAND...: PASS when the command succeeds, else FAIL with the
# log of the last command.
check() {
    local id=$1
    shift
    if "$@"; then pass "$id"; else fail "$id" "$(tail -3 "$W/last" 2>/dev/null | tr '\n' ' ')"; fi
}

# ---- Bad configuration files ---------------------------------------------
printf 'name = "bad"\nmemory 64\n' >"$W/syntax.cfg"
"$XL" create "$W/syntax.cfg" >"$W/last" 2>&1
st=$?
want="Parsing config from $W/syntax.cfg
$W/syntax.cfg:2: config parsing error near \`64': syntax error, unexpected NUMBER, expecting '=' or OP_ADD
Failed to parse config: Invalid argument"
check "bad cfg: libxlu's line-numbered syntax error" [ $st = 1 ] && [ "$(cat "$W/last")" = "$want" ]
printf 'name="bad"\nkernel="%s"\ndisk=[ "/x/OVMF.fd,hdb,w" ]\n' "$G" >"$W/disk.cfg"
"$XL" create "$W/disk.cfg" >"$W/last" 2>&1
st=$?
check "bad cfg: the disk specification's message" [ $st = 1 ] &&
    grep -qx "$W/disk.cfg: config parsing error in disk specification: unknown value for format: near \`hdb' in \`/x/OVMF.fd,hdb,w'" "$W/last"
printf 'kernel="%s"\n' "$G" >"$W/noname.cfg"
"$XL" create "$W/noname.cfg" >"$W/last" 2>&1
st=$?
check "bad cfg: no name" [ $st = 1 ] && grep -qx "Domain name must be specified." "$W/last"
check "bad cfgs leave no domain behind" [ -z "$(ls "$S" 2>/dev/null | grep -v -e '^lock$')" ]

# ---- A live domain ---------------------------------------------------------
qemu-img create -q -f raw "$W/data.img" 1M
cat >"$W/g1.cfg" <<CFG
# the pattern guest as an xl domain
name = "g1"
type = "pvh"
kernel = "$G"
memory = 16
disk = [ 'format=raw, vdev=xvda, access=ro, target=$W/data.img' ]
vif = [ 'bridge=xenbr0' ]
CFG
# memory=32 from the command line, as xl create's KEY=VALUE arguments.
"$XL" create "$W/g1.cfg" memory=32 >"$W/last" 2>&1
check "create from a cfg (memory=32 on the command line)" [ $? = 0 ] &&
    grep -qx "$W/g1.cfg:7: hvkit: warning: \`vif' is accepted but not acted on (hvkit has no virtual network)" "$W/last"
SOCK=$S/g1.sock
for _ in $(seq 600); do grep -q '^pattern: counting' "$S/g1.log" 2>/dev/null && break; sleep 0.2; done
addr=$(sed -n 's/^pattern: counter at //p' "$S/g1.log")

# list_row NAME: the domain's row of xl list without its Time(s).
list_row() { "$XL" list | grep "^$1 " | cut -c1-65; }
row() { printf '%-40s %5d %5d %5d     %s' "$@"; }
check "list: xl's header and the running domain" \
    [ "$("$XL" list | head -1)" = "$(printf 'Name                                        ID   Mem VCPUs\tState\tTime(s)')" ] &&
    [ "$("$XL" list | sed -n 2p | cut -c1-41)" = "$(printf '%-40s ' Domain-0)" ] &&
    [ "$(list_row g1)" = "$(row g1 1 32 1 r-----)" ]
r=$("$TOP/bin/hvctl" -s "$SOCK" query-block)
echo "$r" >"$W/last"
check "the cfg's disk reached hv read-only" grep -qF "\"file\": \"$W/data.img\", \"format\": \"raw\", \"ro\": true" "$W/last"

data() { "$TOP/bin/hvctl" -s "$SOCK" x-read-memory addr="$addr" size=8 physical=true | sed -n 's/.*"data": "\([0-9a-f]*\)".*/\1/p'; }
"$XL" pause g1
a=$(data)
sleep 1
b=$(data)
check "pause: list shows p and the counter stands still" [ -n "$addr" ] && [ -n "$a" ] && [ "$a" = "$b" ] &&
    [ "$(list_row g1)" = "$(row g1 1 32 1 --p---)" ]
"$XL" unpause 1
sleep 1
c=$(data)
check "unpause: running again, the counter moves" [ -n "$c" ] && [ "$c" != "$b" ] &&
    [ "$(list_row g1)" = "$(row g1 1 32 1 r-----)" ]

check "domid and domname" [ "$("$XL" domid g1)" = 1 ] && [ "$("$XL" domname 1)" = g1 ]
"$XL" pause nosuch >"$W/last" 2>&1
st=$?
check "an unknown domain: xl's message" [ $st = 1 ] &&
    [ "$(cat "$W/last")" = "nosuch is an invalid domain identifier (rc=-6)" ] &&
    [ "$(list_row g1)" = "$(row g1 1 32 1 r-----)" ]
"$XL" create "$W/g1.cfg" >"$W/last" 2>&1
st=$?
check "a second g1 is refused" [ $st = 1 ] && grep -qx 'libxl: error: Domain with name "g1" already exists.' "$W/last" &&
    [ "$("$XL" list | grep -c '^g1 ')" = 1 ]


# ---- The other commands on the same live domain ----------------------------
# fails CMD...: true when the command fails; its stderr goes to last.
fails() { "$@" >"$W/out" 2>"$W/last" && return 1; return 0; }
uuid=$(sed -n 's/^uuid=//p' "$S/g1")
"$XL" list -v g1 >"$W/last"
check "list -v: the UUID, no reason code, no label" \
    grep -qx "g1 .*r----- .* $uuid $(printf '%8s %16s' - -)" "$W/last"
"$XL" list -l >"$W/long.json"
check "list -l: xl's JSON with the cfg and the command line's memory" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))[0]
c = d["config"]
assert d["domid"] == 1 and c["c_info"]["name"] == "g1" and c["c_info"]["type"] == "pvh"
assert c["b_info"]["target_memkb"] == 32768 and c["b_info"]["avail_vcpus"] == [0]
assert c["disks"][0]["vdev"] == "xvda" and c["disks"][0]["readwrite"] == 0
assert c["on_reboot"] == "restart" and c["on_crash"] == "destroy"
' "$W/long.json"
check "vcpu-list: xl's header and one vCPU running, affinity all / all" \
    [ "$("$XL" vcpu-list g1 | head -1)" = "$(printf '%-32s %5s %5s %5s %5s %9s %s' Name ID VCPU CPU State 'Time(s)' 'Affinity (Hard / Soft)')" ] &&
    "$XL" vcpu-list g1 | tail -1 | grep -Eq "^g1 {30} {5}1 {5}0 {0,4}[0-9]+ {3}r-- +[0-9]+\.[0-9]  all / all$"
"$XL" vcpu-pin g1 0 0
allowed=$(for p in $(ps -o pid= -g "$(sed -n 's/^pid=//p' "$S/g1")"); do
    sed -n 's/^Cpus_allowed_list:\t//p' "/proc/$p/status"; done | sort -u)
check "vcpu-pin g1 0 0: the machine's processes run on CPU 0 only" \
    [ "$allowed" = 0 ] && "$XL" vcpu-list g1 | tail -1 | grep -q ' 0 / all$'
"$XL" vcpu-pin g1 all all
fails "$XL" vcpu-pin g1 x 0
check "vcpu-pin: a bad vCPU gets xl's message" grep -qx 'Error: Invalid argument x as VCPU.' "$W/last"
"$XL" vcpu-set g1 1
st=$?
fails "$XL" vcpu-set -i g1 2
check "vcpu-set: the count it has is fine, another is refused in libxl's words" [ $st = 0 ] &&
    grep -qx 'libxl_set_vcpuonline failed domid=1 max_vcpus=2, rc: -6' "$W/last"
"$XL" uptime g1 >"$W/last"
check "uptime: xl's layout" [ "$(head -1 "$W/last")" = "$(printf '%-33s %4s %s' Name ID Uptime)" ] &&
    grep -Eq "^g1 {31}    1  0:0[0-9]:[0-5][0-9]$" "$W/last"
check "info: the host's CPUs and memory in xl's key : value lines" \
    [ "$("$XL" info nr_cpus)" = "$(nproc)" ] &&
    [ "$("$XL" info total_memory)" = "$(($(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024))" ] &&
    "$XL" info | grep -qx 'xend_config_format     : 4'
"$XL" dmesg -c >"$W/last"
"$XL" dmesg >"$W/out"
check "dmesg: hv's lines as (XEN) lines; -c clears them" \
    grep -qx '(XEN) d1: ctl: control channel on COM2 (0x2f8)' "$W/last" && [ ! -s "$W/out" ]
"$XL" top -b -i 1 >"$W/top"
check "top -b -i 1: xentop's header and rows" \
    grep -q '^      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) MAXMEM(%) VCPUS NETS' "$W/top" &&
    grep -Eq '^ +g1 -----r +[0-9]+ +[0-9.]+ +32768 ' "$W/top"
check "block-list: the disk as xvda (51712), backend 0, connected" \
    [ "$("$XL" block-list g1 | tail -1)" = "$(printf '%-5d %-3d %-6d %-5d %-6d %-8d %-30s' 51712 0 1 4 -1 -1 /local/domain/0/backend/vbd/1/51712)" ]
fails "$XL" block-detach g1 xvda
check "block-detach: Xen's word for a virtio disk" grep -qx "Hotunplug isn't supported for specification virtio" "$W/last"
fails "$XL" block-detach g1 xvdc
check "block-detach: no such device" grep -qx 'Error: Device xvdc not connected.' "$W/last"
fails "$XL" block-attach g1 "$W/data.img,raw,xvdb,w"
check "block-attach: no hot-plug, said in libxl's form" grep -qx 'libxl_device_disk_add failed.' "$W/last"
fails "$XL" cd-insert g1 hdc "$W/nosuch.iso"
check "cd-insert: a missing file" grep -qx "Cannot stat file: $W/nosuch.iso" "$W/last"
fails "$XL" trigger g1 bogus
check "trigger: an unknown trigger" grep -qx 'Invalid trigger "bogus"' "$W/last"
fails "$XL" mem-set g1 12q
check "mem-set: a bad size" grep -qx 'invalid memory size: 12q' "$W/last"
fails "$XL" mem-max g1 64
check "mem-max: hv cannot grow a domain's RAM" grep -qx 'cannot set domid 1 static max memory to : 64' "$W/last"
"$XL" mem-max g1 24
fails "$XL" mem-set g1 30
check "mem-max 24, then mem-set 30 is above it" \
    grep -qx 'libxl: error: memory_dynamic_max must be less than or equal to memory_static_max' "$W/last" &&
    "$XL" list -l | grep -q '"max_memkb": 24576'
fails "$XL" mem-set g1 16
check "mem-set on a guest without a balloon driver: refused, Mem unchanged" \
    grep -qx 'cannot set domid 1 dynamic max memory to : 16' "$W/last" && [ "$(list_row g1)" = "$(row g1 1 32 1 r-----)" ]
fails "$XL" save g1 "$W/g1.save"
check "save: refused for now, nothing written, the domain runs on" [ ! -e "$W/g1.save" ] &&
    grep -qx 'Failed to save domain, resuming domain' "$W/last" && [ "$(list_row g1)" = "$(row g1 1 32 1 r-----)" ]
fails "$XL" dump-core g1 "$W/nodir/core"
check "dump-core: an unwritable file, no core left" grep -qx 'core dump failed (rc=-3)' "$W/last" && [ ! -e "$W/nodir/core" ]
printf 'name="g1"\nkernel="%s"\nmemory=32\n' "$G" >"$W/g1b.cfg"
"$XL" config-update g1 "$W/g1b.cfg" memory=20 2>"$W/last"
check "config-update: xl's words, the new configuration kept" grep -qx 'setting dom1 configuration' "$W/last" &&
    "$XL" list -l | grep -q '"target_memkb": 20480'
"$XL" rename g1 web
"$XL" list >"$W/last"
check "rename: the same domain under its new name" grep -q "^web  *1 " "$W/last" && ! grep -q "^g1 " "$W/last" &&
    [ -S "$S/web.sock" ] && [ ! -e "$S/g1" ]
fails "$XL" rename web Domain-0
check "rename to Domain-0: refused" grep -qx "Can't rename domain 'web'." "$W/last"
"$XL" rename web g1
fails "$XL" mem-set
check "a missing argument: xl's words and the usage" grep -qx "'xl mem-set' requires at least 2 arguments." "$W/last"

# ---- on_crash: a guest that triple-faults, restarted each time -------------
printf 'name="c1"\nkernel="%s"\nmemory=16\non_crash="restart"\n' "$BUILD/guestkit/triple.elf" >"$W/c1.cfg"
"$XL" create "$W/c1.cfg" 2>"$W/last"
for _ in $(seq 150); do grep -q 'restarting (on_crash=restart)' "$S/c1.log" 2>/dev/null && break; sleep 0.2; done
"$XL" dmesg >"$W/last"
"$XL" list >>"$W/last"
check "on_crash=restart: the domain crashes, hv restarts it, xl list still shows it" \
    grep -q "^(XEN) d2: domain 0: crashed: triple fault.*; restarting (on_crash=restart)$" "$W/last" &&
    grep -q '^c1  ' "$W/last"
cpid=$(sed -n 's/^pid=//p' "$S/c1")
"$XL" destroy c1

pid=$(sed -n 's/^pid=//p' "$S/g1")
"$XL" destroy g1 >"$W/last" 2>&1
check "destroy: gone from list, its machine and files too" [ $? = 0 ] &&
    [ "$("$XL" list | wc -l)" = 2 ] && ! kill -0 "$pid" 2>/dev/null && [ ! -e "$S/g1" ] && [ ! -e "$SOCK" ]
# Whatever failed, leave no machine running.
for p in "$pid" "${cpid:-}"; do [ -n "$p" ] && kill -0 "$p" 2>/dev/null && kill -- -"$p"; done
exit 0
