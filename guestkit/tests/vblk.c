/*
 * vblk: the virtio block driver against a real device (virtio 1.2, 5.2
 * "Block Device").  On a writable disk it writes a pattern over every
 * sector in requests of many sizes, flushes, reads it all back in other
 * sizes and compares; it checks the capacity, GET_ID, reads past the end
 * and buffers that are not sector-aligned.  On a read-only disk it checks
 * that writes fail and change nothing.
 *
 * Arguments (besides the virtio_mmio.device= words):
 *   sectors=N       the capacity the disk must have
 *   ro              the disk is read-only (VIRTIO_BLK_F_RO); write nothing
 *   id=TEXT         the identification GET_ID must return
 *   wait=poll|ioapic|pic   how to wait for the device (default poll)
 *   crash           right after the flush, triple-fault on purpose: the
 *                   machine dies, and what was flushed must be in the file
 *   stay            after the summary, print "vblk: staying" and wait
 *                   forever instead of ending, so that a monitor can read
 *                   the disk's I/O counters (tests/integration/blockstats.sh)
 *
 * The pattern, which the host checks in the image file afterwards: every
 * 512-byte sector is 32 lines of 16 characters, "sector %08x\n" with the
 * sector number, so `qemu-img convert -O raw` + `head` shows it.
 */
#include "guestkit/guestkit.h"
#include "guestkit/parse.h"
#include "guestkit/sector_pattern.h"
#include "guestkit/virtio_blk.h"

#define SECTOR      VIRTIO_BLK_SECTOR
#define BUF_SECTORS 128 /* 64 KiB */
#define IRQ_VECTOR  0x50

static struct virtio_blk blk;
/* The "crash" argument. */
static bool crash_after_flush;
/* Page-aligned buffers, so requests cross page boundaries predictably;
 * one byte more for the unaligned test. */
static uint8_t buf[BUF_SECTORS * SECTOR + 1] __attribute__((aligned(4096)));
static uint8_t check[BUF_SECTORS * SECTOR] __attribute__((aligned(4096)));

/* Write the pattern over the whole disk in requests whose sizes cycle
 * through 1, 7, 8, 64, 128 and 3 sectors. */
static bool write_pattern(void)
{
    static const uint32_t sizes[] = {1, 7, 8, 64, 128, 3};
    uint64_t sector = 0;
    for (unsigned k = 0; sector < blk.capacity; k++) {
        uint32_t n = sizes[k % 6];
        if (n > blk.capacity - sector)
            n = (uint32_t)(blk.capacity - sector);
        sector_pattern_fill_n(buf, sector, n);
        int st = virtio_blk_write(&blk, sector, buf, n);
        if (st != VIRTIO_BLK_S_OK) {
            report_info("write of %u sectors at %llu: %s", n, (unsigned long long)sector,
                        virtio_blk_status_name(st));
            return false;
        }
        sector += n;
    }
    return true;
}

/* Read the whole disk back in 16-sector requests and compare. */
static bool read_pattern(void)
{
    for (uint64_t sector = 0; sector < blk.capacity; sector += 16) {
        uint32_t n = blk.capacity - sector < 16 ? (uint32_t)(blk.capacity - sector) : 16;
        int st = virtio_blk_read(&blk, sector, buf, n);
        if (st != VIRTIO_BLK_S_OK) {
            report_info("read at %llu: %s", (unsigned long long)sector, virtio_blk_status_name(st));
            return false;
        }
        if (!sector_pattern_read_ok(buf, sector, n))
            return false;
    }
    return true;
}

/* A read into buf + 1: the driver cuts it at page boundaries, so the
 * device gets buffers that are not sector-sized. */
static void unaligned_read(void)
{
    uint32_t n = 9;
    int st = virtio_blk_read(&blk, 3, buf + 1, n);
    bool same = st == VIRTIO_BLK_S_OK && sector_pattern_mismatch(buf + 1, 3, n) == n;
    report(same, "read into a buffer that is not sector-aligned");
}

/* Requests that reach past the last sector must fail with IOERR and not
 * be cut short (5.2.6.2 "Device Requirements: Device Operation"). */
static void past_the_end(void)
{
    int st = virtio_blk_read(&blk, blk.capacity, buf, 1);
    report(st == VIRTIO_BLK_S_IOERR, "read of the sector after the last fails with IOERR (got %s)",
           virtio_blk_status_name(st));
    st = virtio_blk_read(&blk, blk.capacity - 1, buf, 2);
    report(st == VIRTIO_BLK_S_IOERR, "read across the end fails with IOERR (got %s)",
           virtio_blk_status_name(st));
}

/* The same write and read through one indirect table (2.7.5.3). */
static void indirect(void)
{
    if (!virtio_has(&blk.dev, VIRTIO_F_INDIRECT_DESC)) {
        report_skip("indirect descriptors: the device does not offer them");
        return;
    }
    blk.use_indirect = true;
    sector_pattern_fill_n(buf, 100, 32);
    int st = virtio_blk_write(&blk, 100, buf, 32);
    memset(buf, 0, 32 * SECTOR);
    if (st == VIRTIO_BLK_S_OK)
        st = virtio_blk_read(&blk, 100, buf, 32);
    bool same = st == VIRTIO_BLK_S_OK && sector_pattern_mismatch(buf, 100, 32) == 32;
    blk.use_indirect = false;
    report(same, "indirect descriptors: 32 sectors written and read back");
}

