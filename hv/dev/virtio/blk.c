/*
 * blk.c - virtio-blk over an imgtool image (see blk.h).
 */
#include "klib.h"

#include "blk.h"
#include "le.h"

/* Kinds of refusals, each logged once until the driver resets the device. */
enum {
    LOG_READONLY = VIRTIO_LOG_DEVICE << 0,
    LOG_RANGE = VIRTIO_LOG_DEVICE << 1,
    LOG_LENGTH = VIRTIO_LOG_DEVICE << 2,
    LOG_UNSUPP = VIRTIO_LOG_DEVICE << 3,
    LOG_BACKEND = VIRTIO_LOG_DEVICE << 4,
    LOG_FRAMING = VIRTIO_LOG_DEVICE << 5,
    LOG_NO_STATUS = VIRTIO_LOG_DEVICE << 6,
    LOG_SEG_MAX = VIRTIO_LOG_DEVICE << 7,
    LOG_SIZE_MAX = VIRTIO_LOG_DEVICE << 8,
};

/* ---- Checks shared by the request types ------------------------------------- */

/* [sector, sector + count) lies inside the disk (computed without
 * overflow: a hostile sector near 2^64 must not wrap). */
static bool in_disk(const struct virtio_blk *b, uint64_t sector, uint64_t count)
{
    return sector <= b->sectors && count <= b->sectors - sector;
}

/* How the counters take a refusal of this kind: a request the driver got
 * wrong (past the end, not whole sectors, beyond the advertised limits) is
 * invalid; a write the read-only disk cannot do failed, as QEMU's
 * BlockBackend fails it; a request of a kind or form the device does not
 * do is not counted at all. */
static void count_refusal(struct virtio_blk *b, uint32_t kind)
{
    b->invalid =
        kind == LOG_RANGE || kind == LOG_LENGTH || kind == LOG_SEG_MAX || kind == LOG_SIZE_MAX;
    if (kind == LOG_UNSUPP || kind == LOG_FRAMING)
        b->counted = false;
}

/* A refusal: log it once by kind and answer with `status`. */
static uint8_t refuse(struct virtio_blk *b, uint32_t kind, uint8_t status, const char *what,
                      uint64_t sector)
{
    count_refusal(b, kind);
    virtio_mmio_log_once(b->t, kind, "%s (sector %llu of %llu) refused with %s", what,
                         (unsigned long long)sector, (unsigned long long)b->sectors,
                         status == VIRTIO_BLK_S_UNSUPP ? "VIRTIO_BLK_S_UNSUPP"
                                                       : "VIRTIO_BLK_S_IOERR");
    return status;
}

/* The image library failed: IOERR, with its message logged once. */
static uint8_t backend_error(struct virtio_blk *b, const char *op, uint64_t sector)
{
    virtio_mmio_log_once(b->t, LOG_BACKEND, "%s at sector %llu failed: %s", op,
                         (unsigned long long)sector, img_strerror(b->img));
    return VIRTIO_BLK_S_IOERR;
}

/* ---- IN and OUT ---------------------------------------------------------------- */

/* IN: the writable pieces but the status byte receive `len` bytes from
 * the disk at `sector`, piece by piece straight from the image. */
static uint8_t do_read(struct virtio_blk *b, const struct virtq_chain *c, uint64_t sector,
                       uint64_t len)
{
    uint64_t off = sector * VIRTIO_BLK_SECTOR, left = len;
    for (unsigned i = c->nread; i < c->nseg && left; i++) {
        uint64_t piece = c->seg[i].len < left ? c->seg[i].len : left;
        if (img_read(b->img, off, c->seg[i].host, piece) < 0)
            return backend_error(b, "read", sector);
        off += piece;
        left -= piece;
    }
    return VIRTIO_BLK_S_OK;
}

/* OUT: the readable pieces after the 16-byte header go to the disk. */
static uint8_t do_write(struct virtio_blk *b, const struct virtq_chain *c, uint64_t sector)
{
    uint64_t off = sector * VIRTIO_BLK_SECTOR, skip = 16;
    for (unsigned i = 0; i < c->nread; i++) {
        const struct virtq_seg *s = &c->seg[i];
        if (skip >= s->len) {
            skip -= s->len;
            continue;
        }
        if (img_write(b->img, off, s->host + skip, s->len - skip) < 0)
            return backend_error(b, "write", sector);
        off += s->len - skip;
        skip = 0;
    }
    return VIRTIO_BLK_S_OK;
}

