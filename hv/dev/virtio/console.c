/*
 * console.c - virtio-console with one port (see console.h).
 */
#include "klib.h"

#include "console.h"

/* The transmitq: every chain is output bytes in its device-readable
 * pieces (5.3.6.2 "Multiport Device Operation" does not apply: one port);
 * the device writes nothing back, so each is used with length 0. */
static void transmit(struct virtio_console *c, struct virtio_mmio *t)
{
    while (virtio_mmio_pop(t, VIRTIO_CONSOLE_TX, &c->chain)) {
        for (unsigned i = 0; i < c->chain.nread; i++)
            if (c->chain.seg[i].len)
                c->out(c->out_ctx, c->chain.seg[i].host, c->chain.seg[i].len);
        virtio_mmio_push(t, VIRTIO_CONSOLE_TX, c->chain.head, 0);
    }
    virtio_mmio_notify_used(t, VIRTIO_CONSOLE_TX);
}

static void console_notify(void *ctx, struct virtio_mmio *t, unsigned q)
{
    struct virtio_console *c = ctx;
    /* Output goes out now; new receive buffers wait for input, and input
     * that came before them (the owner's to keep) can fill them now. */
    if (q == VIRTIO_CONSOLE_TX)
        transmit(c, t);
    else if (q == VIRTIO_CONSOLE_RX && c->in)
        c->in(c->out_ctx);
}

/* emerg_wr: "a driver can write a character to it" (5.3.4) and the device
 * outputs it as if sent on port 0; the other fields are read-only. */
static void console_config_write(void *ctx, uint32_t off, uint8_t size, uint64_t value)
{
    struct virtio_console *c = ctx;
    (void)size;
    if (off == VIRTIO_CONSOLE_EMERG_WR) {
        uint8_t ch = (uint8_t)value;
        c->out(c->out_ctx, &ch, 1);
    }
}

void virtio_console_init(struct virtio_console *c, const char *name, virtio_console_out_fn out,
                         void *out_ctx)
{
    *c = (struct virtio_console){.out = out, .out_ctx = out_ctx};
    /* cols and rows are 0 (VIRTIO_CONSOLE_F_SIZE not offered); one port. */
    c->config[4] = 1;
    c->dev = (struct virtio_device){
        .name = name,
        .device_id = VIRTIO_ID_CONSOLE,
        .features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) |
                    (1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_CONSOLE_F_EMERG_WRITE),
        .nqueues = 2,
        .config = c->config,
        .config_len = sizeof(c->config),
        .config_write = console_config_write,
        .notify = console_notify,
        .ctx = c,
    };
}

size_t virtio_console_input(struct virtio_console *c, struct virtio_mmio *t, const uint8_t *buf,
                            size_t len)
{
    size_t done = 0;
    /* One receive buffer per pop, filled as far as the input goes (the
     * driver sees the length on the used ring). */
    while (done < len && virtio_mmio_pop(t, VIRTIO_CONSOLE_RX, &c->chain)) {
        size_t n = virtq_chain_write(&c->chain, 0, buf + done, len - done);
        virtio_mmio_push(t, VIRTIO_CONSOLE_RX, c->chain.head, (uint32_t)n);
        done += n;
        /* A chain with no writable room would loop forever on input. */
        if (n == 0)
            break;
    }
    virtio_mmio_notify_used(t, VIRTIO_CONSOLE_RX);
    return done;
}
