mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/pattern.elf" kernels/
printf 'name = "db"\nmemory = 16\nkernel = "%s/kernels/pattern.elf"\n' "$PWD" >db.cfg
xl create db.cfg 2>/dev/null || exit 1
# The guest prints where its counter is once it counts.
for _ in $(seq 300); do
    grep -q '^pattern: counting' "$HVKIT_STATE_DIR/running/db.log" 2>/dev/null && exit 0
    sleep 0.2
done
echo "setup: domain db did not start counting" >&2
exit 1
