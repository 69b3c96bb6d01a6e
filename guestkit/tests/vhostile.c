/*
 * vhostile: a hostile virtio driver, for the device side of a hypervisor
 * (hv/dev/virtio/).  On the first virtio-blk device it sets the device up
 * with guestkit's own driver (virtio_begin, virtio_queue_setup, virtio_go:
 * polling, no interrupts), then breaks one rule of virtio 1.2 2.7 "Split
 * Virtqueues" at a time, writing the rings by hand, and rings the doorbell:
 *
 *   loop          descriptor 0 -> 1 -> 0
 *   next          a next index past the end of the table
 *   mmio          a buffer at the device's own register window
 *   wrap          a buffer whose address + length passes 2^64
 *   head          an available-ring entry naming descriptor size + 3
 *   ahead         the available idx more than a ring ahead of the device
 *   qsize         QueueNum 3 (not a power of two) when the queue is made ready
 *
 * Each time the device must set DEVICE_NEEDS_RESET (and, with DRIVER_OK,
 * the configuration-change bit of InterruptStatus) rather than hang, crash
 * or touch memory outside the guest, and after a reset the same device
 * must serve a correct request again (a read of sector 0).  Two mistakes
 * the device ignores come last: a notification for a queue that does not
 * exist, and driver features written after FEATURES_OK; the device must
 * still work and must not need a reset.
 *
 * Then the limits the device advertises (5.2.4 "Device configuration
 * layout"), on a queue of 256 entries set up by hand (guestkit's driver
 * stops at 64) with indirect descriptors, so that a long chain breaks no
 * ring rule: a read of seg_max data pieces and one of a size_max piece are
 * served; one piece more than seg_max, and a piece a sector longer than
 * size_max, fail with VIRTIO_BLK_S_IOERR (the spec's status "for device or
 * driver error", 5.2.6 "Device Operation"), write nothing into the
 * guest's buffers and need no reset.
 *
 * With the argument "durable" it does something else: it writes a
 * pattern (16-byte pieces "durable NNNNNNNN") over sectors 0-7 with one correct
 * OUT request, FLUSHes, says "vhostile: flushed" and then spins until the
 * launcher kills the machine: everything the FLUSH acknowledged must be
 * in the image file afterwards (5.2.6 "Device Operation": a flush makes
 * the earlier writes durable).
 *
 * Under hv each broken case leaves exactly one "[hv] ... device needs
 * reset" line (tests/integration/virtio-hv.sh counts them).  QEMU 7.2's
 * virtio-blk accepts a queue size of 3 (the spec makes it a driver rule),
 * so the guest is run under hv only.
 */
#include "guestkit/guestkit.h"
#include "guestkit/virtio.h"
#include "hvkit/virtio_blk.h"

#define QSIZE 8

static struct virtq_page page;
static struct virtq vq;
static uint8_t hdr[16] __attribute__((aligned(16)));
static uint8_t data[4096];
static volatile uint8_t status;
/* For the limits: a queue of 256 entries (table, available ring, used
 * ring, a page each), an indirect table and a buffer longer than
 * size_max. */
#define BIG_QSIZE 256
static struct virtq_page big_ring[3];
static struct virtq_desc table[BIG_QSIZE] __attribute__((aligned(16)));
static uint8_t big[(64u << 10) + 512] __attribute__((aligned(4096)));

static uint32_t reg(const struct virtio_dev *d, uint32_t off)
{
    return *(volatile uint32_t *)(uintptr_t)(d->base + off);
}

static void set_reg(const struct virtio_dev *d, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)(d->base + off) = v;
}

/* Reset and set the device up again, with queue 0 of QSIZE entries. */
static bool setup(struct virtio_dev *d)
{
    virtio_reset(d);
    return virtio_begin(d, VIRTIO_FEATURE(VIRTIO_F_VERSION_1)) &&
           virtio_queue_setup(d, &vq, &page, 0, QSIZE) && virtio_go(d, VIRTIO_WAIT_POLL, 0);
}

