/*
 * virtio_mmio.c - the virtio-mmio transport, version 2 (see virtio_mmio.h).
 *
 * What a hostile or buggy driver meets here, and why:
 *   - control registers read or written other than as aligned 32-bit
 *     accesses (4.2.2.2 "Driver Requirements: MMIO Device Register
 *     Layout" forbids it): reads give 0, writes are dropped, logged once;
 *   - DriverFeatures written after FEATURES_OK (3.1.1 "Driver Requirements:
 *     Device Initialization" fixes the features at that step): ignored,
 *     logged once, the negotiated set stays;
 *   - FEATURES_OK with features the device did not offer, or without
 *     VIRTIO_F_VERSION_1: the bit is not set, as 2.2.1 "Device
 *     Requirements: Feature Bits" asks, and the driver sees it on reading
 *     Status back;
 *   - queue registers written while the queue is ready, or for a queue
 *     that does not exist: ignored, logged once (4.2.3.2 "Virtqueue
 *     Configuration" has the driver check QueueReady first);
 *   - QueueReady with a size that is not a power of two, misaligned
 *     rings or rings outside RAM: the queue stays unready and the device
 *     needs a reset;
 *   - notifications before DRIVER_OK or for an unready queue: ignored,
 *     logged once (3.1.1 forbids notifications before DRIVER_OK);
 *   - a broken ring (virtq.c's checks): DEVICE_NEEDS_RESET and a
 *     configuration-change interrupt (2.1.2 "Device Requirements: Device
 *     Status Field"), one log line; the queues are left alone until the
 *     driver resets the device by writing 0 to Status.
 */
#include "klib.h"

#include "virtio_mmio.h"

/* ---- Interrupts, logging, the broken state --------------------------------- */

/* Drive the interrupt line from InterruptStatus: high while any bit is
 * set, so the guest's EOI with a bit still set gets another interrupt
 * (a level-triggered I/O APIC entry) and an edge-triggered guest sees a
 * new edge after each ACK that leaves nothing pending. */
static void update_irq(struct virtio_mmio *t)
{
    if (t->set_irq)
        t->set_irq(t->irq_ctx, t->isr != 0);
}

/* One line for the log: "<device>: <message>". */
static void log_line(struct virtio_mmio *t, const char *fmt, va_list ap)
{
    char msg[200], line[256];
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    ksnprintf(line, sizeof(line), "%s: %s", t->dev->name, msg);
    if (t->log)
        t->log(t->log_ctx, line);
}

void virtio_mmio_log_once(struct virtio_mmio *t, uint32_t kind, const char *fmt, ...)
{
    if (t->logged & kind)
        return;
    t->logged |= kind;
    va_list ap;
    va_start(ap, fmt);
    log_line(t, fmt, ap);
    va_end(ap);
}

static void log_always(struct virtio_mmio *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void log_always(struct virtio_mmio *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(t, fmt, ap);
    va_end(ap);
}

void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why)
{
    /* Already broken: the first reason is the one that matters. */
    if (t->status & VIRTIO_STATUS_NEEDS_RESET)
        return;
    t->status |= VIRTIO_STATUS_NEEDS_RESET;
    log_always(t, "%s; device needs reset", why);
    /* "If DRIVER_OK is set, after it sets DEVICE_NEEDS_RESET, the device
     * MUST send a device configuration change notification". */
    if (t->status & VIRTIO_STATUS_DRIVER_OK) {
        t->isr |= VIRTIO_INT_CONFIG;
        update_irq(t);
    }
}

bool virtio_mmio_live(const struct virtio_mmio *t)
{
    return (t->status & VIRTIO_STATUS_DRIVER_OK) && !(t->status & VIRTIO_STATUS_NEEDS_RESET);
}

/* ---- Set-up and reset ----------------------------------------------------------- */

