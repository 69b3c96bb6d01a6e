mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/pattern.elf" kernels/
qemu-img create -q -f raw web.img 4M
