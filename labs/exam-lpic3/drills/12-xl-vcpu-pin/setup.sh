mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/pattern.elf" kernels/
printf 'name = "app"\nmemory = 16\nkernel = "%s/kernels/pattern.elf"\n' "$PWD" >app.cfg
xl create app.cfg 2>/dev/null