/* 2.4 "Device Reset": everything the driver set up is forgotten. */
static void reset(struct virtio_mmio *t)
{
    t->status = 0;
    t->dev_feat_sel = t->drv_feat_sel = t->queue_sel = 0;
    t->driver_features = 0;
    t->isr = 0;
    t->logged = 0;
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
        virtq_reset(&t->vq[i]);
    update_irq(t);
    if (t->dev->reset)
        t->dev->reset(t->dev->ctx);
}

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device *dev,
                      const struct virtq_mem *mem, uint64_t base,
                      void (*set_irq)(void *ctx, bool level), void *irq_ctx,
                      void (*log)(void *ctx, const char *line), void *log_ctx)
{
    *t = (struct virtio_mmio){.dev = dev,
                              .mem = *mem,
                              .set_irq = set_irq,
                              .irq_ctx = irq_ctx,
                              .log = log,
                              .log_ctx = log_ctx};
    t->mmio = (struct mmio_device){.name = dev->name,
                                   .base = base,
                                   .size = VIRTIO_MMIO_SIZE,
                                   .read = virtio_mmio_read,
                                   .write = virtio_mmio_write,
                                   .ctx = t};
    reset(t);
}

/* ---- Queues -------------------------------------------------------------------- */

/* The queue QueueSel names, or NULL (logged once) when there is none. */
static struct virtq *selected(struct virtio_mmio *t)
{
    if (t->queue_sel < t->dev->nqueues)
        return &t->vq[t->queue_sel];
    virtio_mmio_log_once(t, VIRTIO_LOG_QUEUE_CFG, "queue %u selected, the device has %u",
                         t->queue_sel, t->dev->nqueues);
    return NULL;
}

/* The selected queue, if the driver may still configure it. */
static struct virtq *configurable(struct virtio_mmio *t)
{
    struct virtq *q = selected(t);
    if (q && q->ready) {
        virtio_mmio_log_once(t, VIRTIO_LOG_QUEUE_CFG, "queue %u reconfigured while ready (ignored)",
                             t->queue_sel);
        return NULL;
    }
    return q;
}

/* Replace the low or high half of a 64-bit register. */
static void set_half(uint64_t *reg, bool high, uint32_t v)
{
    if (high)
        *reg = (*reg & 0xffffffffull) | (uint64_t)v << 32;
    else
        *reg = (*reg & ~0xffffffffull) | v;
}

/* QueueReady: 1 makes the queue live after the layout checks; 0 stops it. */
static void write_queue_ready(struct virtio_mmio *t, uint32_t value)
{
    struct virtq *q = selected(t);
    if (!q)
        return;
    if (!(value & 1)) {
        q->ready = false;
        return;
    }
    if (q->ready)
        return;
    char why[160];
    if (virtq_check_layout(q, &t->mem, why, sizeof(why)) < 0) {
        char msg[200];
        ksnprintf(msg, sizeof(msg), "queue %u: %s", t->queue_sel, why);
        virtio_mmio_needs_reset(t, msg);
        return;
    }
    /* The ring-format features apply from now on; the counters start
     * at 0 with a fresh ring. */
    q->event_idx = t->driver_features & (1ull << VIRTIO_F_EVENT_IDX);
    q->indirect = t->driver_features & (1ull << VIRTIO_F_INDIRECT_DESC);
    q->last_avail = q->used_idx = q->signalled_used = 0;
    q->ready = true;
}

/* QueueNotify: the driver made buffers available on queue `value`. */
static void write_notify(struct virtio_mmio *t, uint32_t value)
{
    if (!(t->status & VIRTIO_STATUS_DRIVER_OK)) {
        virtio_mmio_log_once(t, VIRTIO_LOG_NOTIFY, "queue %u notified before DRIVER_OK (ignored)",
                             value);
        return;
    }
    if (value >= t->dev->nqueues || !t->vq[value].ready) {
        virtio_mmio_log_once(t, VIRTIO_LOG_NOTIFY, "queue %u notified but %s (ignored)", value,
                             value >= t->dev->nqueues ? "there is no such queue" : "not ready");
        return;
    }
    if (virtio_mmio_live(t))
        t->dev->notify(t->dev->ctx, t, value);
}

