# shellcheck shell=bash
# lesson.bash: what every lesson's `run` script does first (sourced).
#
# lesson_build NN: build hv and the guests if they are missing or out of date
# (make only rebuilds what changed), quietly unless something fails; then
# the caller is at the top of the repository.  hv and guestkit only: a
# lesson needs nothing else.  Exits 125 (hvrun's "usage or build" status)
# when the build fails, after showing make's output.
lesson_build() {
    local log
    cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 125
    log=$(mktemp "${TMPDIR:-/tmp}/lesson$1-build.XXXXXX")
    if ! make --no-print-directory -s hv guestkit >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "run: the build failed (above)" >&2
        exit 125
    fi
    rm -f "$log"
}
