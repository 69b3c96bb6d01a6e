# shellcheck shell=bash
# Helpers for the imgtool interop suites (sourced; the .bash suffix keeps
# tests/run from running this file as a suite).
#
# The idea of every case: do the same thing with qemu-img 7.2 and with
# imgtool, in two directories prepared identically, and require the same
# exit status and the same stdout and stderr after replacing the program
# name "qemu-img" by "imgtool".  Results are one line each: "PASS: name",
# "FAIL: name: why" (followed by an indented diff), or "SKIP: name: why".
set -uo pipefail

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
export TOP BUILD
IMGTOOL=${IMGTOOL:-$BUILD/imgtool/imgtool}
QEMU_IMG=${QEMU_IMG:-qemu-img}
QEMU_IO=${QEMU_IO:-qemu-io}

SUITE=$(basename "$0" .sh)
WORK=$BUILD/tests/interop/$SUITE
rm -rf "$WORK"
mkdir -p "$WORK"
# Dates in snapshot tables are local time: pin the zone for both tools.
export TZ=UTC

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
skip() { echo "SKIP: $1: $2"; }

# Stop the whole suite with one SKIP line if a tool is missing.
need_tools() {
    if [ ! -x "$IMGTOOL" ]; then
        skip "$SUITE" "imgtool is not built ($IMGTOOL); run make -C imgtool"
        exit 0
    fi
    if ! command -v "$QEMU_IMG" >/dev/null || ! command -v "$QEMU_IO" >/dev/null; then
        skip "$SUITE" "qemu-img/qemu-io not installed (mk/deps.sh test)"
        exit 0
    fi
}

# Indent a file for display after a FAIL line.
indent() { sed 's/^/    | /' "$@" | head -n 30; }

# norm FILE: the program name normalised, in place.
norm() { sed -i 's/qemu-img/imgtool/g' "$1"; }

# twin NAME DIR ARGS...: run "qemu-img ARGS" in DIR/q and "imgtool ARGS" in
# DIR/i and compare status, stdout and stderr (stderr not with
# TWIN_STDERR=no; the program name is not normalised with TWIN_NORM=no).  Both directories must already hold the same files.
twin() {
    local name=$1 dir=$2 rq ri
    shift 2
    (cd "$dir/q" && "$QEMU_IMG" "$@" >"$dir/q.out" 2>"$dir/q.err" </dev/null)
    rq=$?
    (cd "$dir/i" && "$IMGTOOL" "$@" >"$dir/i.out" 2>"$dir/i.err" </dev/null)
    ri=$?
    # TWIN_NORM=no compares the raw text: for imgtool running as qemu-img.
    if [ "${TWIN_NORM:-yes}" = yes ]; then
        norm "$dir/q.out"
        norm "$dir/q.err"
    fi
    if [ "$rq" != "$ri" ]; then
        fail "$name" "exit status $ri, qemu-img gives $rq"
        indent "$dir/i.err"
        return 1
    fi
    if ! cmp -s "$dir/q.out" "$dir/i.out"; then
        fail "$name" "stdout differs from qemu-img's (- qemu-img, + imgtool)"
        diff "$dir/q.out" "$dir/i.out" | indent
        return 1
    fi
    if [ "${TWIN_STDERR:-yes}" = yes ] && ! cmp -s "$dir/q.err" "$dir/i.err"; then
        fail "$name" "stderr differs from qemu-img's (- qemu-img, + imgtool)"
        diff "$dir/q.err" "$dir/i.err" | indent
        return 1
    fi
    pass "$name"
}

# case_dir NAME: a fresh DIR with empty q/ and i/ subdirectories.
case_dir() {
    local d=$WORK/$1
    rm -rf "$d"
    mkdir -p "$d/q" "$d/i"
    echo "$d"
}

# fixtures SETUP: run the script's SETUP function once on FIX
# ($WORK/fixture), which makes the images that every case starts from;
# prepare then gives each case its own copies.
fixtures() {
    FIX=$WORK/fixture
    mkdir -p "$FIX"
    "$1" "$FIX"
}

# prepare NAME: a fresh case directory (case_dir) whose q/ and i/ both hold
# a copy of the fixtures in $FIX, so that qemu-img and imgtool each change
# their own; prints the directory.
prepare() {
    local d
    d=$(case_dir "$1")
    cp -a "$FIX/." "$d/q/"
    cp -a "$FIX/." "$d/i/"
    echo "$d"
}

# same_files CASE...: for each CASE, every image its command wrote
# (x.qcow2, x.img) must be the same file in imgtool's directory as in
# qemu-img's; one "CASE-file" result per image found.
same_files() {
    local c d f
    for c in "$@"; do
        d=$WORK/$c
        for f in x.qcow2 x.img; do
            [ -e "$d/q/$f" ] || continue
            if cmp -s "$d/q/$f" "$d/i/$f"; then
                pass "$c-file"
            else
                fail "$c-file" "$f differs from qemu-img's"
            fi
        done
    done
}

# table: read "name | field | field..." lines from stdin, skipping blank
# lines and # comments; calls "$1 name field..." with fields trimmed.
table() {
    local fn=$1 line
    local -a f
    while IFS= read -r line; do
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        IFS='|' read -r -a f <<<"$line"
        local i
        for i in "${!f[@]}"; do
            f[i]=$(sed -E 's/^[[:space:]]+|[[:space:]]+$//g' <<<"${f[i]}")
        done
        "$fn" "${f[@]}"
    done
}
