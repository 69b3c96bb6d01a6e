#!/usr/bin/env bash
# The prose must not drift from the code: every `file: function()` citation
# in the lesson chapters and in docs/ must name a function that file still
# defines (lessons/check-citations.sh).  A chapter must cite some code, and
# the checker itself must catch a false citation.
. "$(dirname "$0")/lib.bash"

CHECK=$TOP/lessons/check-citations.sh

# The checker catches a missing function, a missing file and a citation
# wrapped across lines, and accepts a true one.
probe=$IT_WORK/probe.md
cat >"$probe" <<'MD'
True: `lessons/check-citations.sh: defines()`.
False: `lessons/check-citations.sh: no_such_function()`, and
`lessons/no-such-file.c: main()`, and wrapped over a line: `lessons/check-citations.sh:
also_missing()`.
MD
out=$("$CHECK" "$probe")
status=$?
if [ "$status" -eq 1 ] && [ "$(grep -c . <<<"$out")" -eq 3 ] &&
    grep -q 'no_such_function' <<<"$out" && grep -q 'no-such-file.c does not exist' <<<"$out" &&
    grep -q 'also_missing' <<<"$out"; then
    pass "check-citations finds false citations"
else
    fail "check-citations finds false citations" "status $status, output: $(tr '\n' '|' <<<"$out")"
fi

shopt -s nullglob
for doc in "$TOP"/lessons/*/README.md "$TOP"/docs/*.md; do
    name=${doc#"$TOP"/}
    n=$("$CHECK" -v "$doc" | grep -c ': ok$')
    if ! out=$("$CHECK" "$doc"); then
        fail "citations in $name" "$(grep -c . <<<"$out") false: $(head -n 3 <<<"$out" | tr '\n' ' ')"
        # shellcheck disable=SC2001  # indent every line
        sed 's/^/    /' <<<"$out" | head -n 20
    elif [[ $name == lessons/* || $name == docs/imgtool.md ]] && [ "$n" -eq 0 ]; then
        # docs/imgtool.md's "Reading the code" is a path through the code.
        fail "citations in $name" "the chapter cites no code (\`file: function()\`)"
    else
        pass "citations in $name ($n)"
    fi
done

# Every citation of the Intel SDM or the AMD APM carries its section's title
# in double quotes, e.g. SDM vol 3C 27.3.1 "Checks on the Guest State Area"
# (lib/manual-cites.pl gives the accepted form), so that a reader with
# another edition than hv/README.md's finds it.  The checker must catch a
# citation without its title, and pass one with it.
MCHECK=(perl "$TOP/tests/integration/lib/manual-cites.pl")
mprobe=$IT_WORK/manual-probe.c
cat >"$mprobe" <<'C'
/* Good: SDM vol 3C 27.3.1 "Checks on the Guest State Area", APM vol 2
 * 15.5.1 "Basic Operation", 15.14 "VMCB State Caching"; SDM vol 2B "STI";
 * the SDM's order.  Bad: SDM vol 3A 6.15, and APM vol 2 15.20 "Event
 * Injection", 15.21, and wrapped: SDM vol 3D appendix
 * C. */
C
out=$("${MCHECK[@]}" "$mprobe")
status=$?
if [ "$status" -eq 1 ] && [ "$(grep -c . <<<"$out")" -eq 3 ] && grep -q 'SDM vol 3A 6.15 without' <<<"$out" &&
    grep -q 'APM vol 2 15.21 without' <<<"$out" && grep -q 'SDM vol 3D appendix C without' <<<"$out"; then
    pass "manual citations: the checker finds a citation without its title"
else
    fail "manual citations: the checker finds a citation without its title" \
        "status $status, output: $(tr '\n' '|' <<<"$out")"
fi
cd "$TOP" || exit 1
mapfile -t mfiles < <(git ls-files hv imgtool guestkit bin mk klib include lessons labs docs tests README.md |
    grep -vE '\.(svg|json|qcow2|raw|bin|img|gz|xz|zst)$' |
    grep -vxE 'tests/integration/(citations\.sh|lib/manual-cites\.pl)')
count=$("${MCHECK[@]}" -l "${mfiles[@]}" | grep -c .)
if out=$("${MCHECK[@]}" "${mfiles[@]}"); then
    pass "manual citations: $count SDM/APM citations carry their section titles"
else
    fail "manual citations" "$(grep -c . <<<"$out") SDM/APM citations without their section title"
    sed 's/^/    /' <<<"$out" | head -n 30
fi

# Citations of QEMU's qcow2 specification (docs/interop/qcow2.txt) name a
# section by its heading, or a table by its caption, exactly as the
# specification spells it: qcow2.txt "Cluster mapping".  The list is the
# specification's own headings and table captions.
qcow2_titles=(
    "General" "Header" "Additional fields (version 3 and higher)" "Header padding"
    "Header extensions" "String header extensions" "Feature name table" "Bitmaps extension"
    "Full disk encryption header pointer" "Data encryption" "Host cluster management"
    "Cluster mapping" "L1 table entry" "L2 table entry" "Standard Cluster Descriptor"
    "Compressed Clusters Descriptor" "Refcount table entry" "Refcount block entry"
    "Extended L2 Entries" "Subcluster Allocation Bitmap" "Snapshots" "Snapshot table entry" "Bitmaps"
    "Bitmap directory" "Bitmap table" "Bitmap data" "Dirty tracking bitmaps"
)
# qcow2_bad FILE...: "FILE:LINE: title" for every cited title not in the
# list.  A citation may wrap across lines, even across comment leaders.
qcow2_bad() {
    QCOW2_TITLES="$(printf '%s\n' "${qcow2_titles[@]}")" perl -0777 -ne '
        BEGIN { %ok = map { $_ => 1 } split /\n/, $ENV{QCOW2_TITLES} }
        while (/qcow2\.txt\s+"([^"]+)"/g) {
            my ($title, $at) = ($1, $-[0]);
            $title =~ s{\s*\n\s*(?:\*|//|#)?\s*}{ }g;
            next if $ok{$title};
            my $line = 1 + (substr($_, 0, $at) =~ tr/\n//);
            print "$ARGV:$line: qcow2.txt \"$title\"\n";
        }' "$@"
}
qprobe=$IT_WORK/qcow2-probe.c
printf '%s\n' '/* Good: qcow2.txt "Cluster mapping", qcow2.txt "Host cluster' \
    ' * management".  Bad: qcow2.txt "L2 tables". */' >"$qprobe"
out=$(qcow2_bad "$qprobe")
if [ "$(grep -c . <<<"$out")" -eq 1 ] && grep -q '"L2 tables"' <<<"$out"; then
    pass "qcow2.txt citations: the checker finds a title the specification does not have"
else
    fail "qcow2.txt citations: the checker finds a title the specification does not have" \
        "output: $(tr '\n' '|' <<<"$out")"
fi
mapfile -t qfiles < <(git ls-files imgtool docs | grep -E '\.(c|h|md)$')
qcount=$(cat "${qfiles[@]}" | grep -o 'qcow2\.txt "' | wc -l)
out=$(qcow2_bad "${qfiles[@]}")
if [ -z "$out" ]; then
    pass "qcow2.txt citations: $qcount name a real section or table of the specification"
else
    fail "qcow2.txt citations" "$(grep -c . <<<"$out") name no section of the specification"
    sed 's/^/    /' <<<"$out" | head -n 30
fi
