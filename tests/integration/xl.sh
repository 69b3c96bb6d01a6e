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
#     block-list and the refused block-attach/-detach, trigger, mem-set/mem-max,
#     save (refused into a missing directory; save-frontends.sh saves and
#     restores), dump-core, config-update, rename, each with xl's messages;
#   - one registry: virsh lists xl's domain, xl lists and destroys one
#     virsh created;
#   - mem-set on a guest whose balloon driver follows the target
#     (balloond, memory=32 maxmem=64): it starts with 32 MiB, xl list's
#     Mem moves down and up to maxmem, not above; vcpus=2;
#   - on_crash=restart: a triple-faulting guest is restarted by hv and stays
#     in xl list;
#   - destroy: the domain is gone from list, its machine and files too.
. "$(dirname "$0")/lib.bash"

W=$IT_WORK
XL=$TOP/bin/xl
G=$BUILD/guestkit/pattern.elf
export HVKIT_STATE_DIR=$W/st
S=$HVKIT_STATE_DIR/running

# COMMANDS; verdict NAME: PASS when the commands just before (a whole
# chain of && and ||) succeeded, else FAIL with the log of the last command.
verdict() {
    local st=$? id=$1
    if [ "$st" = 0 ]; then pass "$id"; else fail "$id" "$(tail -3 "$W/last" 2>/dev/null | tr '\n' ' ')"; fi
}

