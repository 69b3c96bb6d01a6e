/*
 * virtio_mmio.h - the virtio-mmio transport, version 2 (virtio 1.2 4.2
 * "Virtio Over MMIO"): the registers through which a driver finds a
 * device, negotiates features, sets up its queues and kicks them, kept
 * apart from the devices (console.c, blk.c) as kvmtool keeps its
 * transports apart: a device supplies a `struct virtio_device` (its ID,
 * features, queues, configuration space and a notify handler) and the
 * transport does the rest.
 *
 * The register layout (4.2.2 "MMIO Device Register Layout"), 32-bit
 * registers at these offsets from the device's base:
 *   0x000 MagicValue "virt"      0x004 Version (2)
 *   0x008 DeviceID               0x00c VendorID
 *   0x010 DeviceFeatures         0x014 DeviceFeaturesSel (which 32 bits)
 *   0x020 DriverFeatures         0x024 DriverFeaturesSel
 *   0x030 QueueSel               0x034 QueueNumMax
 *   0x038 QueueNum               0x044 QueueReady
 *   0x050 QueueNotify            0x060 InterruptStatus  0x064 InterruptACK
 *   0x070 Status                 0x080/0x084 QueueDescLow/High
 *   0x090/0x094 QueueDriverLow/High (the available ring)
 *   0x0a0/0x0a4 QueueDeviceLow/High (the used ring)
 *   0x0ac SHMSel  0x0b0/0x0b4 SHMLen  0x0b8/0x0bc SHMBase  (none here)
 *   0x0c0 QueueReset (needs VIRTIO_F_RING_RESET, not offered)
 *   0x0fc ConfigGeneration       0x100... the device's configuration space
 *
 * The device status (2.1 "Device Status Field") goes ACKNOWLEDGE, DRIVER,
 * FEATURES_OK (refused here when the driver's features are not a subset
 * of the device's or lack VIRTIO_F_VERSION_1), DRIVER_OK; writing 0 resets
 * the device.  The device sets DEVICE_NEEDS_RESET itself when a driver
 * breaks the rings' rules; it then ignores the queues until the reset.
 *
 * Compiled into hv and hosted (tests/unit/test_hv_virtio.c).
 */
#ifndef HV_DEV_VIRTIO_MMIO_H
#define HV_DEV_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/mmiobus.h"
#include "virtq.h"

/* The window each device takes, as QEMU's virtio-mmio devices do. */
#define VIRTIO_MMIO_SIZE 0x200u

/* Register offsets (4.2.2 "MMIO Device Register Layout"). */
#define VIRTIO_MMIO_MAGIC          0x000
#define VIRTIO_MMIO_VERSION        0x004
#define VIRTIO_MMIO_DEVICE_ID      0x008
#define VIRTIO_MMIO_VENDOR_ID      0x00c
#define VIRTIO_MMIO_DEV_FEATURES   0x010
#define VIRTIO_MMIO_DEV_FEAT_SEL   0x014
#define VIRTIO_MMIO_DRV_FEATURES   0x020
#define VIRTIO_MMIO_DRV_FEAT_SEL   0x024
#define VIRTIO_MMIO_QUEUE_SEL      0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX  0x034
#define VIRTIO_MMIO_QUEUE_NUM      0x038
#define VIRTIO_MMIO_QUEUE_READY    0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY   0x050
#define VIRTIO_MMIO_INT_STATUS     0x060
#define VIRTIO_MMIO_INT_ACK        0x064
#define VIRTIO_MMIO_STATUS         0x070
#define VIRTIO_MMIO_QUEUE_DESC_LO  0x080
#define VIRTIO_MMIO_QUEUE_DESC_HI  0x084
#define VIRTIO_MMIO_QUEUE_AVAIL_LO 0x090
#define VIRTIO_MMIO_QUEUE_AVAIL_HI 0x094
#define VIRTIO_MMIO_QUEUE_USED_LO  0x0a0
#define VIRTIO_MMIO_QUEUE_USED_HI  0x0a4
#define VIRTIO_MMIO_SHM_SEL        0x0ac
#define VIRTIO_MMIO_SHM_LEN_LO     0x0b0
#define VIRTIO_MMIO_SHM_LEN_HI     0x0b4
#define VIRTIO_MMIO_SHM_BASE_LO    0x0b8
#define VIRTIO_MMIO_SHM_BASE_HI    0x0bc
#define VIRTIO_MMIO_QUEUE_RESET    0x0c0
#define VIRTIO_MMIO_CONFIG_GEN     0x0fc
#define VIRTIO_MMIO_CONFIG         0x100

/* "virt" read as a little-endian 32-bit value. */
#define VIRTIO_MMIO_MAGIC_VALUE 0x74726976u
/* hv's vendor ID: "HVKT" would be ours to pick; QEMU answers "QEMU"
 * (0x554d4551) and drivers do not look at it. */
#define VIRTIO_MMIO_VENDOR_VALUE 0x554d4551u

