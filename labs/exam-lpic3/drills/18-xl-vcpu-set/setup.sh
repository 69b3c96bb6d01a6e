. "$(dirname "$0")/../../grade-lib.bash"
mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/vcpuhot.elf" kernels/
printf 'name = "web"\nmemory = 16\nvcpus = 1\nmaxvcpus = 4\nkernel = "%s/kernels/vcpuhot.elf"\n' "$PWD" >web.cfg
xl create web.cfg 2>/dev/null || exit 1
# The guest says which CPUs it runs once it is up.
console_says web '^vcpuhot: 1 CPU online' && exit 0
echo "setup: domain web's guest did not start" >&2
exit 1
