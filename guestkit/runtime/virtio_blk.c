/*
 * The virtio block driver (virtio 1.2, 5.2 "Block Device").  One request
 * at a time: header, data buffers, status byte, as one descriptor chain
 * (5.2.6 "Device Operation").
 */
#include "klib.h"
#include "guestkit/virtio_blk.h"

#define PAGE 4096u

/* Configuration space offsets (5.2.4 "Device configuration layout"). */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX  12
#define CFG_BLK_SIZE 20

/* The features this driver can use.  Discard and write-zeroes are not
 * requested: nothing here sends them. */
#define WANTED                                                                                     \
    (VIRTIO_FEATURE(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX) |                \
     VIRTIO_FEATURE(VIRTIO_BLK_F_RO) | VIRTIO_FEATURE(VIRTIO_BLK_F_BLK_SIZE) |                     \
     VIRTIO_FEATURE(VIRTIO_BLK_F_FLUSH) | VIRTIO_FEATURE(VIRTIO_F_INDIRECT_DESC) |                 \
     VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX))

static uint32_t config32(const struct virtio_blk *blk, uint32_t offset)
{
    uint32_t v;
    virtio_config_read(&blk->dev, offset, &v, sizeof(v));
    return v;
}

/* The configuration fields the negotiated features make valid. */
static void read_config(struct virtio_blk *blk)
{
    virtio_config_read(&blk->dev, CFG_CAPACITY, &blk->capacity, sizeof(blk->capacity));
    blk->size_max = virtio_has(&blk->dev, VIRTIO_BLK_F_SIZE_MAX) ? config32(blk, CFG_SIZE_MAX) : 0;
    blk->seg_max = virtio_has(&blk->dev, VIRTIO_BLK_F_SEG_MAX) ? config32(blk, CFG_SEG_MAX) : 0;
    blk->blk_size = virtio_has(&blk->dev, VIRTIO_BLK_F_BLK_SIZE) ? config32(blk, CFG_BLK_SIZE)
                                                                 : VIRTIO_BLK_SECTOR;
    blk->read_only = virtio_has(&blk->dev, VIRTIO_BLK_F_RO);
}

bool virtio_blk_init(struct virtio_blk *blk, const struct virtio_dev *dev, enum virtio_wait wait,
                     uint8_t vector)
{
    blk->dev = *dev;
    blk->requests = blk->bytes = 0;
    blk->use_indirect = false;
    if (dev->device_id != VIRTIO_ID_BLOCK) {
        blk->dev.error = "not a block device";
        return false;
    }
    if (!virtio_begin(&blk->dev, WANTED))
        return false;
    read_config(blk);
    /* A block device has one request queue, number 0 (5.2.2 "Virtqueues"). */
    if (!virtio_queue_setup(&blk->dev, &blk->vq, &blk->ring, 0, VIRTQ_MAX_SIZE))
        return false;
    return virtio_go(&blk->dev, wait, vector);
}

/* How many data buffers one request may have: the device's seg_max, this
 * driver's limit, and (without an indirect table) room in the queue for
 * the header and status descriptors too. */
static unsigned max_segments(const struct virtio_blk *blk)
{
    unsigned n = VIRTIO_BLK_MAX_SEGS;
    if (blk->seg_max && blk->seg_max < n)
        n = blk->seg_max;
    if (!blk->use_indirect && n + 2u > blk->vq.size)
        n = blk->vq.size - 2u;
    return n;
}

/* The longest data buffer: up to the next page boundary, and no longer
 * than size_max. */
static uint32_t segment_length(const struct virtio_blk *blk, uintptr_t addr, uint32_t left)
{
    uint32_t len = PAGE - (uint32_t)(addr & (PAGE - 1));
    if (blk->size_max && len > blk->size_max)
        len = blk->size_max;
    return len < left ? len : left;
}

/* Send one request as a chain: the header (device reads), the data
 * buffers (device reads for OUT, writes for IN and GET_ID) and the status
 * byte (device writes), then wait for it. */
static int submit(struct virtio_blk *blk, const struct virtq_buf *bufs, unsigned n)
{
    blk->status = 0xff;
    bool ok = blk->use_indirect ? virtq_add_indirect(&blk->vq, blk->table, bufs, n, blk)
                                : virtq_add(&blk->vq, bufs, n, blk);
    if (!ok)
        return VIRTIO_BLK_E_ARGS;
    virtio_kick(&blk->dev, &blk->vq);
    if (!virtio_wait_used(&blk->dev, &blk->vq))
        return VIRTIO_BLK_E_DEVICE;
    uint32_t written;
    if (virtq_get_used(&blk->vq, &written) != blk)
        return VIRTIO_BLK_E_DEVICE;
    blk->requests++;
    return blk->status;
}

/* One request of `type` at `sector` over [buf, buf + bytes) cut into at
 * most max_segments() buffers; *done says how many bytes it covered. */
