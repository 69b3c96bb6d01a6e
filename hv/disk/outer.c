/*
 * outer.c - the launcher's files on the outer machine's ATA disks
 * (outer.h): finding them, img_io on them, and the disk-test self-test.
 */
#include "klib.h"

#include "core/log.h"

#include "ata.h"
#include "diskio.h"
#include "outer.h"

/* One attached file: its ATA drive and the file on it. */
struct outer_disk {
    /* Where the disk is and what IDENTIFY DEVICE said about it. */
    struct ata_drive drive;
    /* The launcher's file on it: trailer, length, bounce buffer. */
    struct diskio_file file;
    /* The last ATA error, so a failed read or write can be logged with
     * its reason (img_io callbacks only return a code). */
    const char *why;
};

/* The files found, in the order of the ATA positions (not of their
 * numbers: find() looks a number up).  Static: hv's heap is for guests. */
static struct outer_disk disks[OUTER_DISKS_MAX];
/* How many were found; -1 until the positions have been looked at, which
 * happens once, on first use: a run without files never touches ATA. */
static int ndisks = -1;

/* sector_dev callbacks over the ATA driver: diskio.c knows sectors, not
 * ports, so the same file logic runs over memory in the unit test. */
static int dev_read(void *ctx, uint64_t lba, void *buf, uint32_t count)
{
    /* The context is the disk; its drive says which ports and unit. */
    struct outer_disk *d = ctx;
    return ata_read(&d->drive, lba, buf, count, &d->why);
}

static int dev_write(void *ctx, uint64_t lba, const void *buf, uint32_t count)
{
    struct outer_disk *d = ctx;
    return ata_write(&d->drive, lba, buf, count, &d->why);
}

static int dev_flush(void *ctx)
{
    struct outer_disk *d = ctx;
    return ata_flush(&d->drive, &d->why);
}

/* The four positions of the two legacy channels, in the order hv looks
 * at them: each channel's port blocks and the unit on it. */
static const struct {
    uint16_t io, ctl;
    uint8_t unit;
    const char *name;
} positions[OUTER_DISKS_MAX] = {
    {ATA_PRIMARY_IO, ATA_PRIMARY_CTL, 0, "ata0 master"},
    {ATA_PRIMARY_IO, ATA_PRIMARY_CTL, 1, "ata0 slave"},
    {ATA_SECONDARY_IO, ATA_SECONDARY_CTL, 0, "ata1 master"},
    {ATA_SECONDARY_IO, ATA_SECONDARY_CTL, 1, "ata1 slave"},
};

/* Is there an attached file at position p?  Fills disks[ndisks] if so. */
static bool probe(unsigned p)
{
    /* The next free slot; it only counts once the file is recognised. */
    struct outer_disk *d = &disks[ndisks];
    const char *why;
    /* An empty position, or Bochs's boot CD, is skipped without a word. */
    if (ata_identify(&d->drive, positions[p].io, positions[p].ctl, positions[p].unit, &why) < 0)
        return false;
    /* The disk seen as sectors, and the trailer in its last one. */
    struct sector_dev dev = {d, d->drive.sectors, dev_read, dev_write, dev_flush};
    /* A disk without the launcher's trailer is not ours to write: say so
     * once, since a user may have attached it by mistake. */
    if (diskio_open(&d->file, &dev, &why) < 0) {
        hv_log("outer disk at %s (%s): %s, not used", positions[p].name, d->drive.model, why);
        return false;
    }
    /* One line per file, so a run's log shows what hv will work on. */
    hv_log("outer disk %u at %s: '%s', %llu bytes, room to grow to %llu%s",
           (unsigned)d->file.t.index, positions[p].name, d->file.t.name,
           (unsigned long long)d->file.t.length, (unsigned long long)d->file.t.limit,
           d->file.t.flags & DISKIO_FLAG_RDONLY ? ", read-only" : "");
    return true;
}

int outer_disks_scan(void)
{
    /* Once only: the answer cannot change during a run. */
    if (ndisks >= 0)
        return ndisks;
    ndisks = 0;
    /* Every position: the files' numbers, not their places, identify them. */
    for (unsigned p = 0; p < OUTER_DISKS_MAX; p++)
        if (probe(p))
            ndisks++;
    return ndisks;
}

/* The disk holding the launcher's file number `index`, or NULL. */
static struct outer_disk *find(unsigned index)
{
    /* Looks at the positions on first use. */
    outer_disks_scan();
    for (int i = 0; i < ndisks; i++)
        if (disks[i].file.t.index == index)
            return &disks[i];
    return NULL;
}

int outer_disk_io(unsigned index, bool writable, struct img_io *io, const char **why)
{
    struct outer_disk *d = find(index);
    /* A drive number hv was told about but the launcher did not attach. */
    if (!d) {
        *why = "the launcher attached no such file to the outer machine";
        return -1;
    }
    /* The callbacks imgtool's library calls; the file outlives them. */
    diskio_img_io(&d->file, writable, io);
    return 0;
}

/* sector_dev callbacks over a window of a disk: the window's sector lba
 * is the disk's sector first + lba (diskio.c checks that every access
 * lies inside the window's sectors). */
static int win_read(void *ctx, uint64_t lba, void *buf, uint32_t count)
{
    struct outer_window *w = ctx;
    return ata_read(&w->disk->drive, w->first + lba, buf, count, &w->disk->why);
}

static int win_write(void *ctx, uint64_t lba, const void *buf, uint32_t count)
{
    struct outer_window *w = ctx;
    return ata_write(&w->disk->drive, w->first + lba, buf, count, &w->disk->why);
}

