/*
 * blk.h - virtio-blk (virtio 1.2 5.2 "Block Device"), device ID 2, one
 * request queue, whose disk is an image opened with imgtool's library
 * (imgtool/lib/img.h: raw or qcow2, the same code as bin/imgtool).
 *
 * A request (5.2.6 "Device Operation") is one descriptor chain: a
 * 16-byte header the device reads (le32 type, le32 reserved, le64 sector),
 * then the data (read for OUT, written for IN), then one status byte the
 * device writes last: VIRTIO_BLK_S_OK, _IOERR or _UNSUPP.  Handled:
 *   IN, OUT          sectors of 512 bytes, whole ones, inside the disk;
 *   FLUSH            img_flush(): everything written is on the image's
 *                    backend when the status says OK;
 *   GET_ID           the 20-byte serial (empty by default, as QEMU's);
 *   DISCARD,         one segment each (max_discard_seg = 1) of
 *   WRITE_ZEROES     {le64 sector, le32 num_sectors, le32 flags}: the
 *                    range reads as zeros afterwards (img_write_zeroes;
 *                    WRITE_ZEROES's unmap flag lets clusters go).
 * A read-only disk (VIRTIO_BLK_F_RO) fails OUT, DISCARD and WRITE_ZEROES
 * with IOERR, as QEMU does.  An IN or OUT whose data come in more pieces
 * than seg_max, or in a piece longer than size_max, a request past the end
 * of the disk, data that is not whole sectors, or a chain with no room for
 * the status gets IOERR (or, without room for a status, is returned
 * unanswered); each kind of refusal is logged once.
 *
 * Every read, write, flush, discard and write-zeroes is counted in the
 * disk's I/O counters (dev/blkacct.h) as QEMU 7.2's virtio-blk counts it:
 * IN and OUT as reads and writes of their data bytes, FLUSH as a flush,
 * WRITE_ZEROES as a write of its range; a request past the end, of data
 * that is not whole sectors or beyond seg_max/size_max as invalid, one the
 * disk could not carry out (the image failed, a read-only disk) as
 * failed.  GET_ID and request types the device does not do are not
 * counted (nor are they by QEMU).  QEMU 7.2 leaves DISCARD out of its
 * counters; hv counts it as an unmap, the kind QMP has for it.
 *
 * Compiled into hv and hosted (tests/unit/test_hv_virtio_dev.c).
 */
#ifndef HV_DEV_VIRTIO_BLK_H
#define HV_DEV_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/blkacct.h"
#include "img.h"
#include "virtio_mmio.h"

#define VIRTIO_ID_BLOCK 2

/* The spec's numbers (features, request types, status, sector size)
 * are shared with guestkit's driver. */
#include "hvkit/virtio_blk.h"

/* The configuration space up to write_zeroes_may_unmap and its padding
 * (5.2.4 "Device configuration layout"); the secure-erase fields after it
 * belong to a feature not offered. */
#define VIRTIO_BLK_CONFIG_LEN 60

/*
 * What the device tells the driver about its limits (5.2.3 "Feature
 * bits": "Maximum number of segments in a request is in seg_max",
 * "Maximum size of any single segment is in size_max"), and holds it to.
 * hv carries out a request whole inside the exit of the driver's notify,
 * with the vCPU stopped, so the two bound that exit: at most seg_max *
 * size_max = 126 * 64 KiB, about 8 MiB, move per request.  126 is the
 * value QEMU offered before it tied seg_max to the queue size (128 - 2: a
 * header and a status besides); it leaves room below the 256 descriptors
 * a chain may have (VIRTQ_MAX_SIZE), so the limit is one a driver can
 * really break and the device really checks.  guestkit's driver cuts its
 * buffers at page boundaries, into at most 32 pieces.
 */
#define VIRTIO_BLK_SEG_MAX  126u
#define VIRTIO_BLK_SIZE_MAX (64u << 10) /* bytes of data in one piece */
#define VIRTIO_BLK_ZERO_MAX (1u << 22)  /* sectors per discard/write-zeroes */

struct virtio_blk {
    struct virtio_device dev;
    uint8_t config[VIRTIO_BLK_CONFIG_LEN];
    struct img *img;
    bool readonly;
    uint64_t sectors; /* the capacity in 512-byte sectors */
    char serial[VIRTIO_BLK_ID_BYTES];
    /* The transport, for its log (set at each notify). */
    struct virtio_mmio *t;
    /* The chain being worked on (big: kept here, not on hv's stack). */
    struct virtq_chain chain;
    /* The disk's I/O counters: the device's own (own_acct), or those its
     * user keeps elsewhere (hv keeps them in the domain, so that they
     * outlive a reset: core/vdev.c). */
    struct blkacct own_acct;
    struct blkacct *acct;
    /* The request being worked on, as the counters see it: whether it is
     * one they count, and, if it is refused, whether as invalid (the
     * driver's fault) rather than failed (the disk's). */
    struct blkacct_req req;
    bool counted, invalid;
};

/* A disk called `name` over the open image `img` (which must outlive the
 * device); `readonly` offers VIRTIO_BLK_F_RO and refuses writes even if
 * the image is writable.  The counters are the device's own, without a
 * clock, until the caller points `acct` elsewhere. */
void virtio_blk_init(struct virtio_blk *b, const char *name, struct img *img, bool readonly);

#endif
