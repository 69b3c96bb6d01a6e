/*
 * The virtio console driver, port 0 (virtio 1.2, 5.3 "Console Device"):
 * output chains on the transmit queue, receive buffers on the receive
 * queue (5.3.6 "Device Operation").
 */
#include "klib.h"
#include "guestkit/console.h"
#include "guestkit/virtio_console.h"

/* Queue numbers of port 0 (5.3.2 "Virtqueues"). */
#define RX_QUEUE 0
#define TX_QUEUE 1

/* Only the ring features: one port, no emergency write, no size. */
#define WANTED (VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX) | VIRTIO_FEATURE(VIRTIO_F_INDIRECT_DESC))

/* Offer one receive buffer to the device: it writes input into it. */
static bool post_rx(struct virtio_console *con, unsigned i)
{
    struct virtq_buf b = {(uintptr_t)con->in[i], sizeof(con->in[i]), true};
    return virtq_add(&con->rx, &b, 1, con->in[i]);
}

bool virtio_console_init(struct virtio_console *con, const struct virtio_dev *dev,
                         enum virtio_wait wait, uint8_t vector)
{
    con->dev = *dev;
    con->out_len = 0;
    con->in_cur = NULL;
    con->in_len = con->in_pos = 0;
    con->bytes_sent = con->sends = 0;
    if (dev->device_id != VIRTIO_ID_CONSOLE) {
        con->dev.error = "not a console device";
        return false;
    }
    if (!virtio_begin(&con->dev, WANTED) ||
        !virtio_queue_setup(&con->dev, &con->rx, &con->rx_ring, RX_QUEUE, VIRTQ_MAX_SIZE) ||
        !virtio_queue_setup(&con->dev, &con->tx, &con->tx_ring, TX_QUEUE, VIRTQ_MAX_SIZE))
        return false;
    /* The receive queue needs buffers before input can arrive (5.3.6.1
     * "Driver Requirements: Device Operation"): they may be posted before
     * DRIVER_OK, and the device looks at them once it is live. */
    for (unsigned i = 0; i < VIRTIO_CONSOLE_RX_BUFS; i++)
        post_rx(con, i);
    virtq_publish(&con->rx);
    /* Input is looked for, not waited for: no receive interrupts. */
    virtq_want_interrupts(&con->rx, false);
    return virtio_go(&con->dev, wait, vector);
}

bool virtio_console_write(struct virtio_console *con, const char *buf, size_t len)
{
    while (len) {
        /* One chain per piece of at most a page's worth of bytes. */
        uint32_t piece = len > 4096 ? 4096 : (uint32_t)len;
        struct virtq_buf b = {(uintptr_t)buf, piece, false};
        if (!virtq_add(&con->tx, &b, 1, con))
            return false;
        virtio_kick(&con->dev, &con->tx);
        if (!virtio_wait_used(&con->dev, &con->tx) || virtq_get_used(&con->tx, NULL) != con)
            return false;
        con->sends++;
        con->bytes_sent += piece;
        buf += piece;
        len -= piece;
    }
    return true;
}

void virtio_console_flush(struct virtio_console *con)
{
    if (con->out_len) {
        virtio_console_write(con, con->out, con->out_len);
        con->out_len = 0;
    }
}

void virtio_console_putc(struct virtio_console *con, char c)
{
    con->out[con->out_len++] = c;
    if (c == '\n' || con->out_len == sizeof(con->out))
        virtio_console_flush(con);
}

size_t virtio_console_read(struct virtio_console *con, char *buf, size_t max)
{
    size_t n = 0;
    while (n < max) {
        if (con->in_cur && con->in_pos < con->in_len) {
            buf[n++] = con->in_cur[con->in_pos++];
            continue;
        }
        /* The buffer is used up (or there is none yet): give it back to
         * the device and take the next filled one, if any. */
        if (con->in_cur) {
            unsigned i = (unsigned)((con->in_cur - con->in[0]) / sizeof(con->in[0]));
            post_rx(con, i);
            virtio_kick(&con->dev, &con->rx);
            con->in_cur = NULL;
        }
        uint32_t len;
        char *filled = virtq_get_used(&con->rx, &len);
        if (!filled)
            break;
        con->in_cur = filled;
        con->in_pos = 0;
        con->in_len = len < sizeof(con->in[0]) ? len : sizeof(con->in[0]);
    }
    return n;
}

bool virtio_console_wait_input(struct virtio_console *con)
{
    /* Bytes still unread in the current buffer are input already. */
    if (con->in_cur && con->in_pos < con->in_len)
        return true;
    return virtio_wait_used(&con->dev, &con->rx);
}

/* The one console printf goes through (console_set_output() takes a
 * plain function). */
static struct virtio_console *output_console;

static void output_putc(char c)
{
    virtio_console_putc(output_console, c);
}

void virtio_console_take_output(struct virtio_console *con)
{
    if (output_console)
        virtio_console_flush(output_console);
    output_console = con;
    console_set_output(con ? output_putc : NULL);
}