static int win_flush(void *ctx)
{
    struct outer_window *w = ctx;
    /* FLUSH CACHE is for the whole drive: the window's bytes among them. */
    return ata_flush(&w->disk->drive, &w->disk->why);
}

int outer_window_io(struct outer_window *w, unsigned index, uint64_t offset, uint64_t bytes,
                    bool writable, struct img_io *io, const char **why)
{
    struct outer_disk *d = find(index);
    if (!d) {
        *why = "the launcher attached no such file to the outer machine";
        return -1;
    }
    /* Whole sectors, inside the file the launcher attached (whose own
     * trailer, in the disk's last sector, stays out of reach). */
    uint64_t file_sectors = d->file.t.limit / DISKIO_SECTOR;
    if (offset % DISKIO_SECTOR || bytes % DISKIO_SECTOR || bytes < 2 * DISKIO_SECTOR ||
        offset / DISKIO_SECTOR > file_sectors ||
        bytes / DISKIO_SECTOR > file_sectors - offset / DISKIO_SECTOR) {
        *why = "the range is not whole sectors inside the file";
        return -1;
    }
    w->disk = d;
    w->first = offset / DISKIO_SECTOR;
    struct sector_dev dev = {w, bytes / DISKIO_SECTOR, win_read, win_write, win_flush};
    /* The trailer the manager wrote at the window's end says how long the
     * file in it is, how far it may grow, and whether it is read-only. */
    if (diskio_open(&w->file, &dev, why) < 0)
        return -1;
    diskio_img_io(&w->file, writable && !(d->file.t.flags & DISKIO_FLAG_RDONLY), io);
    return 0;
}

bool outer_disk_writable(unsigned index)
{
    struct outer_disk *d = find(index);
    return d && !(d->file.t.flags & DISKIO_FLAG_RDONLY);
}

const char *outer_disk_name(unsigned index)
{
    struct outer_disk *d = find(index);
    /* The trailer's copy: it lives as long as hv. */
    return d ? d->file.t.name : NULL;
}

int outer_disk_by_name(const char *name)
{
    outer_disks_scan();
    /* The name exactly as the launcher was given it (the trailer's). */
    for (int i = 0; i < ndisks; i++)
        if (strcmp(disks[i].file.t.name, name) == 0)
            return (int)disks[i].file.t.index;
    return -1;
}

/* ---- disk-test ------------------------------------------------------------------ */

/* FNV-1a, 64 bits, continued over pieces (tests/integration/outer-disk.sh
 * computes the same in perl). */
static uint64_t fnv64(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Read the whole file through img_io in pieces of an odd size, so that
 * most reads start and end inside a sector; its FNV-1a 64. */
static int checksum(struct img_io *io, uint64_t *out)
{
    /* 61 KiB + 7: not a multiple of a sector, so the pieces' ends wander
     * through every position inside a sector. */
    static uint8_t buf[61 * 1024 + 7];
    /* FNV-1a 64's offset basis. */
    uint64_t size, h = 0xcbf29ce484222325ull;
    if (io->size(io->ctx, &size) < 0)
        return -1;
    /* The whole file, piece by piece, as the library would read it. */
    for (uint64_t off = 0; off < size; off += sizeof(buf)) {
        size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
        if (io->read(io->ctx, off, buf, n) < 0)
            return -1;
        h = fnv64(h, buf, n);
    }
    *out = h;
    return 0;
}

/* The writes of the test: a text at offset 1000 across sector
 * boundaries, and 600 bytes starting 100 bytes past the end (the file
 * grows, the gap reads as zeros). */
static int test_writes(struct img_io *io, uint64_t length)
{
    static char text[3000];
    static const char line[] = "hvkit outer disk test\n";
    /* The line over and over: the host test builds the same bytes. */
    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = line[i % (sizeof(line) - 1)];
    /* Inside the file, across six sector boundaries; then past its end,
     * which grows the file and leaves a gap that must read as zeros. */
    if (io->write(io->ctx, 1000, text, sizeof(text)) < 0 ||
        io->write(io->ctx, length + 100, text, 600) < 0)
        return -1;
    /* Durable before the log line claims so: FLUSH CACHE. */
    return io->flush(io->ctx);
}

static void selftest_one(struct outer_disk *d)
{
    struct img_io io;
    unsigned n = (unsigned)d->file.t.index;
    /* Writable unless the launcher attached the file read-only. */
    diskio_img_io(&d->file, true, &io);
    uint64_t size, h;
    /* First what is there: the host compares it with its own checksum. */
    if (io.size(io.ctx, &size) < 0 || checksum(&io, &h) < 0) {
        hv_log("disk-test: disk %u: read failed: %s", n, d->why ? d->why : "?");
        return;
    }
    hv_log("disk-test: disk %u: length %llu fnv1a64 %016llx", n, (unsigned long long)size,
           (unsigned long long)h);
    /* A read-only file is only read. */
    if (!d->file.writable)
        return;
    /* Then the writes, and what the file holds after them. */
    if (test_writes(&io, size) < 0 || io.size(io.ctx, &size) < 0 || checksum(&io, &h) < 0) {
        hv_log("disk-test: disk %u: write failed: %s", n, d->why ? d->why : "?");
        return;
    }
    hv_log("disk-test: disk %u: written, flushed: length %llu fnv1a64 %016llx", n,
           (unsigned long long)size, (unsigned long long)h);
}

void outer_disk_selftest(void)
{
    /* Nothing attached is worth a line: the test would otherwise pass on
     * silence. */
    if (outer_disks_scan() == 0)
        hv_log("disk-test: no attached files found on the outer machine's ATA disks");
    for (int i = 0; i < ndisks; i++)
        selftest_one(&disks[i]);
}
