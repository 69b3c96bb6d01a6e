. "$(dirname "$0")/../../grade-lib.bash"
pattern_domain web
