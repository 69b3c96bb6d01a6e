#!/usr/bin/env bash
# slatgraph.sh: draw a guest's second-level tables from a real run.
#
#   docs/slatgraph.sh OUT.dot [hvrun options...]
#
# Runs bin/hvrun with --slat-dot and the given options (default: the hello
# guest, `-kernel build/guestkit/hello.elf -append world`), takes the
# "[hv] dot: " lines hv prints when the guest ends, writes them to OUT.dot
# and, when Graphviz is installed, renders OUT.svg beside it.  Examples:
#
#   docs/slatgraph.sh build/docs/slat.dot
#   docs/slatgraph.sh build/docs/slat-lazy.dot --npt lazy -kernel build/guestkit/hello.elf
#
# Exits non-zero, leaving no OUT file behind, when the run prints no graph.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: docs/slatgraph.sh OUT.dot [hvrun options...]" >&2; exit 2; }
out=$1
shift
[ $# -gt 0 ] || set -- -kernel "$TOP/build/guestkit/hello.elf" -append world
mkdir -p "$(dirname "$out")"
log=$(mktemp)
trap 'rm -f "$log" "$out.tmp" "${out%.dot}.svg.tmp"' EXIT
# The guest's own status does not matter here, only hv's graph.
"$TOP/bin/hvrun" --slat-dot "$@" >/dev/null 2>"$log" || true
sed -n 's/^\[hv\] dot: //p' "$log" >"$out.tmp"
if ! grep -q '^digraph ' "$out.tmp" || ! grep -q '^}$' "$out.tmp"; then
    echo "slatgraph.sh: the run printed no complete graph; hv said:" >&2
    tail -n 5 "$log" >&2
    exit 1
fi
mv "$out.tmp" "$out"
if command -v dot >/dev/null; then
    dot -Tsvg "$out" -o "${out%.dot}.svg.tmp"
    mv "${out%.dot}.svg.tmp" "${out%.dot}.svg"
fi
echo "slatgraph.sh: wrote $out"
