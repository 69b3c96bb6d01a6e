/*
 * console.h - virtio-console (virtio 1.2 5.3 "Console Device"), device ID
 * 3, with one port: queue 0 is port 0's receiveq (host to guest), queue 1
 * its transmitq (guest to host).
 *
 * Offered: VIRTIO_CONSOLE_F_EMERG_WRITE (a byte written to the emerg_wr
 * configuration field is output at once, before any queue is set up), and
 * the transport's VIRTIO_F_VERSION_1, VIRTIO_F_INDIRECT_DESC and
 * VIRTIO_F_EVENT_IDX.  Not offered: VIRTIO_CONSOLE_F_SIZE (no terminal
 * size) and VIRTIO_CONSOLE_F_MULTIPORT, so there are no control queues
 * and the one port exists from the start (5.3.6 "Device Operation").
 *
 * Output goes to a callback (hv prints it as the guest's console lines,
 * as it does the UART's); input is whatever virtio_console_input() is
 * given, placed in the buffers the driver left on the receiveq.
 * Compiled into hv and hosted (tests/unit/test_hv_virtio_dev.c).
 */
#ifndef HV_DEV_VIRTIO_CONSOLE_H
#define HV_DEV_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "virtio_mmio.h"

#define VIRTIO_ID_CONSOLE            3
#define VIRTIO_CONSOLE_F_SIZE        0
#define VIRTIO_CONSOLE_F_MULTIPORT   1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

/* The configuration space (5.3.4 "Device configuration layout"): cols,
 * rows (le16 each), max_nr_ports (le32), emerg_wr (le32). */
#define VIRTIO_CONSOLE_CONFIG_LEN 12
#define VIRTIO_CONSOLE_EMERG_WR   8

#define VIRTIO_CONSOLE_RX 0
#define VIRTIO_CONSOLE_TX 1

typedef void (*virtio_console_out_fn)(void *ctx, const uint8_t *buf, size_t len);
/* Asked when the driver puts buffers on the receiveq: input waiting for
 * them can go in now (virtio_console_input()). */
typedef void (*virtio_console_in_fn)(void *ctx);

struct virtio_console {
    struct virtio_device dev;
    uint8_t config[VIRTIO_CONSOLE_CONFIG_LEN];
    virtio_console_out_fn out;
    void *out_ctx;
    /* Optional, set after init: called with out_ctx on a receiveq notify. */
    virtio_console_in_fn in;
    /* The chain being worked on (big: kept here, not on hv's stack). */
    struct virtq_chain chain;
};

/* A console called `name` whose output goes to out(out_ctx, ...). */
void virtio_console_init(struct virtio_console *c, const char *name, virtio_console_out_fn out,
                         void *out_ctx);

/* Give the driver up to `len` bytes of input through transport `t`: they
 * fill the buffers waiting on the receiveq.  Returns how many bytes found a
 * buffer (0 when the driver has none ready). */
size_t virtio_console_input(struct virtio_console *c, struct virtio_mmio *t, const uint8_t *buf,
                            size_t len);

#endif
