/*
 * virtio_harness.c - the virtio unit tests' guest RAM, recorder and driver
 * steps (see virtio_harness.h).
 */
#include <string.h>

#include "virtio_harness.h"

uint8_t guest[GUEST_RAM];
struct recorder rec;

/* The bounds-checked map the devices see: all of [gpa, gpa + len) inside
 * RAM and clear of the hole (and of the read-only page for a write),
 * computed without gpa + len overflowing. */
static uint8_t *harness_map(void *ctx, uint64_t gpa, uint64_t len, bool write)
{
    (void)ctx;
    if (gpa > GUEST_RAM || len > GUEST_RAM - gpa)
        return NULL;
    if (gpa < HOLE_END && gpa + len > HOLE_BASE)
        return NULL;
    if (write && gpa < RO_PAGE + 0x1000 && gpa + len > RO_PAGE)
        return NULL;
    return guest + gpa;
}

const struct virtq_mem harness_mem = {.ctx = NULL, .map = harness_map};

void harness_irq(void *ctx, bool level)
{
    (void)ctx;
    if (level != rec.irq)
        rec.irq_changes++;
    rec.irq = level;
}

void harness_log(void *ctx, const char *line)
{
    (void)ctx;
    rec.lines++;
    strncpy(rec.last, line, sizeof(rec.last) - 1);
}

void harness_reset(void)
{
    memset(guest, 0, sizeof(guest));
    memset(&rec, 0, sizeof(rec));
}

uint32_t reg_rd(struct virtio_mmio *t, uint32_t off)
{
    return (uint32_t)virtio_mmio_read(t, off, 4);
}

void reg_wr(struct virtio_mmio *t, uint32_t off, uint32_t v)
{
    virtio_mmio_write(t, off, 4, v);
}

uint32_t drv_negotiate(struct virtio_mmio *t, uint64_t features)
{
    reg_wr(t, VIRTIO_MMIO_STATUS, 0);
    reg_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    reg_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    reg_wr(t, VIRTIO_MMIO_DRV_FEAT_SEL, 0);
    reg_wr(t, VIRTIO_MMIO_DRV_FEATURES, (uint32_t)features);
    reg_wr(t, VIRTIO_MMIO_DRV_FEAT_SEL, 1);
    reg_wr(t, VIRTIO_MMIO_DRV_FEATURES, (uint32_t)(features >> 32));
    reg_wr(t, VIRTIO_MMIO_STATUS,
           VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    return reg_rd(t, VIRTIO_MMIO_STATUS);
}

void drv_queue(struct virtio_mmio *t, unsigned q, uint16_t size, uint64_t desc, uint64_t avail,
               uint64_t used)
{
    reg_wr(t, VIRTIO_MMIO_QUEUE_SEL, q);
    reg_wr(t, VIRTIO_MMIO_QUEUE_NUM, size);
    reg_wr(t, VIRTIO_MMIO_QUEUE_DESC_LO, (uint32_t)desc);
    reg_wr(t, VIRTIO_MMIO_QUEUE_DESC_HI, (uint32_t)(desc >> 32));
    reg_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LO, (uint32_t)avail);
    reg_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_HI, (uint32_t)(avail >> 32));
    reg_wr(t, VIRTIO_MMIO_QUEUE_USED_LO, (uint32_t)used);
    reg_wr(t, VIRTIO_MMIO_QUEUE_USED_HI, (uint32_t)(used >> 32));
    reg_wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
}

void drv_start(struct virtio_mmio *t, uint64_t features, uint16_t size)
{
    drv_negotiate(t, features);
    drv_queue(t, 0, size, Q0_DESC, Q0_AVAIL, Q0_USED);
    if (t->dev->nqueues > 1)
        drv_queue(t, 1, size, Q1_DESC, Q1_AVAIL, Q1_USED);
    reg_wr(t, VIRTIO_MMIO_STATUS, reg_rd(t, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

void g16(uint64_t gpa, uint16_t v)
{
    guest[gpa] = (uint8_t)v;
    guest[gpa + 1] = (uint8_t)(v >> 8);
}

void g32(uint64_t gpa, uint32_t v)
{
    g16(gpa, (uint16_t)v);
    g16(gpa + 2, (uint16_t)(v >> 16));
}

void g64(uint64_t gpa, uint64_t v)
{
    g32(gpa, (uint32_t)v);
    g32(gpa + 4, (uint32_t)(v >> 32));
}

uint16_t r16(uint64_t gpa)
{
    return (uint16_t)(guest[gpa] | guest[gpa + 1] << 8);
}

uint32_t r32(uint64_t gpa)
{
    return r16(gpa) | (uint32_t)r16(gpa + 2) << 16;
}

void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
              uint16_t next)
{
    uint64_t d = table + 16ull * i;
    g64(d, addr);
    g32(d + 8, len);
    g16(d + 12, flags);
    g16(d + 14, next);
}

void avail_add(uint64_t avail, uint16_t size, uint16_t head)
{
    uint16_t idx = r16(avail + 2);
    g16(avail + 4 + 2u * (idx % size), head);
    g16(avail + 2, (uint16_t)(idx + 1));
}

uint16_t used_idx(uint64_t used)
{
    return r16(used + 2);
}

uint32_t used_id(uint64_t used, unsigned i)
{
    return r32(used + 4 + 8u * i);
}

uint32_t used_len(uint64_t used, unsigned i)
{
    return r32(used + 8 + 8u * i);
}
