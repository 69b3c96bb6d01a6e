#!/usr/bin/env bash
# The kit stands alone: nothing a user reads (lessons/, labs/, docs/, the
# READMEs) and no source file of hv, imgtool, guestkit, bin, mk, klib or
# include points at a path of one machine or at a file outside the
# repository (lib/standalone.pl says exactly what counts).  The checker
# itself must catch each kind of mistake.
. "$(dirname "$0")/lib.bash"

CHECK=(perl "$TOP/tests/integration/lib/standalone.pl")
cd "$TOP" || exit 1

# A probe inside the repository's tree (the checker resolves paths from the
# file's directory), under build/, which git ignores.
# The figure link names a file under build/ that no build makes, so the
# checker reports it twice (missing, and inside build/) on a fresh clone and
# after a build alike.
probe=$IT_WORK/probe.md
cat >"$probe" <<'MD'
Run -kernel /home/someone/hvkit/build/hv/hv.elf.
Notes in ../../../../../elsewhere/notes.txt and in shared/notes/x.
See [the guide](no-such-guide.md) and missing-notes.md.
![figure](../../../../build/no-such-dir/layers.svg)
Fine: /usr/share/bochs/BIOS-bochs-latest, "$TOP"/docs, [lessons](../../../../lessons/check-citations.sh), README.md.
MD
out=$("${CHECK[@]}" "$probe")
status=$?
if [ "$status" -eq 1 ] && [ "$(grep -c . <<<"$out")" -eq 8 ] &&
    grep -q "absolute path '/home/someone" <<<"$out" && grep -q "climbs out" <<<"$out" &&
    grep -q "shared/notes" <<<"$out" && grep -q "link to 'no-such-guide.md'" <<<"$out" &&
    grep -q "mentions 'missing-notes.md'" <<<"$out" && grep -q "inside build/" <<<"$out"; then
    pass "standalone: the checker finds machine paths and outside references"
else
    fail "standalone: the checker finds machine paths and outside references" \
        "status $status, output: $(tr '\n' '|' <<<"$out")"
fi

mapfile -t files < <(git ls-files lessons labs docs README.md hv imgtool guestkit bin mk klib include)
if out=$("${CHECK[@]}" "${files[@]}"); then
    pass "standalone: ${#files[@]} files point at nothing outside the repository"
else
    fail "standalone: files point outside the repository" "$(grep -c . <<<"$out") places"
    sed 's/^/    /' <<<"$out" | head -n 30
fi
