/*
 * The virtio-mmio transport, driver side (virtio 1.2, 4.2 "Virtio Over
 * MMIO"): finding devices, the initialisation sequence, queue setup,
 * notifications and interrupts.  The rings themselves are virtq.c's.
 */
#include "klib.h"
#include "guestkit/console.h"
#include "guestkit/hvkit.h"
#include "guestkit/ioapic.h"
#include "guestkit/parse.h"
#include "guestkit/pic.h"
#include "guestkit/runtime.h"
#include "guestkit/trap.h"
#include "guestkit/virtio.h"
#include "guestkit/x86.h"

/* QEMU's microvm machine: 24 transports of 512 bytes from 0xfeb00000
 * (the window this driver probes when the command line names none). */
#define MICROVM_MMIO_BASE  0xfeb00000ull
#define MICROVM_MMIO_SLOTS 24
#define MICROVM_MMIO_SIZE  0x200

#define MAX_DEVICES 24

static const char *source = "none";

static uint32_t rd32(const struct virtio_dev *dev, uint32_t reg)
{
    /* All registers are 32 bits wide and read with 32-bit accesses
     * (4.2.2.2 "Driver Requirements: MMIO Device Register Layout"). */
    return *(volatile uint32_t *)(uintptr_t)(dev->base + reg);
}

static void wr32(const struct virtio_dev *dev, uint32_t reg, uint32_t value)
{
    *(volatile uint32_t *)(uintptr_t)(dev->base + reg) = value;
}

/* Fill in what the transport says about itself; false if the window holds
 * no virtio-mmio transport or no device (device ID 0, 4.2.2 "MMIO Device
 * Register Layout": "a device with ID 0 is a placeholder"). */
static bool identify(struct virtio_dev *dev)
{
    if (rd32(dev, VIRTIO_MMIO_MAGIC) != VIRTIO_MMIO_MAGIC_VALUE)
        return false;
    dev->version = rd32(dev, VIRTIO_MMIO_VERSION);
    dev->device_id = rd32(dev, VIRTIO_MMIO_DEVICE_ID);
    dev->vendor_id = rd32(dev, VIRTIO_MMIO_VENDOR_ID);
    return dev->device_id != 0;
}

static void clear(struct virtio_dev *dev, uint64_t base, uint64_t size, int irq)
{
    memset(dev, 0, sizeof(*dev));
    dev->base = base;
    dev->size = size;
    dev->irq = irq;
    dev->error = "";
}

int virtio_discover(struct virtio_dev *out, int max)
{
    struct gk_virtio_mmio_spec specs[MAX_DEVICES];
    int n = gk_find_virtio_mmio(mb_cmdline(), specs, MAX_DEVICES);
    int found = 0;
    if (n > MAX_DEVICES)
        n = MAX_DEVICES;
    if (n > 0) {
        /* The command line is authoritative: exactly these windows. */
        source = "command line";
        for (int i = 0; i < n && found < max; i++) {
            clear(&out[found], specs[i].base, specs[i].size, (int)specs[i].irq);
            if (identify(&out[found]))
                found++;
        }
        return found;
    }
    /* Probing reads addresses nobody promised us.  Under hv such a read
     * ends the guest, so only plain QEMU is probed (its microvm window). */
    if (under_hvkit())
        return 0;
    source = "microvm probe";
    for (int i = 0; i < MICROVM_MMIO_SLOTS && found < max; i++) {
        clear(&out[found], MICROVM_MMIO_BASE + (uint64_t)i * MICROVM_MMIO_SIZE, MICROVM_MMIO_SIZE,
              -1);
        if (identify(&out[found]))
            found++;
    }
    return found;
}

const char *virtio_discovery_source(void)
{
    return source;
}

bool virtio_find(uint32_t device_id, int nth, struct virtio_dev *dev)
{
    static struct virtio_dev all[MAX_DEVICES];
    int n = virtio_discover(all, MAX_DEVICES);
    for (int i = 0; i < n; i++) {
        if (all[i].device_id == device_id && nth-- == 0) {
            *dev = all[i];
            return true;
        }
    }
    return false;
}

bool virtio_wait_by_name(const char *name, enum virtio_wait *out)
{
    static const char *const names[] = {"poll", "ioapic", "pic"};
    for (unsigned i = 0; i < 3; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum virtio_wait)i;
            return true;
        }
    }
    return false;
}

