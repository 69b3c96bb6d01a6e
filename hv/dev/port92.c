/*
 * port92.c - System Control Port A (see port92.h).
 */
#include "klib.h"

#include "port92.h"

static uint32_t port92_read(void *ctx, uint16_t off, uint8_t size)
{
    const struct port92 *p = ctx;
    (void)off;
    (void)size;
    /* The bits read back as written, as on QEMU. */
    return p->value;
}

static void port92_write(void *ctx, uint16_t off, uint8_t size, uint32_t value)
{
    struct port92 *p = ctx;
    (void)off;
    (void)size;
    /* A 0-to-1 transition of bit 0 pulses the CPU's reset line. */
    if ((value & PORT92_FAST_RESET) && !(p->value & PORT92_FAST_RESET))
        p->reset_requested = true;
    p->value = (uint8_t)value;
}

void port92_init(struct port92 *p)
{
    memset(p, 0, sizeof(*p));
    /* The firmware (SeaBIOS) enables A20 through this port at boot. */
    p->value = PORT92_A20;
    p->dev = (struct io_device){
        .name = "port92",
        .base = 0x92,
        .count = 1,
        .wide = false,
        .read = port92_read,
        .write = port92_write,
        .ctx = p,
    };
}
