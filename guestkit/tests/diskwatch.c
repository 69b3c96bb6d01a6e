/*
 * diskwatch: a guest for a disk whose image changes under it, such as a
 * monitor's `commit` (tests/integration/commit.sh).  It writes the sector
 * pattern (guestkit/sector_pattern.h) over `count` sectors from sector
 * `from` of the first virtio block device, flushes, and then reads the
 * whole disk again and again, printing a checksum (FNV-1a, 32 bits) of
 * its bytes after each pass:
 *
 *   diskwatch: wrote 64 sectors at 100
 *   diskwatch: counter at 0x10d000
 *   diskwatch: pass 1 sum 0x1234abcd
 *   diskwatch: pass 2 sum 0x1234abcd
 *
 * What the guest reads must not change when the host commits the disk's
 * changes into its backing file and empties it: every pass prints the
 * same sum, before the commit and after, on plain QEMU and under hv.
 * The counter (the passes done, a 64-bit word) is where a monitor's `xp`
 * can see that passes went on after a command.  Between passes it spins
 * (`spin` iterations, 2^26 by default), with a CPUID every 65536 so that hv
 * gets the CPU back, as the pattern guest does.  Never ends: not in
 * guests.list.
 *
 * Arguments: from=SECTOR count=SECTORS [spin=N] [wait=poll|ioapic|pic].
 */
#include "guestkit/guestkit.h"
#include "guestkit/parse.h"
#include "guestkit/sector_pattern.h"
#include "guestkit/virtio_blk.h"

#define CHUNK_SECTORS 64
#define IRQ_VECTOR    0x53

static struct virtio_blk blk;
static uint8_t chunk[CHUNK_SECTORS * VIRTIO_BLK_SECTOR] __attribute__((aligned(4096)));

/* The passes done, on a page of its own for the monitor's xp. */
static volatile uint64_t passes __attribute__((aligned(4096)));

/* Write the pattern over [from, from + count), a chunk at a time, and
 * flush; false after a failed request (said why). */
static bool write_range(uint64_t from, uint64_t count)
{
    for (uint64_t s = from; s < from + count;) {
        uint32_t n =
            from + count - s < CHUNK_SECTORS ? (uint32_t)(from + count - s) : CHUNK_SECTORS;
        sector_pattern_fill_n(chunk, s, n);
        int st = virtio_blk_write(&blk, s, chunk, n);
        if (st != VIRTIO_BLK_S_OK) {
            printf("diskwatch: write at sector %llu: %s\n", (unsigned long long)s,
                   virtio_blk_status_name(st));
            return false;
        }
        s += n;
    }
    int st = virtio_has(&blk.dev, VIRTIO_BLK_F_FLUSH) ? virtio_blk_flush(&blk) : VIRTIO_BLK_S_OK;
    if (st != VIRTIO_BLK_S_OK)
        printf("diskwatch: flush: %s\n", virtio_blk_status_name(st));
    return st == VIRTIO_BLK_S_OK;
}

/* FNV-1a over the whole disk, or false after a failed read. */
static bool disk_sum(uint32_t *sum)
{
    uint32_t h = 2166136261u;
    for (uint64_t s = 0; s < blk.capacity;) {
        uint32_t n =
            blk.capacity - s < CHUNK_SECTORS ? (uint32_t)(blk.capacity - s) : CHUNK_SECTORS;
        int st = virtio_blk_read(&blk, s, chunk, n);
        if (st != VIRTIO_BLK_S_OK) {
            printf("diskwatch: read at sector %llu: %s\n", (unsigned long long)s,
                   virtio_blk_status_name(st));
            return false;
        }
        for (uint32_t i = 0; i < n * VIRTIO_BLK_SECTOR; i++)
            h = (h ^ chunk[i]) * 16777619u;
        s += n;
    }
    *sum = h;
    return true;
}

int main(int argc, char **argv)
{
    const char *from_s = gk_arg_value(argc, argv, "from");
    const char *count_s = gk_arg_value(argc, argv, "count");
    const char *spin_s = gk_arg_value(argc, argv, "spin");
    const char *wait_name = gk_arg_value(argc, argv, "wait");
    enum virtio_wait wait = VIRTIO_WAIT_POLL;
    if (!from_s || !count_s || (wait_name && !virtio_wait_by_name(wait_name, &wait))) {
        printf("usage: diskwatch from=SECTOR count=SECTORS [spin=N] [wait=poll|ioapic|pic]\n");
        return 1;
    }
    struct virtio_dev dev;
    if (!virtio_find(VIRTIO_ID_BLOCK, 0, &dev)) {
        printf("diskwatch: no virtio block device\n");
        return 1;
    }
    if (!virtio_blk_init(&blk, &dev, wait, IRQ_VECTOR)) {
        printf("diskwatch: %s\n", blk.dev.error);
        return 1;
    }
    uint64_t from = kstrtoull(from_s, NULL, 0), count = kstrtoull(count_s, NULL, 0);
    uint64_t spin = spin_s ? kstrtoull(spin_s, NULL, 0) : 1ull << 26;
    if (from > blk.capacity || count > blk.capacity - from) {
        printf("diskwatch: %llu sectors at %llu go past the disk's end (%llu sectors)\n",
               (unsigned long long)count, (unsigned long long)from,
               (unsigned long long)blk.capacity);
        return 1;
    }
    if (!write_range(from, count))
        return 1;
    printf("diskwatch: wrote %llu sectors at %llu\n", (unsigned long long)count,
           (unsigned long long)from);
    printf("diskwatch: counter at %p\n", (void *)&passes);
    for (;;) {
        uint32_t sum;
        if (!disk_sum(&sum))
            return 1;
        passes = passes + 1;
        printf("diskwatch: pass %llu sum %#x\n", (unsigned long long)passes, sum);
        for (uint64_t n = 0; n < spin; n++)
            if ((n & 0xffff) == 0)
                (void)cpuid(0);
    }
}