uint8_t virtio_status(const struct virtio_dev *dev)
{
    return (uint8_t)rd32(dev, VIRTIO_MMIO_STATUS);
}

bool virtio_has(const struct virtio_dev *dev, unsigned feature_bit)
{
    return (dev->negotiated & VIRTIO_FEATURE(feature_bit)) != 0;
}

static void set_status(struct virtio_dev *dev, uint8_t bits)
{
    /* Status bits accumulate: each step ORs its bit in (3.1.1). */
    wr32(dev, VIRTIO_MMIO_STATUS, virtio_status(dev) | bits);
}

/* Give up on the device: FAILED tells it the driver has (2.1). */
static bool failed(struct virtio_dev *dev, const char *why)
{
    dev->error = why;
    set_status(dev, VIRTIO_STATUS_FAILED);
    return false;
}

/* The 64 feature bits, read and written as two 32-bit windows chosen by
 * the *FeaturesSel registers (4.2.2). */
static uint64_t device_features(struct virtio_dev *dev)
{
    wr32(dev, VIRTIO_MMIO_DEVICE_FEAT_SEL, 1);
    uint64_t hi = rd32(dev, VIRTIO_MMIO_DEVICE_FEATURES);
    wr32(dev, VIRTIO_MMIO_DEVICE_FEAT_SEL, 0);
    return hi << 32 | rd32(dev, VIRTIO_MMIO_DEVICE_FEATURES);
}

