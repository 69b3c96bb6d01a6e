#!/usr/bin/env bash
# Check that every code citation in the lessons and docs is still true.
#
# Usage: lessons/check-citations.sh [-v] [FILE.md...]
#        (default: lessons/*/README.md and docs/*.md)
#
# A citation is written in backquotes as `path/to/file.c: function_name()`
# (path from the top of the repository).  It is true when the file exists
# and defines that function:
#   .c/.h  a line that starts a definition: "NAME(" at the start of a line,
#          or a return type (qualifiers, attributes) then "NAME(", not ending
#          in ";" (a declaration)
#          and not a macro;
#   .S     a label "NAME:";
#   .sh / bash scripts / Makefiles  "NAME()" at the start of a line, or a
#          make target "NAME:".
# Prints one line per false citation ("FILE.md:LINE: `...`: why") and, with
# -v, one line per checked citation.  Exit status 0 when every citation
# holds, 1 if any does not, 2 on usage errors.  A document without any
# citation is not an error here; tests/integration/citations.sh asks the
# lesson chapters to have some.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
verbose=0
if [ "${1:-}" = -v ]; then
    verbose=1
    shift
fi
if [ $# -eq 0 ]; then
    shopt -s nullglob
    set -- "$top"/lessons/*/README.md "$top"/docs/*.md
fi

# defines FILE NAME: does FILE define NAME?
defines() {
    local f=$1 name=$2
    case $f in
    *.c | *.h)
        # A definition begins at the start of a line (after an optional
        # return type and qualifiers) and does not end with ';'.
        grep -E "^([A-Za-z_][A-Za-z0-9_ *()]*[ *])?${name}[[:space:]]*\(" "$f" | grep -qvE ';[[:space:]]*$'
        ;;
    *.S | *.s)
        grep -qE "^[[:space:]]*$name:" "$f"
        ;;
    *)
        grep -qE "^[[:space:]]*(function[[:space:]]+)?${name}[[:space:]]*\(\)|^${name}:" "$f"
        ;;
    esac
}

# citations DOC: print "LINE:path: name()" for every citation in DOC.  A
# citation may be wrapped across two lines (Markdown joins them), so each
# line is searched together with the next, keeping the matches that start
# on the first.
citations() {
    awk '
        function scan(text, first_len, lineno,    rest, off, c) {
            rest = text; off = 0
            while (match(rest, /`[A-Za-z0-9_.\/-]+:[ \t]+[A-Za-z_][A-Za-z0-9_]*\(\)`/)) {
                if (off + RSTART > first_len) break
                c = substr(rest, RSTART + 1, RLENGTH - 2)
                gsub(/:[ \t]+/, ": ", c)
                print lineno ":" c
                off += RSTART + RLENGTH - 1
                rest = substr(rest, RSTART + RLENGTH)
            }
        }
        NR > 1 { scan(prev " " $0, length(prev), NR - 1) }
        { sub(/^[ \t]+/, "", $0); prev = $0 }
        END { if (NR) scan(prev, length(prev), NR) }
    ' "$1"
}

bad=0 total=0
for doc in "$@"; do
    if [ ! -f "$doc" ]; then
        echo "check-citations: $doc: no such file" >&2
        exit 2
    fi
    # Every `path: name()` on every line, with its line number.
    while IFS=: read -r lineno cite; do
        total=$((total + 1))
        path=${cite%%: *}
        name=${cite#*: }
        name=${name%()}
        where="${doc#"$top"/}:$lineno: \`$cite\`"
        if [ ! -f "$top/$path" ]; then
            echo "$where: $path does not exist"
            bad=$((bad + 1))
        elif ! defines "$top/$path" "$name"; then
            echo "$where: $path does not define $name()"
            bad=$((bad + 1))
        elif [ "$verbose" = 1 ]; then
            echo "$where: ok"
        fi
    done < <(citations "$doc")
done
[ "$verbose" = 1 ] && echo "check-citations: $total citations, $bad false"
[ "$bad" -eq 0 ]
