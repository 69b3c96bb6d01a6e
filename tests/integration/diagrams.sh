#!/usr/bin/env bash
# The figures the docs embed are committed next to their sources: every
# docs/diagrams/NAME.dot has a NAME.svg that git tracks, and rendering the
# .dot again (docs/diagrams/render.sh, deterministic) gives exactly that
# SVG, so a figure can never show something its source no longer says.
. "$(dirname "$0")/lib.bash"

D=$TOP/docs/diagrams
if ! command -v dot >/dev/null 2>&1; then
    skip diagrams "graphviz is not installed (mk/deps.sh group build installs it)"
    exit 0
fi
cd "$TOP" || exit 1
shopt -s nullglob
for src in "$D"/*.dot; do
    name=$(basename "$src" .dot)
    svg=docs/diagrams/$name.svg
    if ! git ls-files --error-unmatch "$svg" >/dev/null 2>&1; then
        fail "diagram $name" "$svg is not committed (run make docs, then git add it)"
    elif ! bash "$D/render.sh" "$src" "$IT_WORK/$name.svg" 2>"$IT_WORK/$name.err"; then
        fail "diagram $name" "render.sh failed: $(head -n 3 "$IT_WORK/$name.err" | tr '\n' ' ')"
    elif ! cmp -s "$IT_WORK/$name.svg" "$svg"; then
        fail "diagram $name" "$svg differs from a fresh rendering of $name.dot (run make docs and commit it)"
        diff "$svg" "$IT_WORK/$name.svg" | head -n 10 | sed 's/^/    /'
    else
        pass "diagram $name"
    fi
done
# And no SVG without its source.
for svg in "$D"/*.svg; do
    [ -f "${svg%.svg}.dot" ] || fail "diagram $(basename "$svg")" "no ${svg%.svg}.dot to render it from"
done
