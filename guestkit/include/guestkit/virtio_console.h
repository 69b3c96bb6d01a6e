/*
 * A virtio console driver (virtio 1.2, 5.3 "Console Device"), port 0 only:
 * without VIRTIO_CONSOLE_F_MULTIPORT the device has one receive queue (0)
 * and one transmit queue (1) (5.3.2 "Virtqueues").
 *
 *     static struct virtio_console con;    // keep it static: it holds the rings
 *     virtio_console_init(&con, &dev, VIRTIO_WAIT_POLL, 0);
 *     virtio_console_write(&con, "hi\n", 3);
 *     console_redirect(virtio_console_putc_sink(&con));  // printf through it
 *
 * With QEMU: -device virtio-serial-device -device virtconsole,chardev=ID.
 */
#ifndef GUESTKIT_VIRTIO_CONSOLE_H
#define GUESTKIT_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guestkit/virtio.h"

/* Feature bits (5.3.3 "Feature bits"). */
#define VIRTIO_CONSOLE_F_SIZE      0
#define VIRTIO_CONSOLE_F_MULTIPORT 1

/* Output is gathered in a buffer this long before it is sent. */
#define VIRTIO_CONSOLE_BUF 256
/* Receive buffers kept on the receive queue. */
#define VIRTIO_CONSOLE_RX_BUFS 4

struct virtio_console {
    struct virtio_dev dev;
    struct virtq rx, tx;
    struct virtq_page rx_ring, tx_ring;
    /* Output not sent yet (virtio_console_putc()). */
    char out[VIRTIO_CONSOLE_BUF];
    size_t out_len;
    /* Receive buffers; the one being read, how much the device put in it
     * and how much of that was read. */
    char in[VIRTIO_CONSOLE_RX_BUFS][64];
    char *in_cur;
    uint32_t in_len, in_pos;
    /* Counters: bytes sent and send requests (chains). */
    uint64_t bytes_sent;
    uint64_t sends;
};

/* Initialise the device (from virtio_find()) and both queues, and post
 * the receive buffers.  False with con->dev.error saying why. */
bool virtio_console_init(struct virtio_console *con, const struct virtio_dev *dev,
                         enum virtio_wait wait, uint8_t vector);
/* Send len bytes and wait until the device has taken them.  False if the
 * device broke. */
bool virtio_console_write(struct virtio_console *con, const char *buf, size_t len);
/* Gather one character; the buffer goes out at a newline or when full. */
void virtio_console_putc(struct virtio_console *con, char c);
/* Send what virtio_console_putc() gathered. */
void virtio_console_flush(struct virtio_console *con);
/* Up to max bytes the host sent, without waiting: how many were read. */
size_t virtio_console_read(struct virtio_console *con, char *buf, size_t max);
/* Wait until the host has sent something more (after virtio_console_read()
 * returned 0: that gives the buffers read up back to the device), in the
 * device's wait mode; with VIRTIO_WAIT_POLL a hypervisor that delivers
 * input only at exits may never do so.  False if the device broke. */
bool virtio_console_wait_input(struct virtio_console *con);

/* Send everything printf, puts and putchar print through `con` instead of
 * COM1 (NULL: back to COM1).  One console at a time. */
void virtio_console_take_output(struct virtio_console *con);

#endif
