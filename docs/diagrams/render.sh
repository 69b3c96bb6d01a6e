#!/usr/bin/env bash
# render.sh DOT SVG: render one Graphviz diagram to SVG, the same on every
# machine with the same Graphviz (Debian 12: 2.43).
#
# Graphviz sizes each box from the width of its text, which it normally
# measures with the fonts installed (the pango plugin), so two machines with
# different fonts lay the same diagram out differently.  Here dot runs with
# only its core SVG renderer and the dot layout plugin, in a private plugin
# directory: without a text-layout plugin it measures text with the font
# metrics built into Graphviz, which no installed font can change.  The
# committed docs/diagrams/*.svg are made this way (make docs), and
# tests/integration/diagrams.sh renders them again and compares.
set -euo pipefail
dot_file=${1:?usage: render.sh DOT SVG}
svg=${2:?usage: render.sh DOT SVG}
command -v dot >/dev/null || {
    echo "render.sh: dot not found: install graphviz (bash mk/deps.sh build)" >&2
    exit 1
}
shopt -s nullglob
core=''
for c in /usr/lib/*/graphviz/libgvplugin_core.so.[0-9] /usr/lib/graphviz/libgvplugin_core.so.[0-9] \
    /usr/local/lib/graphviz/libgvplugin_core.so.[0-9]; do
    core=$c
    break
done
if [ -z "$core" ]; then
    echo "render.sh: cannot find Graphviz's plugins (libgvplugin_core)" >&2
    exit 1
fi
plugins=$(mktemp -d "${TMPDIR:-/tmp}/render.XXXXXX")
trap 'rm -rf "$plugins" "$svg.tmp"' EXIT
ln -s "$core" "$plugins/"
ln -s "$(dirname "$core")"/libgvplugin_dot_layout.so.[0-9] "$plugins/"
# dot -c writes the plugin list of GVBINDIR; every dot below uses only it.
GVBINDIR=$plugins dot -c
# A temporary file first, so a dot error leaves no half-written SVG behind.
GVBINDIR=$plugins dot -Tsvg "$dot_file" -o "$svg.tmp"
mv "$svg.tmp" "$svg"
