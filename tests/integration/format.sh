#!/usr/bin/env bash
# Every C source and header git tracks is formatted as the repo's
# .clang-format says, so that diffs show changes, not whitespace.
. "$(dirname "$0")/lib.bash"

if ! command -v clang-format >/dev/null 2>&1; then
    skip clang-format "clang-format is not installed (mk/deps.sh group test installs it)"
    exit 0
fi
cd "$TOP" || exit 1
bad=()
while IFS= read -r f; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.c' '*.h')
if [ ${#bad[@]} -eq 0 ]; then
    pass clang-format
else
    fail clang-format "not formatted (run clang-format -i): ${bad[*]}"
fi
