# grade-lib.bash: what every lab's grader does, sourced by labs/NN-*/grade.sh.
#
# A grader sets LAB (two digits) and NAMES (its exercises, in order), sources
# this file with the tree to grade and the build directory as arguments
# (`. grade-lib.bash SRC OUT`), then builds (grade_build_hv,
# grade_build_guests, grade_build_units), runs guests (run_guest), records
# what is wrong with each exercise (fail), and ends with grade_verdict.
#
# Environment: TOP (the repository, for bin/hvrun), GRADE_MAX_EXITS (VM exits
# a guest may cause, default 100000, about a hundred times what each guest
# needs: a guest whose instructions are never completed traps on the same one
# forever, and hv ends it after that many exits, in a second or two),
# GRADE_TIMEOUT (seconds a guest may run, default 20, for a guest that hangs
# without exits), GRADE_JOBS (make -j, default 2).

src=${1:?usage: grade.sh SRC OUT}
out=${2:?usage: grade.sh SRC OUT}
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
timeout=${GRADE_TIMEOUT:-20}
max_exits=${GRADE_MAX_EXITS:-100000}
jobs=${GRADE_JOBS:-2}
logs=$out/logs

# A skeleton is a copy: its files keep the repository's times, so a header
# that changed in the repository before the last build but was copied after
# it looks older than the objects built from the old one, and make would
# keep them.  So a build of any tree but the repository itself is thrown
# away whenever the tree's headers, Makefiles or make fragments differ from
# the ones it was made from (their checksum is kept in OUT/.headers).
fresh_build() {
    local sum
    [ "$(cd "$src" && pwd -P)" != "$(cd "$TOP" && pwd -P)" ] || return 0
    sum=$(cd "$src" && find . -type f \( -name '*.h' -o -name Makefile -o -name '*.mk' \) |
        LC_ALL=C sort | xargs sha1sum | sha1sum)
    if [ "$(cat "$out/.headers" 2>/dev/null)" != "$sum" ]; then
        rm -rf "$out"
        mkdir -p "$out"
        echo "$sum" >"$out/.headers"
    fi
}
fresh_build
mkdir -p "$logs"
rm -f "$logs"/*

declare -A why=()
declare -A status=()
# fail EXERCISE REASON: every reason is shown, in the order found.
fail() {
    why[$1]=${why[$1]:+${why[$1]}; }$2
}

# Everything is built into OUT (BUILD=OUT): the student's tree contains its
# own mk/config.mk, so SRC's Makefiles compile SRC's sources.  built=0 once
# hv or the guests do not build; units_ok=0 when the unit tests do not.
built=1
units_ok=1
echo "lab $LAB: building $src into $out" >&2

grade_build_hv() {
    if ! make -j"$jobs" -C "$src/hv" BUILD="$out" >"$logs/build-hv.log" 2>&1; then
        built=0
        echo "lab $LAB: hv does not build; the compiler said (full log $logs/build-hv.log):" >&2
        grep -E ': (fatal )?error:|undefined reference|\*\*\*' "$logs/build-hv.log" | head -n 20 |
            sed 's/^/    /' >&2
        local n
        for n in "${NAMES[@]}"; do fail "$n" "hv does not build"; done
    fi
}

# grade_build_guests NAME...: build/guestkit/NAME.elf for each.
grade_build_guests() {
    local g elfs=()
    for g in "$@"; do elfs+=("$out/guestkit/$g.elf"); done
    if ! make -j"$jobs" -C "$src/guestkit" BUILD="$out" "${elfs[@]}" \
        >/dev/null 2>"$logs/build-guests.log"; then
        echo "lab $LAB: the guests do not build (log $logs/build-guests.log)" >&2
        local n
        for n in "${NAMES[@]}"; do fail "$n" "the guests do not build"; done
        built=0
    fi
}

# grade_build_units PROGRAM...: the hosted unit-test programs, from SRC.
grade_build_units() {
    local p progs=()
    for p in "$@"; do progs+=("$out/tests/unit/$p"); done
    if ! make -j"$jobs" -C "$src/tests" BUILD="$out" "${progs[@]}" >"$logs/build-units.log" 2>&1; then
        units_ok=0
        echo "lab $LAB: the unit tests do not build (log $logs/build-units.log)" >&2
    fi
}

# run_guest ID NAME APPEND [HVRUN OPTION...]: run guest NAME under the
# student's hv with the exit budget; its console in logs/ID.out, hv's lines
# in logs/ID.err, hvrun's status in status[ID].
run_guest() {
    local id=$1 name=$2 append=$3
    shift 3
    "$TOP/bin/hvrun" --hv "$out/hv/hv.elf" --timeout "$timeout" --max-exits "$max_exits" "$@" \
        -kernel "$out/guestkit/$name.elf" -append "$append" >"$logs/$id.out" 2>"$logs/$id.err"
    status[$id]=$?
}

# stuck ID: the guest never finished: killed at the timeout, or ended by hv
# when it used up its exit budget.
stuck() {
    [ "${status[$1]}" = 124 ] || grep -q '^\[hv\] exit: guest crashed (exit budget spent' "$logs/$1.err"
}

# stuck_why ID: the words for a stuck guest's grade line.
stuck_why() {
    grep -o -m1 -E 'exit budget spent: [0-9]+ VM exits|timeout' "$logs/$1.err" ||
        echo "status ${status[$1]}"
}

# has ID TEXT: the guest reported "PASS: TEXT..." on its console.
has() { grep -q -F "PASS: $2" "$logs/$1.out" 2>/dev/null; }
# ended ID: hvrun's status 0 (the guest's own exit code 0).
ended() { [ "${status[$1]:-x}" = 0 ]; }

# unit PROGRAM TCASE TEST: the Check test TEST of test case TCASE passed.
# Check's normal output names each failing test (FILE:LINE:F:TCASE:TEST:I:
# message, E for a crash); the summary line proves the program ran at all.
unit() {
    local log=$logs/unit-$3.log
    if [ "$units_ok" != 1 ]; then
        echo "not run: the unit tests did not build (see $logs/build-units.log)" >"$log"
        return 1
    fi
    CK_FORK=yes CK_RUN_CASE=$2 "$out/tests/unit/$1" >"$log" 2>&1
    grep -q -E '^[0-9]+%: Checks: [1-9][0-9]*, ' "$log" &&
        ! grep -q -E "^[^:]+:[0-9]+:[FE]:$2:$3:" "$log"
}

# grade_verdict: one PASS/FAIL line per exercise, the score; the status is 0
# only when every exercise passes.
grade_verdict() {
    local score=0 i=0 n
    for n in "${NAMES[@]}"; do
        i=$((i + 1))
        if [ -z "${why[$n]:-}" ]; then
            echo "PASS: $i $n"
            score=$((score + 1))
        else
            echo "FAIL: $i $n: ${why[$n]}"
        fi
    done
    echo "lab $LAB score: $score/${#NAMES[@]} (logs in $logs)"
    [ "$score" = "${#NAMES[@]}" ]
}