/* Device status bits (2.1 "Device Status Field"). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER      2u
#define VIRTIO_STATUS_DRIVER_OK   4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED      128u

/* InterruptStatus bits (4.2.2): a used buffer, a configuration change. */
#define VIRTIO_INT_USED   1u
#define VIRTIO_INT_CONFIG 2u

/* Reserved feature bits the transport itself cares about (6 "Reserved
 * Feature Bits"). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* The most queues a device here has (the console's receiveq and
 * transmitq; virtio-blk has one). */
#define VIRTIO_MAX_QUEUES 2

struct virtio_mmio;

/* A device model behind the transport. */
struct virtio_device {
    const char *name; /* in log lines, e.g. "virtio-blk0" */
    uint32_t device_id;
    uint64_t features; /* offered, including VIRTIO_F_* transport bits */
    unsigned nqueues;
    /* The device's configuration space (little endian, as the driver
     * reads it) and its length; the transport serves reads from it. */
    uint8_t *config;
    uint32_t config_len;
    /* A driver store into the configuration space (already checked to be
     * inside it); NULL when it is read-only. */
    void (*config_write)(void *ctx, uint32_t off, uint8_t size, uint64_t value);
    /* The driver made buffers available on queue `q` (and DRIVER_OK is
     * set, the queue ready and the device not broken): take them with
     * virtio_mmio_pop(), finish each with virtio_mmio_push(). */
    void (*notify)(void *ctx, struct virtio_mmio *t, unsigned q);
    /* The driver reset the device: forget any request state. */
    void (*reset)(void *ctx);
    void *ctx;
};

/* The transport's state for one device. */
struct virtio_mmio {
    const struct virtio_device *dev;
    struct virtq_mem mem;
    /* The registers the driver writes. */
    uint32_t status;
    uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
    uint64_t driver_features;
    /* InterruptStatus, and the interrupt line it drives (high while any
     * bit is set: a level-triggered line, as QEMU's virtio-mmio has). */
    uint32_t isr;
    void (*set_irq)(void *ctx, bool level);
    void *irq_ctx;
    /* ConfigGeneration: changes whenever the configuration space does. */
    uint32_t generation;
    struct virtq vq[VIRTIO_MAX_QUEUES];
    /* hv's log, one line per message (hv_log in hv, a recorder in the
     * tests); and which kinds of driver mistakes have been logged since
     * the last reset, so that a guest repeating one cannot flood it. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
    uint32_t logged;
    /* The window on the domain's MMIO bus (virtio_mmio_attach). */
    struct mmio_device mmio;
};

/* Set up the transport for `dev` (which must outlive it) over guest
 * memory `mem`, reset, with its window at `base`, not yet on a bus.
 * set_irq and log may be NULL. */
void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device *dev,
                      const struct virtq_mem *mem, uint64_t base,
                      void (*set_irq)(void *ctx, bool level), void *irq_ctx,
                      void (*log)(void *ctx, const char *line), void *log_ctx);

/* The register window (struct mmio_device read/write callbacks; ctx is the
 * struct virtio_mmio). */
uint64_t virtio_mmio_read(void *ctx, uint64_t offset, uint8_t size);
void virtio_mmio_write(void *ctx, uint64_t offset, uint8_t size, uint64_t value);

/* For devices: take the next chain of queue q (false when there is none,
 * or the driver broke the ring, which puts the device in NEEDS_RESET). */
bool virtio_mmio_pop(struct virtio_mmio *t, unsigned q, struct virtq_chain *c);
/* Finish a chain with `written` bytes written into it. */
void virtio_mmio_push(struct virtio_mmio *t, unsigned q, uint16_t head, uint32_t written);
/* After pushing: interrupt the driver if it wants it. */
void virtio_mmio_notify_used(struct virtio_mmio *t, unsigned q);
/* True once the driver set DRIVER_OK and the device is not broken. */
bool virtio_mmio_live(const struct virtio_mmio *t);
/* The device broke down or the driver broke a rule the device cannot
 * recover from: set DEVICE_NEEDS_RESET, tell the driver (a configuration
 * change interrupt, 2.1.2 "Device Requirements: Device Status Field"),
 * and log why. */
void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why);
/* Log a message about the driver once per `kind` bit until the next reset. */
void virtio_mmio_log_once(struct virtio_mmio *t, uint32_t kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Kinds of messages logged once (bits of `logged`); devices use the
 * bits from VIRTIO_LOG_DEVICE up. */
enum {
    VIRTIO_LOG_ACCESS = 1u << 0,   /* a control register not read as 32 bits */
    VIRTIO_LOG_FEATURES = 1u << 1, /* features written after FEATURES_OK */
    VIRTIO_LOG_NEGOTIATE = 1u << 2,
    VIRTIO_LOG_QUEUE_CFG = 1u << 3, /* queue set up while ready, bad QueueSel */
    VIRTIO_LOG_NOTIFY = 1u << 4,    /* notify of an unready or unknown queue */
    VIRTIO_LOG_STATUS = 1u << 5,    /* a status bit cleared without a reset */
    VIRTIO_LOG_CONFIG = 1u << 6,
    VIRTIO_LOG_DEVICE = 1u << 8,
};

#endif
