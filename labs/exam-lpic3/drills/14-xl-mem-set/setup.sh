. "$(dirname "$0")/../../grade-lib.bash"
mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/balloond.elf" kernels/
printf 'name = "cache"\nmemory = 48\nkernel = "%s/kernels/balloond.elf"\n' "$PWD" >cache.cfg
xl create cache.cfg 2>/dev/null || exit 1
# The guest says its size once its balloon driver runs.
console_says cache '^balloond: ' && exit 0
echo "setup: domain cache's balloon driver did not start" >&2
exit 1