/* Die as a machine dies: a triple fault (as the triple guest does), with
 * no chance for the driver to tidy up. */
static void crash(void)
{
    printf("vblk: crashing on purpose after the flush\n");
    serial_flush();
    triple_fault();
}

/* Wait for ever, doing nothing a disk counts.  A CPUID now and then
 * gives hv an exit, as the pattern guest does. */
static void __attribute__((noreturn)) stay(void)
{
    printf("vblk: staying\n");
    serial_flush();
    for (unsigned long n = 0;; n++)
        if ((n & 0xffff) == 0)
            (void)cpuid(0);
}

static void writable_disk(void)
{
    report(!blk.read_only, "the disk is writable (no VIRTIO_BLK_F_RO)");
    report(write_pattern(), "pattern written over all %llu sectors",
           (unsigned long long)blk.capacity);
    if (virtio_has(&blk.dev, VIRTIO_BLK_F_FLUSH)) {
        int st = virtio_blk_flush(&blk);
        report(st == VIRTIO_BLK_S_OK, "flush: %s", virtio_blk_status_name(st));
        if (crash_after_flush)
            crash();
    } else {
        report_skip("flush: the device does not offer VIRTIO_BLK_F_FLUSH");
    }
    report(read_pattern(), "every sector reads back as written");
    unaligned_read();
    indirect();
}

static void read_only_disk(void)
{
    report(blk.read_only, "the device offers VIRTIO_BLK_F_RO");
    int st = virtio_blk_read(&blk, 0, check, 1);
    report(st == VIRTIO_BLK_S_OK, "read of sector 0: %s", virtio_blk_status_name(st));
    memset(buf, 0xa5, SECTOR);
    st = virtio_blk_write(&blk, 0, buf, 1);
    report(st == VIRTIO_BLK_S_IOERR, "write to the read-only disk fails with IOERR (got %s)",
           virtio_blk_status_name(st));
    st = virtio_blk_read(&blk, 0, buf, 1);
    report(st == VIRTIO_BLK_S_OK && memcmp(buf, check, SECTOR) == 0,
           "sector 0 is unchanged after the refused write");
}

int main(int argc, char **argv)
{
    const char *wait_name = gk_arg_value(argc, argv, "wait");
    enum virtio_wait wait = VIRTIO_WAIT_POLL;
    if (wait_name && !virtio_wait_by_name(wait_name, &wait)) {
        printf("vblk: unknown wait=%s (poll, ioapic or pic)\n", wait_name);
        return 1;
    }
    struct virtio_dev dev;
    if (!report(virtio_find(VIRTIO_ID_BLOCK, 0, &dev), "virtio-blk device found"))
        return report_summary();
    report_info("at %#llx, irq %d, found by %s", (unsigned long long)dev.base, dev.irq,
                virtio_discovery_source());
    bool ok = virtio_blk_init(&blk, &dev, wait, IRQ_VECTOR);
    if (!report(ok, "device initialised"))
        report_info("%s", blk.dev.error);
    if (!ok)
        return report_summary();
    report_info("capacity %llu sectors, seg_max %u, size_max %u, blk_size %u, queue size %u",
                (unsigned long long)blk.capacity, blk.seg_max, blk.size_max, blk.blk_size,
                blk.vq.size);
    report(virtio_has(&blk.dev, VIRTIO_RING_F_EVENT_IDX), "VIRTIO_RING_F_EVENT_IDX negotiated");

    const char *sectors = gk_arg_value(argc, argv, "sectors");
    if (sectors)
        report(blk.capacity == kstrtoull(sectors, NULL, 0), "capacity is %s sectors", sectors);
    const char *want_id = gk_arg_value(argc, argv, "id");
    char id[VIRTIO_BLK_ID_BYTES + 1];
    int st = virtio_blk_get_id(&blk, id);
    if (want_id)
        report(st == VIRTIO_BLK_S_OK && strcmp(id, want_id) == 0, "GET_ID returns \"%s\"", want_id);
    else
        report_info("GET_ID: %s \"%s\"", virtio_blk_status_name(st), id);

    crash_after_flush = gk_arg_value(argc, argv, "crash") != NULL;
    if (gk_arg_value(argc, argv, "ro"))
        read_only_disk();
    else
        writable_disk();
    past_the_end();

    if (wait != VIRTIO_WAIT_POLL)
        report(blk.dev.interrupts > 0, "the device's interrupts arrived (%s)", wait_name);
    report_info("%llu requests, %llu bytes, %llu notifications, %llu interrupts",
                (unsigned long long)blk.requests, (unsigned long long)blk.bytes,
                (unsigned long long)blk.dev.notifications, (unsigned long long)blk.dev.interrupts);
    report(!(virtio_status(&blk.dev) & VIRTIO_STATUS_NEEDS_RESET),
           "device status has no NEEDS_RESET");
    virtio_reset(&blk.dev);
    int code = report_summary();
    if (gk_arg_value(argc, argv, "stay"))
        stay();
    return code;
}
