# shellcheck shell=bash
# Helpers for the drills' grade.sh and setup.sh scripts (sourced).  A grader prints one
# line per thing it checks, "ok: ..." or "missing: ...", and exits 1 if
# anything is missing.  It judges state, never the commands typed.
missing=0
ok() { echo "  ok: $1"; }
miss() { echo "  missing: $1"; missing=1; }
check() { # check WHAT COMMAND...: ok if the command succeeds
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$what"; else miss "$what"; fi
}
# json_field FILE KEY: a number or string field of `qemu-img info --output=json`.
info_field() {
    qemu-img info --output=json "$1" 2>/dev/null |
        sed -n "s/^ *\"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -n 1
}
virsh_lab() { "$HVKIT_VIRSH" -q "$@"; }
xl_lab() { "$HVKIT_XL" "$@"; }
# ctl DOMAIN COMMAND [KEY=VALUE...]: one control-protocol request to a
# running domain's manager (bin/hvctl on its socket), its reply on stdout.
ctl() {
    local dom=$1
    shift
    "$HVKIT_TOP/bin/hvctl" -s "$HVKIT_STATE_DIR/running/$dom.sock" "$@"
}
# counter DOMAIN: the pattern guest's counter (its address from the
# domain's console), as hex bytes read from guest memory.
counter() {
    local addr
    addr=$(sed -n 's/^pattern: counter at //p' "$HVKIT_STATE_DIR/running/$1.log")
    [ -n "$addr" ] && ctl "$1" x-read-memory addr="$addr" size=8 physical=true |
        sed -n 's/.*"data": "\([0-9a-f]*\)".*/\1/p'
}
finish() { exit "$missing"; }
# console_says DOMAIN REGEX: wait until a line of the running domain's
# console matches (up to 60 s), as a set-up does before it hands the
# domain over; 1 if it never does.
console_says() {
    local _
    for _ in $(seq 300); do
        grep -q "$2" "$HVKIT_STATE_DIR/running/$1.log" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}
# holds FILE BYTE OFFSET LENGTH: the image reads BYTE all through the range
# (qemu-io prints its "read" line even when the pattern does not match, so
# its "Pattern verification failed" is what tells).
holds() {
    local out
    out=$(qemu-io -r -c "read -P $2 $3 $4" "$1" 2>&1) &&
        ! grep -q 'verification failed' <<<"$out" && grep -q '^read ' <<<"$out"
}
# pattern_domain NAME [DISK]: a set-up's domain definition, NAME.xml in the
# current directory (LAB_HOME): NAME, 16 MiB, one vCPU, the pattern guest
# (copied into kernels/) as its kernel, and with DISK, a qcow2 file in the
# current directory, that file as its virtio disk vda.
pattern_domain() {
    local devices=''
    mkdir -p kernels
    cp "$HVKIT_BUILD/guestkit/pattern.elf" kernels/
    [ -z "${2:-}" ] || devices="  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$PWD/$2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
"
    cat >"$1.xml" <<XML
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>16</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$PWD/kernels/pattern.elf</kernel>
  </os>
${devices}</domain>
XML
}
