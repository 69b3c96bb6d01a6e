/*
 * virtio devices over MMIO (virtio 1.2, 4.2 "Virtio Over MMIO", the
 * version 2 register layout), for any test guest:
 *
 *     struct virtio_dev dev;
 *     if (!virtio_find(VIRTIO_ID_BLOCK, 0, &dev)) ...      // discovery
 *     virtio_blk_init(&blk, &dev, VIRTIO_WAIT_IOAPIC)      // virtio_blk.h
 *
 * Discovery: the words "virtio_mmio.device=<size>@<base>:<irq>" on the
 * guest's command line, the form Linux accepts and bin/hvrun passes; with
 * none there and outside hv, the 24 transports of QEMU's microvm machine at
 * 0xfeb00000 are probed (their interrupt lines are then unknown, so those
 * devices can only be polled).  Plain QEMU: run with
 *     -M microvm -global virtio-mmio.force-legacy=false
 * because QEMU 7.2's virtio-mmio speaks the legacy version 1 layout unless
 * told otherwise, and this driver speaks version 2 only.
 *
 * Waiting for the device: by polling the used ring, or by sleeping (STI;
 * HLT) until the device's interrupt arrives, routed through the I/O APIC
 * or the 8259 (ioapic.h).  virtio-mmio interrupts are level-triggered:
 * the line stays up until the driver acknowledges InterruptStatus
 * (4.2.3.4 "Notifications From The Device").
 */
#ifndef GUESTKIT_VIRTIO_H
#define GUESTKIT_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "guestkit/virtq.h"

/* Device IDs (5 "Device Types"). */
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3

/* Device status bits (2.1 "Device Status Field"). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED      128

/* Feature bits every device type shares (6 "Reserved Feature Bits"). */
#define VIRTIO_F_INDIRECT_DESC   28
#define VIRTIO_RING_F_EVENT_IDX  29
#define VIRTIO_F_VERSION_1       32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_FEATURE(bit)      (1ull << (bit))

/* MMIO register offsets (4.2.2 "MMIO Device Register Layout"). */
#define VIRTIO_MMIO_MAGIC            0x000 /* "virt" = 0x74726976 */
#define VIRTIO_MMIO_VERSION          0x004 /* 2; 1 is the legacy layout */
#define VIRTIO_MMIO_DEVICE_ID        0x008 /* 0: no device behind this transport */
#define VIRTIO_MMIO_VENDOR_ID        0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES  0x010 /* 32 bits, the window DeviceFeaturesSel picks */
#define VIRTIO_MMIO_DEVICE_FEAT_SEL  0x014
#define VIRTIO_MMIO_DRIVER_FEATURES  0x020
#define VIRTIO_MMIO_DRIVER_FEAT_SEL  0x024
#define VIRTIO_MMIO_QUEUE_SEL        0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX    0x034
#define VIRTIO_MMIO_QUEUE_NUM        0x038
#define VIRTIO_MMIO_QUEUE_READY      0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY     0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK    0x064
#define VIRTIO_MMIO_STATUS           0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW   0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH  0x084
#define VIRTIO_MMIO_QUEUE_AVAIL_LOW  0x090 /* the spec's QueueDriverLow */
#define VIRTIO_MMIO_QUEUE_AVAIL_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_USED_LOW   0x0a0 /* the spec's QueueDeviceLow */
#define VIRTIO_MMIO_QUEUE_USED_HIGH  0x0a4
#define VIRTIO_MMIO_CONFIG_GEN       0x0fc
#define VIRTIO_MMIO_CONFIG           0x100 /* device-specific configuration */

#define VIRTIO_MMIO_MAGIC_VALUE 0x74726976u
/* InterruptStatus bits: a used buffer, a configuration change. */
#define VIRTIO_MMIO_INT_VRING  1u
#define VIRTIO_MMIO_INT_CONFIG 2u