bool virtio_mmio_pop(struct virtio_mmio *t, unsigned q, struct virtq_chain *c)
{
    if (!virtio_mmio_live(t) || q >= t->dev->nqueues)
        return false;
    char why[160], msg[200];
    switch (virtq_pop(&t->vq[q], &t->mem, c, why, sizeof(why))) {
    case VIRTQ_CHAIN:
        return true;
    case VIRTQ_EMPTY:
        return false;
    case VIRTQ_BROKEN:
        break;
    }
    ksnprintf(msg, sizeof(msg), "queue %u: %s", q, why);
    virtio_mmio_needs_reset(t, msg);
    return false;
}

void virtio_mmio_push(struct virtio_mmio *t, unsigned q, uint16_t head, uint32_t written)
{
    char why[160];
    if (q < t->dev->nqueues && virtq_push(&t->vq[q], &t->mem, head, written, why, sizeof(why)) < 0)
        virtio_mmio_needs_reset(t, why);
}

void virtio_mmio_notify_used(struct virtio_mmio *t, unsigned q)
{
    if (q < t->dev->nqueues && virtq_need_interrupt(&t->vq[q], &t->mem)) {
        t->isr |= VIRTIO_INT_USED;
        update_irq(t);
    }
}

/* ---- Status and features ---------------------------------------------------------- */

/* FEATURES_OK: accept the driver's choice only if the device offered all
 * of it and it includes VIRTIO_F_VERSION_1 (this is a version 2, non-legacy
 * transport: 6 "Reserved Feature Bits" lets the device refuse without it). */
static bool features_ok(struct virtio_mmio *t)
{
    uint64_t extra = t->driver_features & ~t->dev->features;
    if (extra) {
        virtio_mmio_log_once(t, VIRTIO_LOG_NEGOTIATE,
                             "driver accepted features %#llx the device did not offer; "
                             "FEATURES_OK refused",
                             (unsigned long long)extra);
        return false;
    }
    if (!(t->driver_features & (1ull << VIRTIO_F_VERSION_1))) {
        virtio_mmio_log_once(t, VIRTIO_LOG_NEGOTIATE,
                             "driver did not accept VIRTIO_F_VERSION_1; FEATURES_OK refused");
        return false;
    }
    return true;
}

/* Status: 0 resets; otherwise bits are added, never taken away. */
static void write_status(struct virtio_mmio *t, uint32_t value)
{
    if (value == 0) {
        reset(t);
        return;
    }
    uint32_t old = t->status;
    /* "The driver MUST NOT clear a device status bit" (2.1.1 "Driver
     * Requirements: Device Status Field"): keep the ones it dropped.
     * DEVICE_NEEDS_RESET is the device's to set. */
    uint32_t dropped = old & ~value & ~VIRTIO_STATUS_NEEDS_RESET;
    if (dropped)
        virtio_mmio_log_once(t, VIRTIO_LOG_STATUS,
                             "driver cleared status bits %#x without a reset (kept)", dropped);
    uint32_t next = (old | value) & ~VIRTIO_STATUS_NEEDS_RESET;
    next |= old & VIRTIO_STATUS_NEEDS_RESET;
    if ((next & ~old & VIRTIO_STATUS_FEATURES_OK) && !features_ok(t))
        next &= ~VIRTIO_STATUS_FEATURES_OK;
    t->status = next;
    /* DRIVER_OK just came on: the driver may have made buffers available
     * before (its notifications were ignored until now), so look at
     * every ready queue once. */
    if ((next & ~old & VIRTIO_STATUS_DRIVER_OK) && virtio_mmio_live(t))
        for (unsigned i = 0; i < t->dev->nqueues && virtio_mmio_live(t); i++)
            if (t->vq[i].ready)
                t->dev->notify(t->dev->ctx, t, i);
}

