# shellcheck shell=bash
# Helpers for the drills' grade.sh scripts (sourced).  A grader prints one
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
finish() { exit "$missing"; }
# holds FILE BYTE OFFSET LENGTH: the image reads BYTE all through the range
# (qemu-io prints its "read" line even when the pattern does not match, so
# its "Pattern verification failed" is what tells).
holds() {
    local out
    out=$(qemu-io -r -c "read -P $2 $3 $4" "$1" 2>&1) &&
        ! grep -q 'verification failed' <<<"$out" && grep -q '^read ' <<<"$out"
}
