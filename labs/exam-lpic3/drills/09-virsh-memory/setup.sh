. "$(dirname "$0")/../../grade-lib.bash"
pattern_domain db
virsh -q define db.xml >/dev/null && virsh -q start db >/dev/null || exit 1