static int one_request(struct virtio_blk *blk, uint32_t type, uint64_t sector, uintptr_t buf,
                       uint32_t bytes, uint32_t *done)
{
    struct virtq_buf bufs[VIRTIO_BLK_MAX_SEGS + 2];
    unsigned n = 0, max = max_segments(blk);
    bool device_writes = type != VIRTIO_BLK_T_OUT;
    blk->header.type = type;
    blk->header.reserved = 0;
    blk->header.sector = sector;
    bufs[n++] = (struct virtq_buf){(uintptr_t)&blk->header, sizeof(blk->header), false};
    uint32_t covered = 0;
    while (covered < bytes && n - 1 < max) {
        uint32_t len = segment_length(blk, buf + covered, bytes - covered);
        bufs[n++] = (struct virtq_buf){buf + covered, len, device_writes};
        covered += len;
    }
    /* A request must carry whole sectors: trim a partial one at the end
     * (it goes with the next request). */
    if (covered < bytes && covered % VIRTIO_BLK_SECTOR) {
        uint32_t extra = covered % VIRTIO_BLK_SECTOR;
        covered -= extra;
        if (bufs[n - 1].len == extra)
            n--;
        else
            bufs[n - 1].len -= extra;
    }
    /* Not one whole sector fits the limits (a tiny size_max and a buffer
     * that is not sector-aligned): refuse rather than loop. */
    if (covered == 0)
        return VIRTIO_BLK_E_ARGS;
    bufs[n++] = (struct virtq_buf){(uintptr_t)&blk->status, 1, true};
    *done = covered;
    return submit(blk, bufs, n);
}

/* A read or write of count sectors, in as many requests as the limits
 * make necessary. */
static int transfer(struct virtio_blk *blk, uint32_t type, uint64_t sector, uintptr_t buf,
                    uint32_t count)
{
    if (count == 0 || count > UINT32_MAX / VIRTIO_BLK_SECTOR)
        return VIRTIO_BLK_E_ARGS;
    uint32_t bytes = count * VIRTIO_BLK_SECTOR;
    while (bytes) {
        uint32_t done;
        int status = one_request(blk, type, sector, buf, bytes, &done);
        if (status != VIRTIO_BLK_S_OK)
            return status;
        blk->bytes += done;
        sector += done / VIRTIO_BLK_SECTOR;
        buf += done;
        bytes -= done;
    }
    return VIRTIO_BLK_S_OK;
}

int virtio_blk_read(struct virtio_blk *blk, uint64_t sector, void *buf, uint32_t count)
{
    return transfer(blk, VIRTIO_BLK_T_IN, sector, (uintptr_t)buf, count);
}

int virtio_blk_write(struct virtio_blk *blk, uint64_t sector, const void *buf, uint32_t count)
{
    /* A read-only device fails writes with IOERR itself (5.2.6.2 "Device
     * Requirements: Device Operation"); the driver sends them anyway, so
     * that a test sees what the device does. */
    return transfer(blk, VIRTIO_BLK_T_OUT, sector, (uintptr_t)buf, count);
}

int virtio_blk_flush(struct virtio_blk *blk)
{
    /* A flush is a header and a status byte, sector 0 (5.2.6). */
    struct virtq_buf bufs[2] = {
        {(uintptr_t)&blk->header, sizeof(blk->header), false},
        {(uintptr_t)&blk->status, 1, true},
    };
    blk->header.type = VIRTIO_BLK_T_FLUSH;
    blk->header.reserved = 0;
    blk->header.sector = 0;
    return submit(blk, bufs, 2);
}

int virtio_blk_get_id(struct virtio_blk *blk, char *id)
{
    static char raw[VIRTIO_BLK_ID_BYTES];
    memset(raw, 0, sizeof(raw));
    struct virtq_buf bufs[3] = {
        {(uintptr_t)&blk->header, sizeof(blk->header), false},
        {(uintptr_t)raw, VIRTIO_BLK_ID_BYTES, true},
        {(uintptr_t)&blk->status, 1, true},
    };
    blk->header.type = VIRTIO_BLK_T_GET_ID;
    blk->header.reserved = 0;
    blk->header.sector = 0;
    int status = submit(blk, bufs, 3);
    /* The string is NUL-padded, and not terminated when it fills all 20
     * bytes (5.2.6). */
    memcpy(id, raw, VIRTIO_BLK_ID_BYTES);
    id[VIRTIO_BLK_ID_BYTES] = '\0';
    return status;
}

const char *virtio_blk_status_name(int status)
{
    switch (status) {
    case VIRTIO_BLK_S_OK:
        return "OK";
    case VIRTIO_BLK_S_IOERR:
        return "IOERR";
    case VIRTIO_BLK_S_UNSUPP:
        return "UNSUPP";
    case VIRTIO_BLK_E_ARGS:
        return "bad arguments";
    case VIRTIO_BLK_E_DEVICE:
        return "device error";
    default:
        return "unknown status";
    }
}
