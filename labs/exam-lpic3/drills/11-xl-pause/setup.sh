. "$(dirname "$0")/../../grade-lib.bash"
mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/pattern.elf" kernels/
printf 'name = "db"\nmemory = 16\nkernel = "%s/kernels/pattern.elf"\n' "$PWD" >db.cfg
xl create db.cfg 2>/dev/null || exit 1
# The guest prints where its counter is once it counts.
console_says db '^pattern: counting' && exit 0
echo "setup: domain db did not start counting" >&2
exit 1
