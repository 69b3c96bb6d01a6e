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

pid=$(sed -n 's/^pid=//p' "$S/g1")
"$XL" destroy g1 >"$W/last" 2>&1
check "destroy: gone from list, its machine and files too" [ $? = 0 ] &&
    [ "$("$XL" list | wc -l)" = 2 ] && ! kill -0 "$pid" 2>/dev/null && [ ! -e "$S/g1" ] && [ ! -e "$SOCK" ]
# Whatever failed, leave no machine running.
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -- -"$pid"
exit 0
