#!/usr/bin/env bash
# mkskeleton.sh: make a lab's student tree from the reference sources.
#
#   labs/tools/mkskeleton.sh LAB OUTDIR PATH...
#
# LAB is the two-digit lab number ("01").  Each PATH (a file or directory
# of the repository, relative to its top) is copied into OUTDIR under the
# same relative path, and in every copied file the regions the reference
# marks for this lab are cut out:
#
#     /* LAB 01: BEGIN name (anything) */   first line of the region
#     /* LAB 01: HINT text ...              kept, as the TODO's text
#      * ... (may go on for lines) */
#     /* LAB 01: STUB code */               `code` is put in the skeleton
#     ...the reference code...              removed
#     /* LAB 01: END */                     last line of the region
#
# Each region becomes, at the BEGIN line's indentation,
#
#     /* TODO (lab 01, name):
#      * text ...
#      */
#     code
#
# STUB lines exist so that the skeleton still compiles under -Werror: a
# region that was a function's return statement leaves `return 0;`, a region
# that used a parameter leaves `(void)param;`.  Markers of other labs are
# left alone.  Outside the regions every byte is copied unchanged.
#
# Errors (a marker without its partner, a region inside a region, a HINT or
# STUB outside a region) name the file and line, and the script exits with
# status 1 having removed the half-made OUTDIR, so a bad marker never yields
# a skeleton that silently contains the answer.
set -euo pipefail

usage() {
    echo "usage: mkskeleton.sh LAB OUTDIR PATH..." >&2
    exit 2
}
[ $# -ge 3 ] || usage
lab=$1 out=$2
shift 2
[[ $lab =~ ^[0-9][0-9]$ ]] || { echo "mkskeleton.sh: LAB must be two digits, not '$lab'" >&2; exit 2; }
# The tree the paths are taken from: the repository, unless LAB_SRC_TOP
# names another (the tests use it to feed in broken markers).
top=${LAB_SRC_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}

# The awk program that cuts one file's regions.  It reads the file once and
# prints the skeleton; on a marker error it prints FILE:LINE: message on
# stderr and exits 1.
read -r -d '' CUT <<'AWK' || true
function fail(msg, at) {
    printf "%s:%d: %s\n", shown, (at ? at : FNR), msg > "/dev/stderr"
    failed = 1
    exit 1
}
# The text of a comment line without the comment's punctuation.
function strip(s) {
    sub(/^[ \t]*(\/\*|\*)?[ \t]?/, "", s)
    sub(/[ \t]*\*\/[ \t]*$/, "", s)
    return s
}
BEGIN { inside = 0; inhint = 0; mark = "LAB " lab ": " }
{
    line = $0
    if (index(line, mark "BEGIN ")) {
        if (inside)
            fail("LAB " lab ": BEGIN inside the region '" name "' begun at line " begun)
        inside = 1; begun = FNR; inhint = 0; nhint = 0; nstub = 0
        match(line, /^[ \t]*/); indent = substr(line, 1, RLENGTH)
        rest = substr(line, index(line, mark "BEGIN ") + length(mark "BEGIN "))
        match(rest, /^[A-Za-z0-9_.-]+/)
        if (RLENGTH <= 0)
            fail("LAB " lab ": BEGIN without a region name")
        name = substr(rest, 1, RLENGTH)
        next
    }
    if (index(line, mark "END")) {
        if (!inside)
            fail("LAB " lab ": END without a BEGIN")
        if (inhint)
            fail("LAB " lab ": END inside an unfinished HINT comment")
        # The TODO comment: the hint's lines, rewrapped under one opening.
        printf "%s/* TODO (lab %s, %s):\n", indent, lab, name
        if (nhint == 0)
            printf "%s * write this part (see the lab's README.md).\n", indent
        for (i = 1; i <= nhint; i++)
            printf "%s * %s\n", indent, hint[i]
        printf "%s */\n", indent
        for (i = 1; i <= nstub; i++)
            printf "%s%s\n", indent, stub[i]
        inside = 0
        next
    }
    if (inhint) {
        # A continuation line of the HINT comment.
        hint[++nhint] = strip(line)
        if (line ~ /\*\/[ \t]*$/)
            inhint = 0
        next
    }
    if (index(line, mark "HINT")) {
        if (!inside)
            fail("LAB " lab ": HINT outside a region")
        t = substr(line, index(line, mark "HINT") + length(mark "HINT"))
        inhint = !(t ~ /\*\/[ \t]*$/)
        sub(/^[ \t]*/, "", t)
        sub(/[ \t]*\*\/[ \t]*$/, "", t)
        hint[++nhint] = t
        next
    }
    if (index(line, mark "STUB")) {
        if (!inside)
            fail("LAB " lab ": STUB outside a region")
        t = substr(line, index(line, mark "STUB") + length(mark "STUB"))
        if (!(t ~ /\*\/[ \t]*$/))
            fail("LAB " lab ": a STUB must fit on one line")
        sub(/^[ \t]*/, "", t)
        sub(/[ \t]*\*\/[ \t]*$/, "", t)
        stub[++nstub] = t
        next
    }
    # Reference code: dropped inside a region, copied outside.
    if (!inside)
        print line
}
END {
    if (!failed && inside)
        fail("LAB " lab ": BEGIN of '" name "' has no END", begun)
}
AWK

tmp=$out.tmp.$$
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
regions=0
for p in "$@"; do
    [ -e "$top/$p" ] || { echo "mkskeleton.sh: no such path in the repository: $p" >&2; exit 1; }
    mkdir -p "$tmp/$(dirname "$p")"
    cp -a "$top/$p" "$tmp/$p"
done
# Every file with a marker of this lab (an END or HINT alone is an error
# the awk program reports, so those files are cut too).
while IFS= read -r f; do
    awk -v lab="$lab" -v shown="${f#"$tmp"/}" "$CUT" "$f" >"$f.cut" || exit 1
    n=$(grep -c "LAB $lab: BEGIN " "$f")
    regions=$((regions + n))
    # Keep the file's mode (scripts stay executable).
    cat "$f.cut" >"$f"
    rm -f "$f.cut"
    echo "mkskeleton.sh: ${f#"$tmp"/}: $n region(s) removed" >&2
done < <(grep -rlE -e "LAB $lab: (BEGIN|END|HINT|STUB)" "$tmp" || true)
if [ "$regions" -eq 0 ]; then
    echo "mkskeleton.sh: no 'LAB $lab: BEGIN' region in ${*}: nothing to remove" >&2
    exit 1
fi
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "mkskeleton.sh: skeleton of lab $lab in $out ($regions regions removed)" >&2
