. "$(dirname "$0")/../../grade-lib.bash"
mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/shout.elf" kernels/
printf 'name = "web"\nmemory = 16\nkernel = "%s/kernels/shout.elf"\n' "$PWD" >web.cfg
xl create web.cfg 2>/dev/null || exit 1
# The guest says when it reads its console.
console_says web '^shout: ready' && exit 0
echo "setup: domain web did not start" >&2
exit 1
