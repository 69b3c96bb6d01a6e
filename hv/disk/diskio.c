/*
 * diskio.c - an image file on a disk of the outer machine, as struct
 * img_io (diskio.h explains the trailer and why the file is the disk).
 */
#include "klib.h"

#include "diskio.h"

/* Trailer field offsets (diskio.h). */
#define T_MAGIC    0
#define T_VERSION  8
#define T_INDEX    12
#define T_LENGTH   16
#define T_LIMIT    24
#define T_FLAGS    32
#define T_NAME     40
#define T_CHECKSUM 508

/* Little-endian fields, byte by byte: the layout does not depend on the
 * host's alignment rules. */
static uint64_t get_le(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    /* The most significant byte is the last: start there. */
    for (unsigned i = bytes; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
    /* Least significant byte first. */
    for (unsigned i = 0; i < bytes; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* FNV-1a, 32 bits: a checksum the launcher computes in a few lines of perl. */
static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    /* The 32-bit offset basis and prime of FNV-1a. */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

int diskio_trailer_decode(const uint8_t s[DISKIO_SECTOR], uint64_t sectors,
                          struct diskio_trailer *t, const char **why)
{
    /* Not the launcher's: an ordinary disk, or a file it did not prepare. */
    if (memcmp(s + T_MAGIC, DISKIO_MAGIC, 8) != 0) {
        *why = "no hvkit trailer in the last sector";
        return -1;
    }
    /* A torn or damaged trailer must not give hv a wrong length. */
    if (get_le(s + T_CHECKSUM, 4) != fnv1a(s, T_CHECKSUM)) {
        *why = "the trailer's checksum is wrong";
        return -1;
    }
    /* A newer launcher's layout is not guessed at. */
    if (get_le(s + T_VERSION, 4) != DISKIO_VERSION) {
        *why = "unknown trailer version";
        return -1;
    }
    /* The fields, in the order of the layout in diskio.h. */
    t->index = (uint32_t)get_le(s + T_INDEX, 4);
    t->length = get_le(s + T_LENGTH, 8);
    t->limit = get_le(s + T_LIMIT, 8);
    t->flags = (uint32_t)get_le(s + T_FLAGS, 4);
    /* The file must fit below the trailer, which is the last sector. */
    if (sectors == 0 || t->limit != (sectors - 1) * DISKIO_SECTOR || t->length > t->limit) {
        *why = "the trailer's length or limit does not fit the disk";
        return -1;
    }
    /* The name, NUL-terminated whatever the sector says. */
    memcpy(t->name, s + T_NAME, DISKIO_NAME_MAX);
    t->name[DISKIO_NAME_MAX - 1] = '\0';
    return 0;
}

void diskio_trailer_encode(const struct diskio_trailer *t, uint8_t s[DISKIO_SECTOR])
{
    /* Unused bytes are zeros, so the checksum covers known contents. */
    memset(s, 0, DISKIO_SECTOR);
    memcpy(s + T_MAGIC, DISKIO_MAGIC, 8);
    put_le(s + T_VERSION, DISKIO_VERSION, 4);
    put_le(s + T_INDEX, t->index, 4);
    put_le(s + T_LENGTH, t->length, 8);
    put_le(s + T_LIMIT, t->limit, 8);
    put_le(s + T_FLAGS, t->flags, 4);
    /* At most 255 characters: the 256th byte stays the terminator. */
    memcpy(s + T_NAME, t->name, strnlen(t->name, DISKIO_NAME_MAX - 1));
    /* Last, over everything before it. */
    put_le(s + T_CHECKSUM, fnv1a(s, T_CHECKSUM), 4);
}

int diskio_open(struct diskio_file *f, const struct sector_dev *dev, const char **why)
{
    f->dev = *dev;
    /* Nothing may be written before diskio_img_io() says so. */
    f->writable = false;
    /* At least one sector of file and the trailer's. */
    if (dev->sectors < 2) {
        *why = "the disk is too small to hold a trailer";
        return -1;
    }
    /* The trailer is the disk's last sector (the launcher put it there). */
    if (dev->read(dev->ctx, dev->sectors - 1, f->bounce, 1) < 0) {
        *why = "the trailer sector cannot be read";
        return -1;
    }
    return diskio_trailer_decode(f->bounce, dev->sectors, &f->t, why);
}

/* Write the trailer with the current length into the last sector. */
static int store_trailer(struct diskio_file *f)
{
    /* The bounce buffer is free between accesses; one sector write. */
    diskio_trailer_encode(&f->t, f->bounce);
    return f->dev.write(f->dev.ctx, f->dev.sectors - 1, f->bounce, 1) < 0 ? -IMG_EIO : 0;
}

/* ---- Reads ------------------------------------------------------------------- */

/* Bytes [off, off + len) that lie inside one sector, through the bounce
 * buffer. */
static int read_partial(struct diskio_file *f, uint64_t off, uint8_t *buf, size_t len)
{
    /* The whole sector, then the wanted bytes out of it. */
    if (f->dev.read(f->dev.ctx, off / DISKIO_SECTOR, f->bounce, 1) < 0)
        return -IMG_EIO;
    memcpy(buf, f->bounce + off % DISKIO_SECTOR, len);
    return 0;
}

/* The next piece of an access of len bytes at off: part of one sector (off
 * is not sector-aligned, or less than a sector is left), which goes through
 * the bounce buffer, or as many whole sectors as the device takes in one
 * call (its count is 32 bits wide), which go straight between the disk and
 * the caller's buffer.  True for whole sectors; *n is the piece's bytes. */
static bool next_piece(uint64_t off, size_t len, size_t *n)
{
    /* Where off lies inside its sector. */
    uint64_t in = off % DISKIO_SECTOR;
    if (in || len < DISKIO_SECTOR) {
        /* Up to the sector's end or the access's, whichever comes first. */
        *n = DISKIO_SECTOR - in < len ? (size_t)(DISKIO_SECTOR - in) : len;
        return false;
    }
    uint64_t whole = len / DISKIO_SECTOR;
    if (whole > 0xffffffffu)
        whole = 0xffffffffu;
    *n = (size_t)whole * DISKIO_SECTOR;
    return true;
}

/* [off, off + len), all below the file's length, piece by piece. */
static int read_inside(struct diskio_file *f, uint64_t off, uint8_t *buf, size_t len)
{
    while (len) {
        size_t n;
        bool whole = next_piece(off, len, &n);
        int rc =
            whole ? f->dev.read(f->dev.ctx, off / DISKIO_SECTOR, buf, (uint32_t)(n / DISKIO_SECTOR))
                  : read_partial(f, off, buf, n);
        if (rc < 0)
            return -IMG_EIO;
        off += n, buf += n, len -= n;
    }
    return 0;
}

static int io_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct diskio_file *f = ctx;
    /* Past the end the file reads as zeros (img.h: "like a sparse hole"):
     * never the stale bytes of the extension. */
    size_t inside = off >= f->t.length ? 0 : (f->t.length - off < len ? f->t.length - off : len);
    memset((uint8_t *)buf + inside, 0, len - inside);
    return inside ? read_inside(f, off, buf, inside) : 0;
}

/* ---- Writes ------------------------------------------------------------------ */

/* Bytes inside one sector: read it, change them, write it back.  `old` is
 * the file's length before this write began. */
static int write_partial(struct diskio_file *f, uint64_t off, const uint8_t *buf, size_t len,
                         uint64_t old)
{
    uint64_t lba = off / DISKIO_SECTOR;
    /* A sector wholly beyond the old length holds stale bytes of the
     * extension: it starts as zeros instead. */
    if (lba * DISKIO_SECTOR >= old)
        memset(f->bounce, 0, DISKIO_SECTOR);
    else if (f->dev.read(f->dev.ctx, lba, f->bounce, 1) < 0)
        return -IMG_EIO;
    /* The new bytes over the old (or the zeros), and the sector back. */
    memcpy(f->bounce + off % DISKIO_SECTOR, buf, len);
    return f->dev.write(f->dev.ctx, lba, f->bounce, 1) < 0 ? -IMG_EIO : 0;
}

/* Make the file `end` bytes long (growth only): zero the tail of the old
 * last sector beyond the old length, then record the new length in the
 * trailer before any data out there is written. */
static int grow(struct diskio_file *f, uint64_t end)
{
    /* The trailer's sector is not the file's to grow into. */
    if (end > f->t.limit)
        return -IMG_ENOSPC;
    uint64_t old = f->t.length;
    if (old % DISKIO_SECTOR) {
        /* The bytes after the old end inside its sector must read as zeros
         * once they are inside the file. */
        static const uint8_t zeros[DISKIO_SECTOR];
        uint64_t gap = DISKIO_SECTOR - old % DISKIO_SECTOR;
        if (write_partial(f, old, zeros, (size_t)gap, old) < 0)
            return -IMG_EIO;
    }
    /* The trailer first: it must never say less than the disk holds, or
     * the launcher would cut data off. */
    f->t.length = end;
    return store_trailer(f);
}

static int io_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct diskio_file *f = ctx;
    const uint8_t *p = buf;
    /* Read-only by the caller or by the launcher's flag. */
    if (!f->writable)
        return -IMG_EROFS;
    /* Beyond the limit (or wrapping around): the file cannot grow there. */
    if (off + len < off || off + len > f->t.limit)
        return -IMG_ENOSPC;
    /* A gap between the old end and off must read as zeros, but the
     * extension may hold stale bytes: grow() zeroes the rest of the old
     * last sector, the loop below whole sectors in the gap, and
     * write_partial() the rest of the sector off falls in. */
    /* The length before this write decides which sectors are fresh. */
    uint64_t old = f->t.length;
    if (off + len > old) {
        int rc = grow(f, off + len);
        if (rc < 0)
            return rc;
    }
    /* Whole sectors between the old end (rounded up) and off's sector. */
    for (uint64_t gap = (old + DISKIO_SECTOR - 1) / DISKIO_SECTOR * DISKIO_SECTOR;
         gap + DISKIO_SECTOR <= off; gap += DISKIO_SECTOR) {
        static const uint8_t zeros[DISKIO_SECTOR];
        if (f->dev.write(f->dev.ctx, gap / DISKIO_SECTOR, zeros, 1) < 0)
            return -IMG_EIO;
    }
    /* The data, piece by piece as for reads. */
    while (len) {
        size_t n;
        bool whole = next_piece(off, len, &n);
        int rc =
            whole ? f->dev.write(f->dev.ctx, off / DISKIO_SECTOR, p, (uint32_t)(n / DISKIO_SECTOR))
                  : write_partial(f, off, p, n, old);
        if (rc < 0)
            return -IMG_EIO;
        off += n, p += n, len -= n;
    }
    return 0;
}

/* ---- The rest ------------------------------------------------------------------ */

static int io_flush(void *ctx)
{
    struct diskio_file *f = ctx;
    /* Durable means on the host's disk: the device's FLUSH CACHE. */
    return f->dev.flush(f->dev.ctx) < 0 ? -IMG_EIO : 0;
}

static int io_size(void *ctx, uint64_t *size)
{
    struct diskio_file *f = ctx;
    /* The file's length, not the disk's: the library allocates at the end. */
    *size = f->t.length;
    return 0;
}

static int io_truncate(void *ctx, uint64_t size)
{
    struct diskio_file *f = ctx;
    if (!f->writable)
        return -IMG_EROFS;
    /* Growing: as a write past the end would. */
    if (size > f->t.length)
        return grow(f, size);
    /* Shrinking: only the length changes; the launcher cuts the file. */
    f->t.length = size;
    return store_trailer(f);
}

void diskio_img_io(struct diskio_file *f, bool writable, struct img_io *io)
{
    /* The launcher's read-only flag wins over the caller's wish. */
    f->writable = writable && !(f->t.flags & DISKIO_FLAG_RDONLY);
    /* allocate, extent, discard, allocated_size and close stay NULL: the
     * library then writes zeros, treats all as data and closes nothing. */
    memset(io, 0, sizeof(*io));
    io->ctx = f;
    io->read = io_read;
    io->write = io_write;
    io->flush = io_flush;
    io->size = io_size;
    io->truncate = io_truncate;
}
