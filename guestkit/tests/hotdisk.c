/*
 * hotdisk: finds virtio disks that appear and disappear while it runs
 * (hv's x-blockdev-attach and x-blockdev-detach: `xl block-attach`,
 * `virsh attach-disk --live`; docs/control-protocol.md "Disks attached at
 * run time").
 *
 * virtio-mmio has no hot-plug notification (virtio 1.2, 4.2 "Virtio Over
 * MMIO" defines none; Linux's virtio_mmio driver finds its devices once,
 * at boot).  So this guest looks again and again: it reads the magic and
 * the device ID of the eight windows of hv's placement (QEMU microvm's,
 * hv/core/vdev.h) every few milliseconds.  A window whose device ID turns
 * from 0 to 2 (a block device, 5 "Device Types") holds a new disk: the
 * guest sets it up, reads sector 0 and says what is there (the host put a
 * known pattern in), writes its own pattern -- the byte `mark` over
 * sectors 8 to 15 -- flushes, reads it back.  A window whose device ID
 * turns to 0 again has lost its disk: the guest says so and forgets it.
 * Real systems are told instead: Xen's front-ends watch xenstore, QEMU's
 * PCI disks come with an ACPI or PCIe hot-plug event.
 *
 * Only probe where windows answer: hv with its control channel gives the
 * empty windows QEMU's empty transport (magic, device ID 0); without it, a
 * read of an empty window ends the guest.  So the guest probes only when
 * told to:
 *   watch       probe until `disks` disks have come and gone, then end 0
 *   disks=N     how many (default 1)
 *   mark=0xNN   the byte it writes (default 0xc3)
 * Without `watch` it says so and ends 0 at once (its line in guests.list:
 * the plain run only proves it boots).
 */
#include "guestkit/guestkit.h"
#include "guestkit/parse.h"
#include "guestkit/virtio_blk.h"

#define WINDOWS     8
#define WINDOW_BASE 0xfeb00000ull
#define WINDOW_SIZE 0x200u
/* Where the guest's pattern goes: sectors 8-15, 4 KiB from byte 4096. */
#define MARK_SECTOR 8u
#define MARK_COUNT  8u

static struct virtio_blk blk[WINDOWS];
/* Which windows hold a disk the guest has set up. */
static bool present[WINDOWS];
static uint8_t buf[MARK_COUNT * VIRTIO_BLK_SECTOR] __attribute__((aligned(4096)));

static uint32_t rd32(uint64_t addr)
{
    return *(volatile uint32_t *)(uintptr_t)addr;
}

/* The device ID in window i, 0 when there is none (or no transport). */
static uint32_t device_in(unsigned i)
{
    uint64_t base = WINDOW_BASE + (uint64_t)WINDOW_SIZE * i;
    if (rd32(base + VIRTIO_MMIO_MAGIC) != VIRTIO_MMIO_MAGIC_VALUE)
        return 0;
    return rd32(base + VIRTIO_MMIO_DEVICE_ID);
}

/* Are all n sectors in buf the byte b? */
static bool all_bytes(const uint8_t *p, size_t n, uint8_t b)
{
    for (size_t k = 0; k < n; k++)
        if (p[k] != b)
            return false;
    return true;
}

/* A new disk in window i: set up, read, write, flush, read back. */
static void found(unsigned i, uint8_t mark)
{
    uint64_t base = WINDOW_BASE + (uint64_t)WINDOW_SIZE * i;
    struct virtio_dev dev = {.base = base,
                             .size = WINDOW_SIZE,
                             .irq = -1,
                             .version = rd32(base + VIRTIO_MMIO_VERSION),
                             .device_id = VIRTIO_ID_BLOCK,
                             .vendor_id = rd32(base + VIRTIO_MMIO_VENDOR_ID),
                             .error = ""};
    struct virtio_blk *b = &blk[i];
    present[i] = true;
    if (!report(virtio_blk_init(b, &dev, VIRTIO_WAIT_POLL, 0), "hotdisk: disk at %#llx set up",
                (unsigned long long)base)) {
        report_info("%s", b->dev.error);
        return;
    }
    printf("hotdisk: disk at %#llx: %llu sectors%s\n", (unsigned long long)base,
           (unsigned long long)b->capacity, b->read_only ? ", read-only" : "");
    int st = virtio_blk_read(b, 0, buf, 1);
    report(st == VIRTIO_BLK_S_OK, "hotdisk: read sector 0: %s", virtio_blk_status_name(st));
    /* What the host put there: one byte repeated, or something else. */
    if (all_bytes(buf, VIRTIO_BLK_SECTOR, buf[0]))
        printf("hotdisk: sector 0 holds 512 bytes of %#04x\n", buf[0]);
    else
        printf("hotdisk: sector 0 starts %02x %02x %02x %02x\n", buf[0], buf[1], buf[2], buf[3]);
    if (b->read_only)
        return;
    memset(buf, mark, sizeof(buf));
    st = virtio_blk_write(b, MARK_SECTOR, buf, MARK_COUNT);
    int fl = st == VIRTIO_BLK_S_OK ? virtio_blk_flush(b) : st;
    memset(buf, 0, sizeof(buf));
    int rd = fl == VIRTIO_BLK_S_OK ? virtio_blk_read(b, MARK_SECTOR, buf, MARK_COUNT) : fl;
    report(rd == VIRTIO_BLK_S_OK && all_bytes(buf, sizeof(buf), mark),
           "hotdisk: wrote %#04x over sectors %u-%u, flushed, read it back", mark, MARK_SECTOR,
           MARK_SECTOR + MARK_COUNT - 1);
}

/* A few milliseconds of waiting that gives hv exits (CPUID), so that it
 * hears its control channel meanwhile. */
static void pause_a_little(void)
{
    for (unsigned n = 0; n < 2000; n++)
        (void)cpuid(0);
}

int main(int argc, char **argv)
{
    if (!gk_arg_value(argc, argv, "watch")) {
        printf("hotdisk: not watching (give 'watch' where the empty virtio-mmio windows "
               "answer: hv with its control channel)\n");
        return report_summary();
    }
    const char *n = gk_arg_value(argc, argv, "disks");
    const char *m = gk_arg_value(argc, argv, "mark");
    unsigned want = n ? (unsigned)kstrtoull(n, NULL, 0) : 1;
    uint8_t mark = m ? (uint8_t)kstrtoull(m, NULL, 0) : 0xc3;
    printf("hotdisk: watching the %u virtio-mmio windows for %u disk%s\n", WINDOWS, want,
           want == 1 ? "" : "s");
    for (unsigned i = 0; i < WINDOWS; i++)
        present[i] = device_in(i) != 0;
    for (unsigned gone = 0; gone < want; pause_a_little()) {
        for (unsigned i = 0; i < WINDOWS; i++) {
            uint32_t id = device_in(i);
            if (!present[i] && id == VIRTIO_ID_BLOCK) {
                found(i, mark);
            } else if (present[i] && id == 0) {
                present[i] = false;
                gone++;
                printf("hotdisk: the disk at %#llx is gone\n",
                       (unsigned long long)(WINDOW_BASE + (uint64_t)WINDOW_SIZE * i));
            }
        }
    }
    return report_summary();
}
