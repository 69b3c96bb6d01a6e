/*
 * counter: a guest that counts, printing "count N" every 20 ms of the
 * PIT's time, up to a limit (its argument, 150 by default), then exits 0.
 * The count lives in RAM and the loop's place in the guest's registers, so
 * a snapshot taken while it counts (savevm) and loaded later (loadvm) puts
 * it back exactly: it prints from the saved value on, as the snapshot
 * tests check (tests/integration/vmstate-hv.sh).  The same guest counts on
 * plain QEMU.
 *
 * The wait polls the OUT pin of the PIT's channel 0 (pit_out), with
 * interrupts off, so the guest needs nothing from hv but port I/O.  The
 * channel is programmed once, before the first count, as a 20 ms square
 * wave (pit_square), and each count waits for one rising edge of OUT.
 * Programming it once is what makes the snapshot tests decisive: a
 * snapshot taken at any point after the first count holds a channel the
 * guest will never program again, so a load that leaves the PIT out
 * (labs/05-domains-and-the-monitor, exercise 2) makes the counter wait
 * for ever, wherever the snapshot fell.  (With a new one-shot before each
 * count, a snapshot taken while the guest printed a line would hide it:
 * the guest would program the PIT itself after the load.)
 *
 * With a second argument, "disk", it also keeps its count on its first
 * virtio disk: every tenth count it writes the line "count N" at the
 * start of sector 0 (the rest of the sector zeros), reads the sector
 * back and stops with an error if it differs.  A saved and restored
 * domain (xl save, virsh save) thus shows that its disk works after the
 * restore: the host's file holds a count from after it
 * (tests/integration/save-frontends.sh reads it with qemu-io).  The
 * driver polls the used ring, so the disk too needs no interrupt.
 */
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"
#include "guestkit/virtio_blk.h"

/* 20 ms of PIT input clocks (PIT_HZ / 50). */
#define PERIOD (PIT_HZ / 50)

/* In RAM, not only in a register: a restored snapshot must bring it back. */
static volatile unsigned long count;

/* The disk of "disk" mode and one sector to write and read it by. */
static struct virtio_blk blk;
static uint8_t sector[2][VIRTIO_BLK_SECTOR] __attribute__((aligned(4096)));

/* Open the first virtio disk; false after a line saying why. */
static bool disk_open(void)
{
    struct virtio_dev dev;
    if (!virtio_find(VIRTIO_ID_BLOCK, 0, &dev)) {
        printf("counter: no virtio block device\n");
        return false;
    }
    if (!virtio_blk_init(&blk, &dev, VIRTIO_WAIT_POLL, 0)) {
        printf("counter: %s\n", blk.dev.error);
        return false;
    }
    printf("counter: keeping the count on a disk of %llu sectors\n",
           (unsigned long long)blk.capacity);
    return true;
}

/* "count N" into sector 0, read back and compared; false after a line. */
static bool disk_keep(unsigned long n)
{
    memset(sector, 0, sizeof(sector));
    ksnprintf((char *)sector[0], VIRTIO_BLK_SECTOR, "count %lu\n", n);
    int w = virtio_blk_write(&blk, 0, sector[0], 1);
    int r = w == VIRTIO_BLK_S_OK ? virtio_blk_read(&blk, 0, sector[1], 1) : w;
    if (r != VIRTIO_BLK_S_OK || memcmp(sector[0], sector[1], VIRTIO_BLK_SECTOR)) {
        printf("counter: keeping count %lu on the disk: %s\n", n,
               r != VIRTIO_BLK_S_OK ? virtio_blk_status_name(r) : "read back differs");
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    unsigned long limit = 0;
    /* The limit in decimal; anything else is refused. */
    for (const char *p = argc > 1 ? argv[1] : "150"; *p; p++) {
        if (*p < '0' || *p > '9' || limit > 100000) {
            printf("counter: '%s' is not a count\n", argv[1]);
            return 2;
        }
        limit = limit * 10 + (unsigned long)(*p - '0');
    }
    bool disk = argc > 2 && !strcmp(argv[2], "disk");
    if (disk && !disk_open())
        return 1;
    pit_square(PERIOD);
    for (count = 1; count <= limit; count++) {
        /* The high half of the period, then the low half: OUT rises
         * again when the period ends.  A poll that comes late (a busy
         * host) at worst makes one count wait a period longer. */
        while (pit_out())
            ;
        while (!pit_out())
            ;
        printf("count %lu\n", count);
        if (disk && count % 10 == 0 && !disk_keep(count))
            return 1;
    }
    return report_summary();
}
