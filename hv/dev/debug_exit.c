/*
 * debug_exit.c - port 0xf4 ends the guest (see debug_exit.h).  QEMU's device
 * takes accesses of any size at its 4 ports (iosize=4); reads return all
 * ones there, as here.
 */
#include "klib.h"

#include "debug_exit.h"

/* Reads: all ones of the access size, as on QEMU, where the device has
 * nothing to say. */
static uint32_t dx_read(void *ctx, uint16_t off, uint8_t size)
{
    /* No state is read: every port of the device reads the same. */
    (void)ctx;
    (void)off;
    return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* A write of any size at any of the 4 ports: the value is the exit code.
 * The core sees `requested` after the OUT and ends the guest with it. */
static void dx_write(void *ctx, uint16_t off, uint8_t size, uint32_t value)
{
    struct debug_exit *d = ctx;
    /* QEMU's device ignores the offset and uses the value as written,
     * zero-extended: an OUTB of 3 is code 3, like an OUTL of 3. */
    (void)off;
    (void)size;
    /* The first request wins; the core stops the guest right after it. */
    if (!d->requested) {
        d->requested = true;
        d->code = value;
    }
}

/* Set up the device at `port` (0xf4 in hv, from abi.h), not yet requested;
 * the caller puts d->dev on the bus. */
void debug_exit_init(struct debug_exit *d, uint16_t port)
{
    /* requested = false, code = 0. */
    memset(d, 0, sizeof(*d));
    d->dev = (struct io_device){
        /* The name the bus uses in its messages. */
        .name = "debug-exit",
        .base = port,
        /* iosize=4 as in the README's QEMU command line. */
        .count = 4,
        /* Wide: a 16- or 32-bit OUT is one write with the whole value, not
         * byte cycles that would each set a different "code". */
        .wide = true,
        .read = dx_read,
        .write = dx_write,
        .ctx = d,
    };
}
