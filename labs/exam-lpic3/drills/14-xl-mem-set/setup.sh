mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/balloond.elf" kernels/
printf 'name = "cache"\nmemory = 48\nkernel = "%s/kernels/balloond.elf"\n' "$PWD" >cache.cfg
xl create cache.cfg 2>/dev/null || exit 1
# The guest says its size once its balloon driver runs.
for _ in $(seq 300); do
    grep -q '^balloond: ' "$HVKIT_STATE_DIR/running/cache.log" 2>/dev/null && exit 0
    sleep 0.2
done
echo "setup: domain cache's balloon driver did not start" >&2
exit 1