/* Put `head` on the available ring by hand (idx + `skip` + 1) and notify. */
static void offer(struct virtio_dev *d, uint16_t head, uint16_t skip)
{
    uint16_t idx = vq.avail[1];
    vq.avail[2 + idx % vq.size] = head;
    __asm__ volatile("" ::: "memory");
    vq.avail[1] = (uint16_t)(idx + 1 + skip);
    set_reg(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static void put(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    vq.desc[i].addr = addr;
    vq.desc[i].len = len;
    vq.desc[i].flags = flags;
    vq.desc[i].next = next;
}

/* A correct request, by hand: read sector 0 (header, data, status). */
static bool good_read(struct virtio_dev *d)
{
    memset(hdr, 0, sizeof(hdr));
    status = 0xee;
    put(0, (uintptr_t)hdr, 16, VIRTQ_DESC_F_NEXT, 1);
    put(1, (uintptr_t)data, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    put(2, (uintptr_t)&status, 1, VIRTQ_DESC_F_WRITE, 0);
    uint16_t used = vq.used[1];
    offer(d, 0, 0);
    for (int spin = 0; spin < 1000000 && vq.used[1] == used; spin++)
        __asm__ volatile("pause");
    return vq.used[1] == (uint16_t)(used + 1) && status == 0;
}

/* One request of type `type` at sector 0 with `len` bytes of data the
 * device reads; true when it completed with status OK. */
static bool out_request(struct virtio_dev *d, uint32_t type, uint32_t len)
{
    memset(hdr, 0, sizeof(hdr));
    hdr[0] = (uint8_t)type;
    status = 0xee;
    put(0, (uintptr_t)hdr, 16, VIRTQ_DESC_F_NEXT, 1);
    put(1, (uintptr_t)data, len, VIRTQ_DESC_F_NEXT, 2);
    put(2, (uintptr_t)&status, 1, VIRTQ_DESC_F_WRITE, 0);
    if (len == 0)
        put(0, (uintptr_t)hdr, 16, VIRTQ_DESC_F_NEXT, 2);
    uint16_t used = vq.used[1];
    offer(d, 0, 0);
    for (int spin = 0; spin < 1000000 && vq.used[1] == used; spin++)
        __asm__ volatile("pause");
    return vq.used[1] == (uint16_t)(used + 1) && status == 0;
}

/* "durable": write, flush, then wait to be killed (see the top). */
static int durable(struct virtio_dev *d)
{
    for (unsigned i = 0; i < sizeof(data) / 16; i++)
        ksnprintf((char *)data + 16 * i, 17, "durable %08x\n", i);
    report(out_request(d, 1, sizeof(data)), "8 sectors written");
    report(out_request(d, 4, 0), "flushed");
    printf("vhostile: flushed\n");
    for (;;)
        __asm__ volatile("pause");
    return 0; /* not reached: the launcher's time limit ends the run */
}

/* Reset and set queue 0 up by hand with BIG_QSIZE entries and indirect
 * descriptors; vq then describes it for put() and offer(). */
static bool setup_big(struct virtio_dev *d)
{
    virtio_reset(d);
    uint64_t want = VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(VIRTIO_F_INDIRECT_DESC);
    if (!virtio_begin(d, want) || d->negotiated != want)
        return false;
    set_reg(d, VIRTIO_MMIO_QUEUE_SEL, 0);
    if (reg(d, VIRTIO_MMIO_QUEUE_NUM_MAX) < BIG_QSIZE)
        return false;
    memset(big_ring, 0, sizeof(big_ring));
    vq.size = BIG_QSIZE;
    vq.desc = (volatile struct virtq_desc *)&big_ring[0];
    vq.avail = (volatile uint16_t *)&big_ring[1];
    vq.used = (volatile uint16_t *)&big_ring[2];
    set_reg(d, VIRTIO_MMIO_QUEUE_NUM, BIG_QSIZE);
    set_reg(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)&big_ring[0]);
    set_reg(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(uintptr_t)&big_ring[1]);
    set_reg(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(uintptr_t)&big_ring[2]);
    set_reg(d, VIRTIO_MMIO_QUEUE_READY, 1);
    return virtio_go(d, VIRTIO_WAIT_POLL, 0);
}

/* Offer chain 0 and wait for it; the status byte, or 0xee if the device
 * never answered. */
static uint8_t run_chain(struct virtio_dev *d)
{
    status = 0xee;
    uint16_t used = vq.used[1];
    offer(d, 0, 0);
    for (int spin = 0; spin < 1000000 && vq.used[1] == used; spin++)
        __asm__ volatile("pause");
    return vq.used[1] == (uint16_t)(used + 1) ? status : 0xee;
}

/* A read of sector 0 in `pieces` pieces of 512 bytes, through an indirect
 * table of pieces + 2 descriptors. */
static uint8_t read_in_pieces(struct virtio_dev *d, unsigned pieces)
{
    memset(hdr, 0, sizeof(hdr));
    table[0] = (struct virtq_desc){(uintptr_t)hdr, 16, VIRTQ_DESC_F_NEXT, 1};
    for (unsigned i = 1; i <= pieces; i++)
        table[i] = (struct virtq_desc){(uintptr_t)big + (i - 1) * 512, 512,
                                       VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)(i + 1)};
    table[pieces + 1] = (struct virtq_desc){(uintptr_t)&status, 1, VIRTQ_DESC_F_WRITE, 0};
    put(0, (uintptr_t)table, (pieces + 2) * 16, VIRTQ_DESC_F_INDIRECT, 0);
    return run_chain(d);
}

/* A read of sector 0 into one piece of `len` bytes. */
static uint8_t read_one_piece(struct virtio_dev *d, uint32_t len)
{
    memset(hdr, 0, sizeof(hdr));
    put(0, (uintptr_t)hdr, 16, VIRTQ_DESC_F_NEXT, 1);
    put(1, (uintptr_t)big, len, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    put(2, (uintptr_t)&status, 1, VIRTQ_DESC_F_WRITE, 0);
    return run_chain(d);
}

/* The device's seg_max and size_max, held to (see the top). */
static void limits(struct virtio_dev *d)
{
    uint32_t size_max, seg_max;
    virtio_config_read(d, 8, &size_max, 4);
    virtio_config_read(d, 12, &seg_max, 4);
    if (!report(setup_big(d) && seg_max + 2 < BIG_QSIZE && size_max + 512 <= sizeof(big) &&
                    size_max % 512 == 0,
                "limits: a queue of %u, seg_max %u and size_max %u leave room to break them",
                BIG_QSIZE, seg_max, size_max)) {
        report_info("%s", d->error ? d->error : "the limits do not fit this test");
        return;
    }
    report(read_in_pieces(d, seg_max) == VIRTIO_BLK_S_OK, "seg_max: %u data pieces are served",
           seg_max);
    memset(big, 0x77, sizeof(big));
    report(read_in_pieces(d, seg_max + 1) == VIRTIO_BLK_S_IOERR && big[0] == 0x77 &&
               !(virtio_status(d) & VIRTIO_STATUS_NEEDS_RESET),
           "seg_max: %u pieces fail with IOERR, nothing read, no reset", seg_max + 1);
    report(read_one_piece(d, size_max) == VIRTIO_BLK_S_OK, "size_max: a piece of %u is served",
           size_max);
    memset(big, 0x77, sizeof(big));
    report(read_one_piece(d, size_max + 512) == VIRTIO_BLK_S_IOERR && big[0] == 0x77 &&
               !(virtio_status(d) & VIRTIO_STATUS_NEEDS_RESET),
           "size_max: a piece of %u fails with IOERR, nothing read, no reset", size_max + 512);
}

/* After a broken case: NEEDS_RESET and the configuration bit, then a
 * reset and a good request. */
static void expect_reset(struct virtio_dev *d, const char *name)
{
    bool needs = virtio_status(d) & VIRTIO_STATUS_NEEDS_RESET;
    bool config = reg(d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG;
    report(needs && config, "%s: the device needs a reset and says so", name);
    report(setup(d) && good_read(d), "%s: after a reset the device serves a read", name);
}

int main(int argc, char **argv)
{
    struct virtio_dev dev;
    if (!report(virtio_find(VIRTIO_ID_BLOCK, 0, &dev), "virtio-blk device found"))
        return report_summary();
    if (!report(setup(&dev) && good_read(&dev), "set up; a correct read works")) {
        report_info("%s", dev.error ? dev.error : "the read failed");
        return report_summary();
    }
    if (argc > 1 && strcmp(argv[1], "durable") == 0)
        return durable(&dev);

    put(0, (uintptr_t)data, 16, VIRTQ_DESC_F_NEXT, 1);
    put(1, (uintptr_t)data, 16, VIRTQ_DESC_F_NEXT, 0);
    offer(&dev, 0, 0);
    expect_reset(&dev, "loop");

    put(0, (uintptr_t)data, 16, VIRTQ_DESC_F_NEXT, QSIZE);
    offer(&dev, 0, 0);
    expect_reset(&dev, "next");

    put(0, dev.base, 16, VIRTQ_DESC_F_WRITE, 0);
    offer(&dev, 0, 0);
    expect_reset(&dev, "mmio");

    put(0, 0xfffffffffffff000ull, 0x2000, 0, 0);
    offer(&dev, 0, 0);
    expect_reset(&dev, "wrap");

    offer(&dev, QSIZE + 3, 0);
    expect_reset(&dev, "head");

    put(0, (uintptr_t)hdr, 16, 0, 0);
    offer(&dev, 0, QSIZE + 1);
    expect_reset(&dev, "ahead");

    /* QueueNum 3, then QueueReady: the queue stays unready. */
    virtio_reset(&dev);
    bool begun = virtio_begin(&dev, VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
    set_reg(&dev, VIRTIO_MMIO_QUEUE_SEL, 0);
    set_reg(&dev, VIRTIO_MMIO_QUEUE_NUM, 3);
    set_reg(&dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)&page);
    set_reg(&dev, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(uintptr_t)&page + 2048);
    set_reg(&dev, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(uintptr_t)&page + 3072);
    set_reg(&dev, VIRTIO_MMIO_QUEUE_READY, 1);
    report(begun && reg(&dev, VIRTIO_MMIO_QUEUE_READY) == 0 &&
               (virtio_status(&dev) & VIRTIO_STATUS_NEEDS_RESET),
           "qsize: a queue of 3 is refused and the device needs a reset");
    report(setup(&dev) && good_read(&dev), "qsize: after a reset the device serves a read");

    /* Ignored: a doorbell for queue 5, and features after FEATURES_OK. */
    set_reg(&dev, VIRTIO_MMIO_QUEUE_NOTIFY, 5);
    set_reg(&dev, VIRTIO_MMIO_DRIVER_FEAT_SEL, 0);
    set_reg(&dev, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
    report(!(virtio_status(&dev) & VIRTIO_STATUS_NEEDS_RESET) && good_read(&dev),
           "ignored mistakes (queue 5, late features): the device works on");
    limits(&dev);
    virtio_reset(&dev);
    return report_summary();
}
