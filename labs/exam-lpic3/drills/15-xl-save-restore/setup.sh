. "$(dirname "$0")/../../grade-lib.bash"
mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/counter.elf" kernels/
rm -f app.save app.qcow2
# Its disk: the counter keeps its count there every tenth count.
qemu-img create -f qcow2 app.qcow2 16M >/dev/null || exit 1
printf 'name = "app"\nmemory = 8\nkernel = "%s/kernels/counter.elf"\nextra = "100000 disk"\ndisk = [ "%s/app.qcow2,qcow2,xvda,w" ]\n' \
    "$PWD" "$PWD" >app.cfg
xl create app.cfg 2>/dev/null || exit 1
# The guest counts on its console, a line every 20 ms.
console_says app '^count 10$' && exit 0
echo "setup: domain app did not start counting" >&2
exit 1