/* The data of an IN or OUT as the limits count it: how many pieces carry
 * data bytes, and the most data bytes one piece carries.  OUT's data are
 * the readable bytes after the 16-byte header, IN's the writable bytes
 * before the status byte.  Framing is the driver's choice (2.7.4 "Message
 * Framing"): a piece that holds header or status bytes besides data counts
 * with its data bytes only, and one that holds none is not a segment. */
struct data_shape {
    unsigned pieces;
    uint64_t largest;
};

static struct data_shape data_shape(const struct virtq_chain *c, bool out)
{
    struct data_shape d = {0, 0};
    unsigned i = out ? 0 : c->nread, end = out ? c->nread : c->nseg;
    /* Bytes before the data in these pieces (the header), and data bytes
     * still to find (after them comes the status byte). */
    uint64_t before = out ? 16 : 0, left = out ? c->read_len - 16 : c->write_len - 1;
    for (; i < end && left; i++) {
        uint64_t len = c->seg[i].len, head = before < len ? before : len;
        before -= head;
        uint64_t data = len - head < left ? len - head : left;
        left -= data;
        if (data == 0)
            continue;
        d.pieces++;
        if (data > d.largest)
            d.largest = data;
    }
    return d;
}

/* The limits the configuration space advertises, checked on every IN and
 * OUT (whether or not the driver accepted the two feature bits: they are
 * the device's limits either way).  The spec names no status for a
 * request that breaks them; IOERR is its status "for device or driver
 * error" (5.2.6 "Device Operation"), and nothing of the request is done. */
static bool within_limits(struct virtio_blk *b, const struct virtq_chain *c, bool out,
                          uint64_t sector)
{
    struct data_shape d = data_shape(c, out);
    if (d.pieces > VIRTIO_BLK_SEG_MAX) {
        count_refusal(b, LOG_SEG_MAX);
        virtio_mmio_log_once(b->t, LOG_SEG_MAX,
                             "%s at sector %llu in %u data segments (seg_max %u) refused with "
                             "VIRTIO_BLK_S_IOERR",
                             out ? "write" : "read", (unsigned long long)sector, d.pieces,
                             VIRTIO_BLK_SEG_MAX);
        return false;
    }
    if (d.largest > VIRTIO_BLK_SIZE_MAX) {
        count_refusal(b, LOG_SIZE_MAX);
        virtio_mmio_log_once(b->t, LOG_SIZE_MAX,
                             "%s at sector %llu with a data segment of %llu bytes (size_max %u) "
                             "refused with VIRTIO_BLK_S_IOERR",
                             out ? "write" : "read", (unsigned long long)sector,
                             (unsigned long long)d.largest, VIRTIO_BLK_SIZE_MAX);
        return false;
    }
    return true;
}

/* IN or OUT: within seg_max and size_max, whole sectors, inside the disk;
 * then OUT not on a read-only one. */
static uint8_t read_write(struct virtio_blk *b, const struct virtq_chain *c, bool out,
                          uint64_t sector, uint32_t *written)
{
    uint64_t len = out ? c->read_len - 16 : c->write_len - 1;
    b->req.offset = sector * VIRTIO_BLK_SECTOR;
    b->req.bytes = len;
    if (!within_limits(b, c, out, sector))
        return VIRTIO_BLK_S_IOERR;
    if (len % VIRTIO_BLK_SECTOR)
        return refuse(b, LOG_LENGTH, VIRTIO_BLK_S_IOERR, "data that is not whole sectors", sector);
    if (!in_disk(b, sector, len / VIRTIO_BLK_SECTOR))
        return refuse(b, LOG_RANGE, VIRTIO_BLK_S_IOERR,
                      out ? "write past the end of the disk" : "read past the end of the disk",
                      sector);
    /* Checked after the request's form, as QEMU's virtio-blk checks the
     * range and its block layer then fails the write: a write past the
     * end of a read-only disk is invalid, one inside it failed. */
    if (out && b->readonly)
        return refuse(b, LOG_READONLY, VIRTIO_BLK_S_IOERR, "write to a read-only disk", sector);
    if (out)
        return do_write(b, c, sector);
    uint8_t st = do_read(b, c, sector, len);
    /* The device writes the data, then the status: both count. */
    if (st == VIRTIO_BLK_S_OK)
        *written += (uint32_t)len;
    return st;
}

