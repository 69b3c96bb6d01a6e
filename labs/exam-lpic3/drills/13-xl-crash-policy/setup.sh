mkdir -p kernels
cp "$HVKIT_BUILD/guestkit/triple.elf" kernels/flaky.elf
printf 'name = "flaky"\nmemory = 16\nkernel = "%s/kernels/flaky.elf"\n' "$PWD" >flaky.cfg