# ---- Bad configuration files ---------------------------------------------
printf 'name = "bad"\nmemory 64\n' >"$W/syntax.cfg"
"$XL" create "$W/syntax.cfg" >"$W/last" 2>&1
st=$?
want="Parsing config from $W/syntax.cfg
$W/syntax.cfg:2: config parsing error near \`64': syntax error, unexpected NUMBER, expecting '=' or OP_ADD
Failed to parse config: Invalid argument"
[ $st = 1 ] && [ "$(cat "$W/last")" = "$want" ]
verdict "bad cfg: libxlu's line-numbered syntax error"
printf 'name="bad"\nkernel="%s"\ndisk=[ "/x/OVMF.fd,hdb,w" ]\n' "$G" >"$W/disk.cfg"
"$XL" create "$W/disk.cfg" >"$W/last" 2>&1
st=$?
[ $st = 1 ] &&
    grep -qx "$W/disk.cfg: config parsing error in disk specification: unknown value for format: near \`hdb' in \`/x/OVMF.fd,hdb,w'" "$W/last"
verdict "bad cfg: the disk specification's message"
printf 'kernel="%s"\n' "$G" >"$W/noname.cfg"
"$XL" create "$W/noname.cfg" >"$W/last" 2>&1
st=$?
[ $st = 1 ] && grep -qx "Domain name must be specified." "$W/last"
verdict "bad cfg: no name"
[ -z "$(ls "$S" 2>/dev/null | grep -v -e '^lock$')" ]
verdict "bad cfgs leave no domain behind"

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
[ $? = 0 ] &&
    grep -qx "$W/g1.cfg:7: hvkit: warning: \`vif' is accepted but not acted on (hvkit has no virtual network)" "$W/last"
verdict "create from a cfg (memory=32 on the command line)"
SOCK=$S/g1.sock
for _ in $(seq 600); do grep -q '^pattern: counting' "$S/g1.log" 2>/dev/null && break; sleep 0.2; done
addr=$(sed -n 's/^pattern: counter at //p' "$S/g1.log")

# list_row NAME: the domain's row of xl list without its Time(s).
list_row() { "$XL" list | grep "^$1 " | cut -c1-69; }
row() { printf '%-40s %5d %5d %5d     %s' "$@"; }
[ "$("$XL" list | head -1)" = "$(printf 'Name                                        ID   Mem VCPUs\tState\tTime(s)')" ] &&
    [ "$("$XL" list | sed -n 2p | cut -c1-41)" = "$(printf '%-40s ' Domain-0)" ] &&
    [ "$(list_row g1)" = "$(row g1 1 32 1 r-----)" ]
verdict "list: xl's header and the running domain"
r=$("$TOP/bin/hvctl" -s "$SOCK" query-block)
echo "$r" >"$W/last"
grep -qF "\"file\": \"$W/data.img\", \"format\": \"raw\", \"ro\": true" "$W/last"
verdict "the cfg's disk reached hv read-only"

data() { "$TOP/bin/hvctl" -s "$SOCK" x-read-memory addr="$addr" size=8 physical=true | sed -n 's/.*"data": "\([0-9a-f]*\)".*/\1/p'; }
"$XL" pause g1
a=$(data)
sleep 1
b=$(data)
[ -n "$addr" ] && [ -n "$a" ] && [ "$a" = "$b" ] &&
    [ "$(list_row g1)" = "$(row g1 1 32 1 --p---)" ]
verdict "pause: list shows p and the counter stands still"
"$XL" unpause 1
sleep 1
c=$(data)
[ -n "$c" ] && [ "$c" != "$b" ] &&
    [ "$(list_row g1)" = "$(row g1 1 32 1 r-----)" ]
verdict "unpause: running again, the counter moves"

[ "$("$XL" domid g1)" = 1 ] && [ "$("$XL" domname 1)" = g1 ]
verdict "domid and domname"
"$XL" pause nosuch >"$W/last" 2>&1
st=$?
[ $st = 1 ] &&
    [ "$(cat "$W/last")" = "nosuch is an invalid domain identifier (rc=-6)" ] &&
    [ "$(list_row g1)" = "$(row g1 1 32 1 r-----)" ]
verdict "an unknown domain: xl's message"
"$XL" create "$W/g1.cfg" >"$W/last" 2>&1
st=$?
[ $st = 1 ] && grep -qx 'libxl: error: Domain with name "g1" already exists.' "$W/last" &&
    [ "$("$XL" list | grep -c '^g1 ')" = 1 ]
verdict "a second g1 is refused"


# ---- The other commands on the same live domain ----------------------------
# fails CMD...: true when the command fails; its stderr goes to last.
fails() { "$@" >"$W/out" 2>"$W/last" && return 1; return 0; }
uuid=$(sed -n 's/^uuid=//p' "$S/g1")
"$XL" list -v g1 >"$W/last"
grep -qx "g1 .*r----- .* $uuid $(printf '%8s %16s' - -)" "$W/last"
verdict "list -v: the UUID, no reason code, no label"
"$XL" list -l >"$W/long.json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))[0]
c = d["config"]
assert d["domid"] == 1 and c["c_info"]["name"] == "g1" and c["c_info"]["type"] == "pvh"
assert c["b_info"]["target_memkb"] == 32768 and c["b_info"]["avail_vcpus"] == [0]
assert c["disks"][0]["vdev"] == "xvda" and c["disks"][0]["readwrite"] == 0
assert c["on_reboot"] == "restart" and c["on_crash"] == "destroy"
' "$W/long.json" 2>"$W/last"
verdict "list -l: xl's JSON with the cfg and the command line's memory"
[ "$("$XL" vcpu-list g1 | head -1)" = "$(printf '%-32s %5s %5s %5s %5s %9s %s' Name ID VCPU CPU State 'Time(s)' 'Affinity (Hard / Soft)')" ] &&
    "$XL" vcpu-list g1 | tail -1 | grep -Eq "^g1 {30} {5}1 {5}0 {0,4}[0-9]+ {3}r-- +[0-9]+\.[0-9]  all / all$"
verdict "vcpu-list: xl's header and one vCPU running, affinity all / all"
"$XL" vcpu-pin g1 0 0
allowed=$(for p in $(ps -o pid= -g "$(sed -n 's/^pid=//p' "$S/g1")"); do
    sed -n 's/^Cpus_allowed_list:\t//p' "/proc/$p/status"; done | sort -u)
[ "$allowed" = 0 ] && "$XL" vcpu-list g1 | tail -1 | grep -q ' 0 / all$'
verdict "vcpu-pin g1 0 0: the machine's processes run on CPU 0 only"
"$XL" vcpu-pin g1 all all
fails "$XL" vcpu-pin g1 x 0
grep -qx 'Error: Invalid argument x as VCPU.' "$W/last"
verdict "vcpu-pin: a bad vCPU gets xl's message"
"$XL" vcpu-set g1 1
st=$?
fails "$XL" vcpu-set -i g1 2
[ $st = 0 ] &&
    grep -qx 'libxl_set_vcpuonline failed domid=1 max_vcpus=2, rc: -6' "$W/last"
verdict "vcpu-set: the count it has is fine, another is refused in libxl's words"
"$XL" uptime g1 >"$W/last"
[ "$(head -1 "$W/last")" = "$(printf '%-33s %4s %s' Name ID Uptime)" ] &&
    grep -Eq "^g1 {31}    1  0:0[0-9]:[0-5][0-9]$" "$W/last"
verdict "uptime: xl's layout"
[ "$("$XL" info nr_cpus)" = "$(nproc)" ] &&
    [ "$("$XL" info total_memory)" = "$(($(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024))" ] &&
    "$XL" info | grep -qx 'xend_config_format     : 4'
verdict "info: the host's CPUs and memory in xl's key : value lines"
"$XL" dmesg -c >"$W/last"
"$XL" dmesg >"$W/out"
grep -qx '(XEN) d1: ctl: control channel on COM2 (0x2f8)' "$W/last" && [ ! -s "$W/out" ]
verdict "dmesg: hv's lines as (XEN) lines; -c clears them"
"$XL" top -b -i 1 >"$W/top"
grep -q '^      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) MAXMEM(%) VCPUS NETS' "$W/top" &&
    grep -Eq '^ +g1 -----r +[0-9]+ +[0-9.]+ +32768 ' "$W/top"
verdict "top -b -i 1: xentop's header and rows"
[ "$("$XL" block-list g1 | tail -1)" = "$(printf '%-5d %-3d %-6d %-5d %-6d %-8d %-30s' 51712 0 1 4 -1 -1 /local/domain/0/backend/vbd/1/51712)" ]
verdict "block-list: the disk as xvda (51712), backend 0, connected"
fails "$XL" block-detach g1 xvda
grep -qx "Hotunplug isn't supported for specification virtio" "$W/last"
verdict "block-detach: Xen's word for a virtio disk"
fails "$XL" block-detach g1 xvdc
grep -qx 'Error: Device xvdc not connected.' "$W/last"
verdict "block-detach: no such device"
fails "$XL" block-attach g1 "$W/nosuch.img,raw,xvdb,w"
grep -qx "libxl: error: domain 1: Disk vdev=xvdb failed to stat: $W/nosuch.img: No such file or directory" "$W/last" &&
    grep -qx 'libxl_device_disk_add failed.' "$W/last"
verdict "block-attach: a missing file, said in libxl's form (hotdisk.sh attaches one)"
fails "$XL" cd-insert g1 hdc "$W/nosuch.iso"
grep -qx "Cannot stat file: $W/nosuch.iso" "$W/last"
verdict "cd-insert: a missing file"
fails "$XL" trigger g1 bogus
grep -qx 'Invalid trigger "bogus"' "$W/last"
verdict "trigger: an unknown trigger"
fails "$XL" mem-set g1 12q
grep -qx 'invalid memory size: 12q' "$W/last"
verdict "mem-set: a bad size"
# long_mem NAME TARGET MAX: xl list -l shows the domain's memory target and
# static maximum (KiB) as they are now.
long_mem() {
    "$XL" list -l "$1" | python3 -c '
import json, sys
b = json.load(sys.stdin)[0]["config"]["b_info"]
got = (b["target_memkb"], b["max_memkb"])
assert got == (int(sys.argv[1]), int(sys.argv[2])), got' "$2" "$3" 2>>"$W/last"
}
fails "$XL" mem-max g1 24
grep -qx 'libxl: error: domain 1: memory_static_max must be greater than or or equal to memory_dynamic_max' "$W/last" &&
    grep -qx 'cannot set domid 1 static max memory to : 24' "$W/last" && long_mem g1 32768 32768
verdict "mem-max below the target (32 MiB): refused in libxl's words, nothing kept"
"$XL" mem-max g1 64 2>"$W/last" && [ ! -s "$W/last" ] && long_mem g1 32768 65536
verdict "mem-max 64, above the domain's 32 MiB of RAM: kept, as Xen 4.17 keeps it (list -l's max_memkb)"
fails "$XL" mem-set g1 80
grep -qx 'libxl: error: memory_dynamic_max must be less than or equal to memory_static_max' "$W/last" &&
    long_mem g1 32768 65536
verdict "mem-set 80 is above mem-max: refused in libxl's words"
fails "$XL" mem-set g1 16
grep -qx 'libxl: error: domain 1: No balloon device has been activated' "$W/last" &&
    grep -qx 'cannot set domid 1 dynamic max memory to : 16' "$W/last" && [ "$(list_row g1)" = "$(row g1 1 32 1 r-----)" ]
verdict "mem-set on a guest without a balloon driver: refused, Mem unchanged"
fails "$XL" save g1 "$W/nodir/g1.save"
[ ! -e "$W/nodir" ] && grep -q "^libxl: error: domain 1: file '$W/nodir/g1.save': No such file or directory" "$W/last" &&
    grep -qx 'Failed to save domain, resuming domain' "$W/last" && [ "$(list_row g1)" = "$(row g1 1 32 1 r-----)" ]
verdict "save into a missing directory: refused, nothing written, it runs on"
fails "$XL" dump-core g1 "$W/nodir/core"
grep -qx 'core dump failed (rc=-3)' "$W/last" && [ ! -e "$W/nodir/core" ]
verdict "dump-core: an unwritable file, no core left"
# A core of all 32 MiB through the bulk path (docs/monitor.md "Memory in
# bulk"): gdb reads the pattern from it, the domain runs on, and nothing
# but the core is left in the directory.
page=$(sed -n 's/^pattern: page at //p' "$S/g1.log")
mkdir -p "$W/core.d"
(cd "$W/core.d" && "$XL" dump-core g1 g1.core) >"$W/last" 2>&1 &&
    readelf -l "$W/core.d/g1.core" | grep -A1 LOAD | grep -q '0x0000000002000000 0x0000000002000000' &&
    { ! command -v gdb >/dev/null ||
        gdb -q -batch -ex "x/s $page+0x100" -core "$W/core.d/g1.core" 2>&1 | grep -q '"hvkit pattern"'; } &&
    [ "$(ls -A "$W/core.d")" = g1.core ] && [ "$(list_row g1)" = "$(row g1 1 32 1 r-----)" ]
verdict "dump-core: a core of the domain's 32 MiB that gdb reads, the domain runs on"
rm -rf "$W/core.d"
# The kept configuration is what list -l starts from; the memory target
# is the domain's live one (libxl_retrieve_domain_configuration()), which
# the new memory= does not change until the next create.
printf 'name="g1"\nkernel="%s"\nmemory=32\n' "$G" >"$W/g1b.cfg"
"$XL" config-update g1 "$W/g1b.cfg" memory=20 'extra="new words"' 2>"$W/last"
grep -qx 'setting dom1 configuration' "$W/last" &&
    "$XL" list -l g1 | grep -q '"cmdline": "new words"' && long_mem g1 32768 65536
verdict "config-update: xl's words, the new configuration kept, the live memory target as it was"
"$XL" rename g1 web
"$XL" list >"$W/last"
grep -q "^web  *1 " "$W/last" && ! grep -q "^g1 " "$W/last" &&
    [ -S "$S/web.sock" ] && [ ! -e "$S/g1" ]
verdict "rename: the same domain under its new name"
fails "$XL" rename web Domain-0
grep -qx "Can't rename domain 'web'." "$W/last"
verdict "rename to Domain-0: refused"
"$XL" rename web g1
fails "$XL" mem-set
grep -qx "'xl mem-set' requires at least 2 arguments." "$W/last"
verdict "a missing argument: xl's words and the usage"

# ---- One registry for xl and virsh ----------------------------------------
# Both real tools see the one hypervisor: virsh lists xl's domain, and xl
# lists and destroys one virsh started.
"$TOP/bin/virsh" list >"$W/last" 2>&1
grep -Eq '^ 1 +g1 +running$' "$W/last"
verdict "virsh list shows the domain xl created"
printf "<domain type='hvkit'><name>v1</name><memory unit='MiB'>16</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type><kernel>%s</kernel></os></domain>\n" "$G" >"$W/v1.xml"
"$TOP/bin/virsh" create "$W/v1.xml" >"$W/last" 2>&1
vpid=$(sed -n 's/^pid=//p' "$S/v1" 2>/dev/null)
"$XL" list >>"$W/last"
grep -Eq '^v1 +2 +16 +1 ' "$W/last" && "$XL" destroy v1 && ! "$TOP/bin/virsh" list | grep -q ' v1 '
verdict "xl lists and destroys a domain virsh created"

# ---- The balloon, and two vCPUs: a guest that follows the target ----------
printf 'name="b1"\nkernel="%s"\nmemory=32\nmaxmem=64\nvcpus=2\n' "$BUILD/guestkit/balloond.elf" >"$W/b1.cfg"
"$XL" create "$W/b1.cfg" 2>"$W/last"
bpid=$(sed -n 's/^pid=//p' "$S/b1")
# mem_is MIB: wait (up to 30 s) until xl list shows the domain with MIB.
mem_is() {
    for _ in $(seq 150); do
        [ "$(list_row b1)" = "$(row b1 3 "$1" 1 r-----)" ] && return 0
        sleep 0.2
    done
    list_row b1 >"$W/last"
    return 1
}
mem_is 32 &&
    "$XL" vcpu-list b1 | tail -1 | grep -Eq '^b1 {30} {5}3 {5}1 {4}- {3}--p {7}0\.0  all / all$'
verdict "vcpus=2: two vCPUs, the second offline until the guest starts it (xl list counts the one online)"
fails "$XL" vcpu-set b1 1
grep -qx 'libxl: error: domain 3: The guest has not activated vCPU hot-plug (include/hvkit/pv.h HC_VCPU_AVAIL): only its current count can be set' "$W/last" &&
    grep -qx 'libxl_set_vcpuonline failed domid=3 max_vcpus=1, rc: -3' "$W/last"
verdict "vcpu-set on a guest without vCPU hot-plug: refused in libxl's form"
"$XL" mem-set b1 16
mem_is 16 &&
    grep -qx 'balloond: 16384 KiB' "$S/b1.log" && long_mem b1 16384 65536
verdict "mem-set b1 16: the guest gives pages back, xl list shows 16 MiB, list -l's target_memkb follows"
"$XL" mem-set b1 24m
mem_is 24 && grep -qx 'balloond: 24576 KiB' "$S/b1.log"
verdict "mem-set b1 24m: it takes 8 MiB back"
# maxmem=64: hv built the domain with 64 MiB and the balloon gave 32 back
# at the start (the first line balloond printed), so mem-set may go above
# the boot size up to maxmem, and no further.
"$XL" mem-set b1 48
mem_is 48 && [ "$(grep -m1 '^balloond: ' "$S/b1.log")" = 'balloond: 32768 KiB' ] &&
    grep -qx 'balloond: 49152 KiB' "$S/b1.log" && "$XL" list -l b1 | grep -q '"max_memkb": 65536'
verdict "maxmem=64: the guest started with 32 MiB; mem-set b1 48 raises it above that"
fails "$XL" mem-set b1 80
grep -qx 'libxl: error: memory_dynamic_max must be less than or equal to memory_static_max' "$W/last" &&
    mem_is 48
verdict "mem-set b1 80: above maxmem, refused in libxl's words, Mem unchanged"
# Above the RAM the domain was built with: as in Xen 4.17, mem-max may
# raise the limit and mem-set the target up to it, but a guest without
# memory hot-plug (every hvkit guest) keeps the RAM it was built with.
"$XL" mem-max b1 96 && "$XL" mem-set b1 80 2>"$W/last" &&
    grep -qx 'warning: domain 3 was built with 64 MiB of RAM and its guest cannot hot-plug memory: it stays at 64 MiB' "$W/last" &&
    mem_is 64 && grep -qx 'balloond: 65536 KiB' "$S/b1.log" && long_mem b1 81920 98304
verdict "mem-max b1 96, mem-set b1 80, above its 64 MiB of RAM: kept (list -l), the guest takes all its 64 MiB and no more"
fails "$XL" mem-max b1 72
grep -qx 'libxl: error: domain 3: memory_static_max must be greater than or or equal to memory_dynamic_max' "$W/last" &&
    long_mem b1 81920 98304
verdict "mem-max b1 72, below the target of 80: refused"
"$XL" destroy b1

# ---- on_crash: a guest that triple-faults, restarted each time -------------
printf 'name="c1"\nkernel="%s"\nmemory=16\non_crash="restart"\n' "$BUILD/guestkit/triple.elf" >"$W/c1.cfg"
"$XL" create "$W/c1.cfg" 2>"$W/last"
for _ in $(seq 150); do grep -q 'restarting (on_crash=restart)' "$S/c1.log" 2>/dev/null && break; sleep 0.2; done
"$XL" dmesg >"$W/last"
"$XL" list >>"$W/last"
grep -q "^(XEN) d4: domain 0: crashed: triple fault.*; restarting (on_crash=restart)$" "$W/last" &&
    grep -q '^c1  ' "$W/last"
verdict "on_crash=restart: the domain crashes, hv restarts it, xl list still shows it"
cpid=$(sed -n 's/^pid=//p' "$S/c1")
"$XL" destroy c1

pid=$(sed -n 's/^pid=//p' "$S/g1")
"$XL" destroy g1 >"$W/last" 2>&1
[ $? = 0 ] &&
    [ "$("$XL" list | wc -l)" = 2 ] && ! kill -0 "$pid" 2>/dev/null && [ ! -e "$S/g1" ] && [ ! -e "$SOCK" ]
verdict "destroy: gone from list, its machine and files too"
# Whatever failed, leave no machine running.
for p in "$pid" "${cpid:-}" "${bpid:-}" "${vpid:-}"; do [ -n "$p" ] && kill -0 "$p" 2>/dev/null && kill -- -"$p"; done
exit 0