static void write_driver_features(struct virtio_mmio *t, uint32_t value)
{
    if (t->status & VIRTIO_STATUS_FEATURES_OK) {
        virtio_mmio_log_once(t, VIRTIO_LOG_FEATURES,
                             "driver features written after FEATURES_OK (ignored)");
        return;
    }
    if (t->drv_feat_sel < 2)
        set_half(&t->driver_features, t->drv_feat_sel == 1, value);
}

/* ---- The configuration space ------------------------------------------------------- */

/* Any size the driver likes, inside the space (4.2.2.2 allows 8-, 16- and
 * 32-bit accesses there; a 64-bit field is read as two halves, with
 * ConfigGeneration around them). */
static uint64_t config_read(struct virtio_mmio *t, uint64_t off, uint8_t size)
{
    const struct virtio_device *d = t->dev;
    if (off > d->config_len || size > d->config_len - off) {
        virtio_mmio_log_once(t, VIRTIO_LOG_CONFIG,
                             "read of %u bytes at configuration offset %#llx, past its %u bytes",
                             size, (unsigned long long)off, d->config_len);
        return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)d->config[off + i] << (8 * i);
    return v;
}

static void config_write(struct virtio_mmio *t, uint64_t off, uint8_t size, uint64_t value)
{
    const struct virtio_device *d = t->dev;
    if (!d->config_write || off > d->config_len || size > d->config_len - off) {
        virtio_mmio_log_once(t, VIRTIO_LOG_CONFIG,
                             "write of %u bytes at configuration offset %#llx (ignored)", size,
                             (unsigned long long)off);
        return;
    }
    d->config_write(d->ctx, (uint32_t)off, size, value);
}

/* ---- The register window ------------------------------------------------------------- */

/* A control register access must be an aligned 32-bit one. */
static bool control_access_ok(struct virtio_mmio *t, uint64_t offset, uint8_t size, bool write)
{
    if (size == 4 && !(offset & 3))
        return true;
    virtio_mmio_log_once(t, VIRTIO_LOG_ACCESS,
                         "%u-byte %s of control register %#llx (only aligned 32-bit accesses "
                         "are allowed; %s)",
                         size, write ? "write" : "read", (unsigned long long)offset,
                         write ? "dropped" : "reads 0");
    return false;
}

/* The half of the selected queue's 64-bit address register at `offset`. */
static uint32_t queue_addr(const struct virtq *q, uint64_t offset)
{
    uint64_t v = offset < VIRTIO_MMIO_QUEUE_AVAIL_LO  ? q->desc
                 : offset < VIRTIO_MMIO_QUEUE_USED_LO ? q->avail
                                                      : q->used;
    return (offset & 4) ? (uint32_t)(v >> 32) : (uint32_t)v;
}

