. "$(dirname "$0")/../../grade-lib.bash"
qemu-img create -q -f qcow2 app.qcow2 16M
pattern_domain app app.qcow2
virsh -q define app.xml >/dev/null && virsh -q start app >/dev/null || exit 1
console_says app '^pattern: counting' && exit 0
echo "setup: domain app did not start counting" >&2
exit 1
