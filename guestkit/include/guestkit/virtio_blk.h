/*
 * A virtio block device driver (virtio 1.2, 5.2 "Block Device") on the
 * virtio-mmio transport (virtio.h).  Requests are synchronous: each call
 * puts one request on the queue, notifies the device and waits for it.
 *
 *     static struct virtio_blk blk;     // holds the queue's page: keep it static
 *     if (!virtio_blk_init(&blk, &dev, VIRTIO_WAIT_POLL, 0)) ... blk.dev.error
 *     virtio_blk_read(&blk, 0, buf, 8); // sectors 0..7 into buf
 */
#ifndef GUESTKIT_VIRTIO_BLK_H
#define GUESTKIT_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "guestkit/virtio.h"

/* The spec's numbers (features, request types, status, sector size,
 * GET_ID's length) are shared with hv's device model. */
#include "hvkit/virtio_blk.h"

/* The driver's own negative codes, for requests it never sent or that the
 * device broke. */
#define VIRTIO_BLK_E_ARGS   (-1) /* bad arguments: nothing was sent */
#define VIRTIO_BLK_E_DEVICE (-2) /* the device broke (NEEDS_RESET / FAILED) or misbehaved */

/* The most data buffers one request carries (this driver's limit), each at
 * most one 4 KiB page long. */
#define VIRTIO_BLK_MAX_SEGS 32

struct virtio_blk {
    struct virtio_dev dev;
    struct virtq vq;
    struct virtq_page ring;
    /* From the configuration space (5.2.4 "Device configuration layout"). */
    uint64_t capacity; /* in 512-byte sectors */
    uint32_t size_max; /* largest buffer, 0 if the device does not say */
    uint32_t seg_max;  /* most data buffers in one request, 0 if not said */
    uint32_t blk_size; /* the device's logical block size, 512 if not said */
    bool read_only;    /* VIRTIO_BLK_F_RO */
    /* Use indirect descriptors for requests (if negotiated). */
    bool use_indirect;
    /* The request's header and status byte (5.2.6: "struct
     * virtio_blk_req"), and an indirect table, for the one request in
     * flight. */
    struct {
        uint32_t type;
        uint32_t reserved;
        uint64_t sector;
    } header;
    volatile uint8_t status;
    struct virtq_desc table[VIRTIO_BLK_MAX_SEGS + 2] __attribute__((aligned(16)));
    /* Counters: requests completed and bytes moved. */
    uint64_t requests;
    uint64_t bytes;
};

/* Initialise the device dev describes (from virtio_find()) and its one
 * request queue.  `wait` and `vector` as for virtio_go().  False with
 * blk->dev.error saying why. */
bool virtio_blk_init(struct virtio_blk *blk, const struct virtio_dev *dev, enum virtio_wait wait,
                     uint8_t vector);

/* Read or write `count` sectors at `sector`; `buf` need not be aligned.
 * Returns a VIRTIO_BLK_S_* or VIRTIO_BLK_E_* code. */
int virtio_blk_read(struct virtio_blk *blk, uint64_t sector, void *buf, uint32_t count);
int virtio_blk_write(struct virtio_blk *blk, uint64_t sector, const void *buf, uint32_t count);
/* Make every completed write durable (VIRTIO_BLK_T_FLUSH). */
int virtio_blk_flush(struct virtio_blk *blk);
/* The device's identification string into id[VIRTIO_BLK_ID_BYTES + 1],
 * NUL-terminated. */
int virtio_blk_get_id(struct virtio_blk *blk, char *id);

/* A name for a status code ("OK", "IOERR", "UNSUPP", ...). */
const char *virtio_blk_status_name(int status);

#endif