uint64_t virtio_mmio_read(void *ctx, uint64_t offset, uint8_t size)
{
    struct virtio_mmio *t = ctx;
    if (offset >= VIRTIO_MMIO_CONFIG)
        return config_read(t, offset - VIRTIO_MMIO_CONFIG, size);
    if (!control_access_ok(t, offset, size, false))
        return 0;
    const struct virtq *q = t->queue_sel < t->dev->nqueues ? &t->vq[t->queue_sel] : NULL;
    switch (offset) {
    case VIRTIO_MMIO_MAGIC:
        return VIRTIO_MMIO_MAGIC_VALUE;
    case VIRTIO_MMIO_VERSION:
        return 2;
    case VIRTIO_MMIO_DEVICE_ID:
        return t->dev->device_id;
    case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR_VALUE;
    case VIRTIO_MMIO_DEV_FEATURES:
        /* Window 0 is bits 0-31, window 1 bits 32-63, the rest are 0. */
        return t->dev_feat_sel == 0   ? (uint32_t)t->dev->features
               : t->dev_feat_sel == 1 ? (uint32_t)(t->dev->features >> 32)
                                      : 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        /* 0 says "no such queue". */
        return q ? VIRTQ_MAX_SIZE : 0;
    case VIRTIO_MMIO_QUEUE_NUM:
        return q ? q->size : 0;
    case VIRTIO_MMIO_QUEUE_READY:
        return q ? q->ready : 0;
    case VIRTIO_MMIO_QUEUE_DESC_LO:
    case VIRTIO_MMIO_QUEUE_DESC_HI:
    case VIRTIO_MMIO_QUEUE_AVAIL_LO:
    case VIRTIO_MMIO_QUEUE_AVAIL_HI:
    case VIRTIO_MMIO_QUEUE_USED_LO:
    case VIRTIO_MMIO_QUEUE_USED_HI:
        return q ? queue_addr(q, offset) : 0;
    case VIRTIO_MMIO_INT_STATUS:
        return t->isr;
    case VIRTIO_MMIO_STATUS:
        return t->status;
    case VIRTIO_MMIO_SHM_LEN_LO:
    case VIRTIO_MMIO_SHM_LEN_HI:
    case VIRTIO_MMIO_SHM_BASE_LO:
    case VIRTIO_MMIO_SHM_BASE_HI:
        /* No shared memory regions: a region that does not exist has
         * length (and here base) all ones (4.2.2). */
        return 0xffffffffu;
    case VIRTIO_MMIO_CONFIG_GEN:
        return t->generation;
    default:
        /* Write-only and reserved registers read as 0. */
        return 0;
    }
}

void virtio_mmio_write(void *ctx, uint64_t offset, uint8_t size, uint64_t value64)
{
    struct virtio_mmio *t = ctx;
    if (offset >= VIRTIO_MMIO_CONFIG) {
        config_write(t, offset - VIRTIO_MMIO_CONFIG, size, value64);
        return;
    }
    if (!control_access_ok(t, offset, size, true))
        return;
    uint32_t value = (uint32_t)value64;
    struct virtq *q;
    switch (offset) {
    case VIRTIO_MMIO_DEV_FEAT_SEL:
        t->dev_feat_sel = value;
        break;
    case VIRTIO_MMIO_DRV_FEAT_SEL:
        t->drv_feat_sel = value;
        break;
    case VIRTIO_MMIO_DRV_FEATURES:
        write_driver_features(t, value);
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        t->queue_sel = value;
        break;
    case VIRTIO_MMIO_QUEUE_NUM:
        /* Checked when the queue is made ready, where a bad size is
         * refused as a whole. */
        if ((q = configurable(t)))
            q->size = value > 0xffff ? 0 : (uint16_t)value;
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LO:
    case VIRTIO_MMIO_QUEUE_DESC_HI:
        if ((q = configurable(t)))
            set_half(&q->desc, offset & 4, value);
        break;
    case VIRTIO_MMIO_QUEUE_AVAIL_LO:
    case VIRTIO_MMIO_QUEUE_AVAIL_HI:
        if ((q = configurable(t)))
            set_half(&q->avail, offset & 4, value);
        break;
    case VIRTIO_MMIO_QUEUE_USED_LO:
    case VIRTIO_MMIO_QUEUE_USED_HI:
        if ((q = configurable(t)))
            set_half(&q->used, offset & 4, value);
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        write_queue_ready(t, value);
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        write_notify(t, value);
        break;
    case VIRTIO_MMIO_INT_ACK:
        t->isr &= ~value;
        update_irq(t);
        break;
    case VIRTIO_MMIO_STATUS:
        write_status(t, value);
        break;
    default:
        /* Read-only and reserved registers ignore writes (SHMSel too:
         * there are no regions to select). */
        break;
    }
}
