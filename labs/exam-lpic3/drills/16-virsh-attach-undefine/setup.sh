. "$(dirname "$0")/../../grade-lib.bash"
pattern_domain web
pattern_domain old
virsh -q define old.xml
rm old.xml