/* ---- The other request types --------------------------------------------------- */

/* GET_ID: up to 20 bytes of the serial, NUL-padded (5.2.6: "not
 * NUL-terminated if it is exactly 20 bytes"). */
static uint8_t get_id(struct virtio_blk *b, const struct virtq_chain *c, uint32_t *written)
{
    uint64_t room = c->write_len - 1;
    uint32_t n = room < VIRTIO_BLK_ID_BYTES ? (uint32_t)room : VIRTIO_BLK_ID_BYTES;
    *written += (uint32_t)virtq_chain_write(c, 0, b->serial, n);
    return VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: one 16-byte segment after the header. */
static uint8_t zero_range(struct virtio_blk *b, const struct virtq_chain *c, bool discard)
{
    uint8_t seg[16];
    if (c->read_len - 16 != sizeof(seg) || virtq_chain_read(c, 16, seg, 16) != 16)
        return refuse(b, LOG_UNSUPP, VIRTIO_BLK_S_UNSUPP,
                      "discard/write-zeroes without exactly one segment", 0);
    uint64_t sector = le64(seg);
    uint32_t count = le32(seg + 8), flags = le32(seg + 12);
    b->req.offset = sector * VIRTIO_BLK_SECTOR;
    b->req.bytes = (uint64_t)count * VIRTIO_BLK_SECTOR;
    /* Only bit 0 (unmap) is defined; "the device MUST set the status byte
     * to VIRTIO_BLK_S_UNSUPP for discard commands if the unmap flag is
     * set" (5.2.6.2 "Device Requirements: Device Operation"). */
    if ((flags & ~1u) || (discard && flags))
        return refuse(b, LOG_UNSUPP, VIRTIO_BLK_S_UNSUPP, "discard/write-zeroes flags", sector);
    if (count > VIRTIO_BLK_ZERO_MAX || !in_disk(b, sector, count))
        return refuse(b, LOG_RANGE, VIRTIO_BLK_S_IOERR,
                      "discard/write-zeroes past the end or limit", sector);
    if (b->readonly)
        return refuse(b, LOG_READONLY, VIRTIO_BLK_S_IOERR,
                      "discard/write-zeroes on a read-only disk", sector);
    /* Discarded sectors may read as anything; zeros let clusters go, as
     * QEMU's qcow2 discard does. */
    unsigned zflags = (discard || (flags & 1)) ? IMG_ZERO_MAY_UNMAP : 0;
    if (img_write_zeroes(b->img, sector * VIRTIO_BLK_SECTOR, (uint64_t)count * VIRTIO_BLK_SECTOR,
                         zflags) < 0)
        return backend_error(b, discard ? "discard" : "write-zeroes", sector);
    return VIRTIO_BLK_S_OK;
}

/* ---- One request ---------------------------------------------------------------- */

/* The counters' kind for a request type, or -1 for one they do not count
 * (GET_ID, and types the device does not do). */
static int acct_type(uint32_t type)
{
    switch (type) {
    case VIRTIO_BLK_T_IN:
        return BLKACCT_READ;
    case VIRTIO_BLK_T_OUT:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        return BLKACCT_WRITE;
    case VIRTIO_BLK_T_FLUSH:
        return BLKACCT_FLUSH;
    case VIRTIO_BLK_T_DISCARD:
        return BLKACCT_UNMAP;
    default:
        return -1;
    }
}

/* Count the request that just ended with `status`, if it is one the
 * counters count. */
static void account(struct virtio_blk *b, uint8_t status)
{
    if (!b->counted)
        return;
    if (status == VIRTIO_BLK_S_OK)
        blkacct_done(b->acct, &b->req);
    else if (b->invalid)
        blkacct_invalid(b->acct, &b->req);
    else
        blkacct_failed(b->acct, &b->req);
}

/* Carry out the request in chain c; returns the status and adds the data
 * bytes written to *written. */
static uint8_t handle(struct virtio_blk *b, const struct virtq_chain *c, uint32_t *written)
{
    uint8_t hdr[16];
    if (virtq_chain_read(c, 0, hdr, sizeof(hdr)) != sizeof(hdr))
        return refuse(b, LOG_FRAMING, VIRTIO_BLK_S_IOERR, "request shorter than its header", 0);
    uint32_t type = le32(hdr);
    uint64_t sector = le64(hdr + 8);
    /* The counters' view of it starts now; its bytes are known once its
     * data are found. */
    int kind = acct_type(type);
    b->counted = kind >= 0;
    b->invalid = false;
    b->req = blkacct_start(b->acct, b->counted ? (enum blkacct_type)kind : BLKACCT_READ);
    switch (type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
        return read_write(b, c, type == VIRTIO_BLK_T_OUT, sector, written);
    case VIRTIO_BLK_T_FLUSH:
        if (img_flush(b->img) < 0)
            return backend_error(b, "flush", 0);
        return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_GET_ID:
        return get_id(b, c, written);
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        return zero_range(b, c, type == VIRTIO_BLK_T_DISCARD);
    default:
        return refuse(b, LOG_UNSUPP, VIRTIO_BLK_S_UNSUPP, "unknown request type", sector);
    }
}

static void blk_notify(void *ctx, struct virtio_mmio *t, unsigned q)
{
    struct virtio_blk *b = ctx;
    b->t = t;
    while (virtio_mmio_pop(t, q, &b->chain)) {
        const struct virtq_chain *c = &b->chain;
        uint32_t written = 0;
        b->counted = false;
        /* The status byte is the last writable byte: without one there is
         * nowhere to answer, so the chain goes back with nothing written. */
        if (c->write_len == 0) {
            virtio_mmio_log_once(t, LOG_NO_STATUS, "request without room for its status byte");
        } else {
            uint8_t status = handle(b, c, &written);
            account(b, status);
            virtq_chain_write(c, c->write_len - 1, &status, 1);
            written++;
        }
        virtio_mmio_push(t, q, c->head, written);
    }
    virtio_mmio_notify_used(t, q);
}

/* ---- Set-up ----------------------------------------------------------------------- */

/* The configuration space (5.2.4 "Device configuration layout"). */
static void fill_config(struct virtio_blk *b)
{
    uint8_t *c = b->config;
    put_le64(c + 0, b->sectors);           /* capacity */
    put_le32(c + 8, VIRTIO_BLK_SIZE_MAX);  /* size_max */
    put_le32(c + 12, VIRTIO_BLK_SEG_MAX);  /* seg_max */
    put_le32(c + 20, VIRTIO_BLK_SECTOR);   /* blk_size */
    put_le16(c + 34, 1);                   /* num_queues */
    put_le32(c + 36, VIRTIO_BLK_ZERO_MAX); /* max_discard_sectors */
    put_le32(c + 40, 1);                   /* max_discard_seg */
    put_le32(c + 44, 1);                   /* discard_sector_alignment */
    put_le32(c + 48, VIRTIO_BLK_ZERO_MAX); /* max_write_zeroes_sectors */
    put_le32(c + 52, 1);                   /* max_write_zeroes_seg */
    c[56] = 1;                             /* write_zeroes_may_unmap */
}

void virtio_blk_init(struct virtio_blk *b, const char *name, struct img *img, bool readonly)
{
    *b = (struct virtio_blk){.img = img, .readonly = readonly};
    b->acct = &b->own_acct;
    /* The capacity counts whole 512-byte sectors (a raw image's size is
     * already rounded up to them by the library). */
    b->sectors = img_size(img) / VIRTIO_BLK_SECTOR;
    fill_config(b);
    uint64_t features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) |
                        (1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_BLK_F_SIZE_MAX) |
                        (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                        (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD) |
                        (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
    if (readonly)
        features |= 1ull << VIRTIO_BLK_F_RO;
    b->dev = (struct virtio_device){
        .name = name,
        .device_id = VIRTIO_ID_BLOCK,
        .features = features,
        .nqueues = 1,
        .config = b->config,
        .config_len = sizeof(b->config),
        .notify = blk_notify,
        .ctx = b,
    };
}
