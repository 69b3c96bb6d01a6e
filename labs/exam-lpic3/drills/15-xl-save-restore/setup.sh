. "$(dirname "$0")/../../grade-lib.bash"
mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/counter.elf" kernels/
rm -f app.save
printf 'name = "app"\nmemory = 8\nkernel = "%s/kernels/counter.elf"\nextra = "100000"\n' "$PWD" >app.cfg
xl create app.cfg 2>/dev/null || exit 1
# The guest counts on its console, a line every 20 ms.
console_says app '^count 10$' && exit 0
echo "setup: domain app did not start counting" >&2
exit 1