static void driver_features(struct virtio_dev *dev, uint64_t features)
{
    wr32(dev, VIRTIO_MMIO_DRIVER_FEAT_SEL, 1);
    wr32(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
    wr32(dev, VIRTIO_MMIO_DRIVER_FEAT_SEL, 0);
    wr32(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
}

void virtio_reset(struct virtio_dev *dev)
{
    if (dev->irq >= 0 && dev->wait == VIRTIO_WAIT_IOAPIC)
        ioapic_mask((uint32_t)dev->irq);
    if (dev->irq >= 0 && dev->irq < 16 && dev->wait == VIRTIO_WAIT_PIC)
        pic_mask(dev->irq);
    /* Writing 0 resets the device; the driver then waits until it reads 0
     * back (4.2.2.1 "Device Requirements: MMIO Device Register Layout",
     * 2.4.2 "Driver Requirements: Device Reset"). */
    wr32(dev, VIRTIO_MMIO_STATUS, 0);
    while (virtio_status(dev) != 0)
        __asm__ volatile("pause");
}

bool virtio_begin(struct virtio_dev *dev, uint64_t wanted)
{
    dev->error = "";
    if (rd32(dev, VIRTIO_MMIO_MAGIC) != VIRTIO_MMIO_MAGIC_VALUE) {
        dev->error = "no virtio-mmio magic value at the device's address";
        return false;
    }
    /* Version 1 is the legacy layout (page-number queue registers); this
     * driver speaks version 2 only (4.2.4 "Legacy interface"). */
    if (dev->version != 2) {
        dev->error = dev->version == 1 ? "legacy virtio-mmio device (version 1); QEMU needs "
                                         "-global virtio-mmio.force-legacy=false"
                                       : "unknown virtio-mmio version";
        return false;
    }
    /* 3.1.1 steps 1-3: reset, ACKNOWLEDGE ("I see a device"), DRIVER ("I
     * know how to drive it"). */
    virtio_reset(dev);
    dev->wait = VIRTIO_WAIT_POLL;
    set_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
    set_status(dev, VIRTIO_STATUS_DRIVER);
    /* Steps 4-6: accept a subset of the offered features, say FEATURES_OK,
     * and read it back: a device that cannot live with the subset clears
     * it again. */
    dev->offered = device_features(dev);
    if (!(dev->offered & VIRTIO_FEATURE(VIRTIO_F_VERSION_1)))
        return failed(dev, "the device does not offer VIRTIO_F_VERSION_1");
    dev->negotiated = dev->offered & (wanted | VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
    driver_features(dev, dev->negotiated);
    set_status(dev, VIRTIO_STATUS_FEATURES_OK);
    if (!(virtio_status(dev) & VIRTIO_STATUS_FEATURES_OK))
        return failed(dev, "the device refused the features (FEATURES_OK did not stick)");
    return true;
}

bool virtio_queue_setup(struct virtio_dev *dev, struct virtq *vq, struct virtq_page *page,
                        uint16_t index, uint16_t max_size)
{
    /* LAB 03: BEGIN queue-setup (labs/03-virtio, exercise 1) */
    /* LAB 03: HINT Set queue `index` up as 4.2.3.2 "Virtqueue Configuration"
     * says, with rd32()/wr32() on the registers of guestkit/virtio.h:
     *   - select it (QueueSel); it must not be in use (QueueReady reads 0)
     *     and must exist (QueueNumMax is not 0);
     *   - its size: the largest power of 2 that is at most QueueNumMax,
     *     max_size and VIRTQ_MAX_SIZE;
     *   - lay the rings out in `page` with virtq_init() (event indexes and
     *     indirect descriptors as negotiated: virtio_has());
     *   - write QueueNum, then the three areas' addresses, low and high
     *     halves (virtq_desc_addr(), virtq_avail_addr(), virtq_used_addr()),
     *     and QueueReady = 1 last.
     * Any problem: return failed(dev, "the reason"). */
    /* LAB 03: STUB (void)vq; */
    /* LAB 03: STUB (void)page; */
    /* LAB 03: STUB (void)index; */
    /* LAB 03: STUB (void)max_size; */
    /* LAB 03: STUB return failed(dev, "virtio_queue_setup() is not written yet"); */
    /* 4.2.3.2 "Virtqueue Configuration": select the queue, check that it
     * is not in use yet, read its maximum size (0: no such queue). */
    wr32(dev, VIRTIO_MMIO_QUEUE_SEL, index);
    if (rd32(dev, VIRTIO_MMIO_QUEUE_READY) != 0)
        return failed(dev, "the queue is already in use (QueueReady is 1)");
    uint32_t max = rd32(dev, VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (max == 0)
        return failed(dev, "the device has no such queue (QueueNumMax is 0)");
    /* The largest power of 2 within every limit. */
    uint32_t limit = max < max_size ? max : max_size;
    if (limit > VIRTQ_MAX_SIZE)
        limit = VIRTQ_MAX_SIZE;
    uint16_t size = 1;
    while ((uint32_t)size * 2 <= limit)
        size = (uint16_t)(size * 2);
    if (!virtq_init(vq, page, size, index, virtio_has(dev, VIRTIO_RING_F_EVENT_IDX),
                    virtio_has(dev, VIRTIO_F_INDIRECT_DESC)))
        return failed(dev, "bad queue size");
    /* Tell the device the size and the three parts' addresses, then make
     * the queue ready. */
    wr32(dev, VIRTIO_MMIO_QUEUE_NUM, size);
    uint64_t desc = virtq_desc_addr(vq), avail = virtq_avail_addr(vq), used = virtq_used_addr(vq);
    wr32(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    wr32(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    wr32(dev, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
    wr32(dev, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
    wr32(dev, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
    wr32(dev, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
    wr32(dev, VIRTIO_MMIO_QUEUE_READY, 1);
    return true;
    /* LAB 03: END */
}

/* ---- Interrupts ------------------------------------------------------------ */

/* The devices that take interrupts, by vector (I/O APIC) and by line
 * (8259), so one handler serves all of them. */
static struct virtio_dev *by_vector[256];
static struct virtio_dev *by_pic_line[16];

/* Acknowledge what the device raised (4.2.3.4 "Notifications From The
 * Device"): the line goes down once every bit is acknowledged.  The used
 * ring itself is looked at by whoever waits. */
static void acknowledge(struct virtio_dev *dev)
{
    uint32_t pending = rd32(dev, VIRTIO_MMIO_INTERRUPT_STATUS);
    if (pending)
        wr32(dev, VIRTIO_MMIO_INTERRUPT_ACK, pending);
    dev->interrupts++;
}

static void on_vector(int vector)
{
    if (by_vector[vector])
        acknowledge(by_vector[vector]);
    /* Level-triggered: the I/O APIC resends the interrupt after the EOI if
     * the line is still up, so the device is acknowledged first. */
    lapic_eoi();
}

static void on_pic_line(int irq)
{
    if (by_pic_line[irq])
        acknowledge(by_pic_line[irq]);
    /* The runtime sends the 8259 its EOI after this returns. */
}

static bool route_interrupt(struct virtio_dev *dev, enum virtio_wait wait, uint8_t vector)
{
    if (wait == VIRTIO_WAIT_POLL)
        return true;
    if (dev->irq < 0)
        return failed(dev, "the device's interrupt line is unknown (probed, not named "
                           "by virtio_mmio.device=): it can only be polled");
    if (wait == VIRTIO_WAIT_IOAPIC) {
        if (vector < 48)
            return failed(dev, "I/O APIC vectors start at 48 (below are exceptions and the 8259)");
        by_vector[vector] = dev;
        set_vector_handler(vector, on_vector);
        if (!ioapic_route((uint32_t)dev->irq, vector, true))
            return failed(dev, "no I/O APIC serves the device's interrupt line");
        return true;
    }
    if (dev->irq >= 16)
        return failed(dev, "the 8259 has lines 0..15 only");
    /* The 8259 pair with IRQs on vectors 32..47; the line in level mode. */
    pic_init();
    lapic_virtual_wire();
    by_pic_line[dev->irq] = dev;
    set_irq_handler(dev->irq, on_pic_line);
    pic_set_level(dev->irq, true);
    pic_unmask(dev->irq);
    return true;
}

bool virtio_go(struct virtio_dev *dev, enum virtio_wait wait, uint8_t vector)
{
    if (!route_interrupt(dev, wait, vector))
        return false;
    dev->wait = wait;
    /* 3.1.1 step 8: DRIVER_OK, the device is live. */
    set_status(dev, VIRTIO_STATUS_DRIVER_OK);
    if (virtio_status(dev) & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED))
        return failed(dev, "the device reports an error after DRIVER_OK");
    return true;
}

void virtio_config_read(const struct virtio_dev *dev, uint32_t offset, void *buf, uint32_t len)
{
    uint32_t before, after;
    do {
        before = rd32(dev, VIRTIO_MMIO_CONFIG_GEN);
        /* Byte by byte: any access width is allowed in the configuration
         * space, and bytes never straddle a field (4.2.2.2). */
        for (uint32_t i = 0; i < len; i++)
            ((uint8_t *)buf)[i] =
                *(volatile uint8_t *)(uintptr_t)(dev->base + VIRTIO_MMIO_CONFIG + offset + i);
        after = rd32(dev, VIRTIO_MMIO_CONFIG_GEN);
    } while (before != after);
}

/* ---- Running ----------------------------------------------------------------- */

void virtio_kick(struct virtio_dev *dev, struct virtq *vq)
{
    if (virtq_publish(vq)) {
        /* The queue's number in QueueNotify (4.2.3.3 "Available Buffer
         * Notifications"). */
        wr32(dev, VIRTIO_MMIO_QUEUE_NOTIFY, vq->index);
        dev->notifications++;
    }
}

static bool broken(const struct virtio_dev *dev)
{
    return (virtio_status(dev) & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) != 0;
}

bool virtio_wait_used(struct virtio_dev *dev, struct virtq *vq)
{
    if (dev->wait == VIRTIO_WAIT_POLL) {
        virtq_want_interrupts(vq, false);
        while (!virtq_has_used(vq)) {
            if (broken(dev))
                return false;
            __asm__ volatile("pause");
        }
        return true;
    }
    /* Sleep with interrupts: ask for one at the next used chain, look once
     * more (it may have come before the request), then STI; HLT, which
     * cannot miss an interrupt arriving between the two (SDM vol 2B
     * "STI"). */
    virtq_want_interrupts(vq, true);
    cli();
    while (!virtq_has_used(vq)) {
        if (broken(dev)) {
            return false;
        }
        safe_halt();
        cli();
    }
    /* The chain may have been used before the HLT, or during the
     * notification itself (a device that completes requests at once).  Its
     * interrupt is then pending: open a window of one instruction so it is
     * taken and acknowledged now, not at some later STI (the interrupt is
     * recognised after the instruction that follows STI: SDM vol 2B "STI"). */
    __asm__ volatile("sti; nop; cli" ::: "memory");
    return true;
}