/* How a driver waits for the device. */
enum virtio_wait {
    VIRTIO_WAIT_POLL,   /* read the used ring until it moves; interrupts off */
    VIRTIO_WAIT_IOAPIC, /* sleep until the line's interrupt, via the I/O APIC */
    VIRTIO_WAIT_PIC,    /* the same via the 8259 (lines 0..15 only) */
};

/* One device behind one virtio-mmio transport. */
struct virtio_dev {
    uint64_t base; /* the register window */
    uint64_t size;
    int irq; /* its GSI / ISA line, -1 when unknown (probed) */
    uint32_t version;
    uint32_t device_id;
    uint32_t vendor_id;
    uint64_t offered;    /* features the device offers */
    uint64_t negotiated; /* features both sides use */
    enum virtio_wait wait;
    /* Counters: interrupts taken, notifications (doorbell writes). */
    volatile uint64_t interrupts;
    uint64_t notifications;
    /* Why the last call failed, for the guest's message. */
    const char *error;
};

/* ---- Discovery ----------------------------------------------------------- */
/* Every device found (see the top), at most max; returns the number found.
 * Transports with device ID 0 (nothing behind them) are left out. */
int virtio_discover(struct virtio_dev *out, int max);
/* The nth (0 = first) device with this ID; false if there is none. */
bool virtio_find(uint32_t device_id, int nth, struct virtio_dev *dev);
/* How the devices were found: "command line" or "microvm probe". */
const char *virtio_discovery_source(void);

/* The wait mode named "poll", "ioapic" or "pic"; false for another name. */
bool virtio_wait_by_name(const char *name, enum virtio_wait *out);

/* ---- Initialisation (3.1.1 "Driver Requirements: Device Initialization") */
/* Reset the device, set ACKNOWLEDGE and DRIVER, and negotiate: the
 * driver accepts the features in `wanted` that the device offers, and
 * always requires VIRTIO_F_VERSION_1.  Ends with FEATURES_OK set and
 * checked.  False (dev->error says why, status FAILED) otherwise. */
bool virtio_begin(struct virtio_dev *dev, uint64_t wanted);
/* Set up queue `index` (4.2.3.2 "Virtqueue Configuration") in `page`,
 * with min(QueueNumMax, VIRTQ_MAX_SIZE) descriptors (or fewer with
 * max_size), event indices and indirect descriptors as negotiated. */
bool virtio_queue_setup(struct virtio_dev *dev, struct virtq *vq, struct virtq_page *page,
                        uint16_t index, uint16_t max_size);
/* Set up how to wait (routing the interrupt for the two interrupt modes,
 * with `vector` for the I/O APIC), then DRIVER_OK: the device is live. */
bool virtio_go(struct virtio_dev *dev, enum virtio_wait wait, uint8_t vector);
/* Give the device up: reset it (status 0) and mask its interrupt. */
void virtio_reset(struct virtio_dev *dev);
/* The status register, e.g. to look for NEEDS_RESET. */
uint8_t virtio_status(const struct virtio_dev *dev);
bool virtio_has(const struct virtio_dev *dev, unsigned feature_bit);

/* Read len bytes of the device-specific configuration at `offset`,
 * consistently: repeated while ConfigGeneration changes under us (2.5.1
 * "Driver Requirements: Device Configuration Space"). */
void virtio_config_read(const struct virtio_dev *dev, uint32_t offset, void *buf, uint32_t len);

/* ---- Running -------------------------------------------------------------- */
/* Publish what was added to vq and ring the doorbell if the device wants
 * it (4.2.3.3 "Available Buffer Notifications"). */
void virtio_kick(struct virtio_dev *dev, struct virtq *vq);
/* Wait until vq has a used chain, the way dev->wait says; false if the
 * device has set NEEDS_RESET or FAILED instead. */
bool virtio_wait_used(struct virtio_dev *dev, struct virtq *vq);

#endif
