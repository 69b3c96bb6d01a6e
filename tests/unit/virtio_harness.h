/*
 * virtio_harness.h - what the virtio unit tests share: a guest's RAM as a
 * hosted buffer (with an MMIO hole in it, as a PC has), a recorder for the
 * transport's log and interrupt line, and the test's own driver steps
 * (negotiate, set up a queue, make a chain available) written out register
 * by register, so that each test reads as the sequence virtio 1.2 3.1
 * "Device Initialization" describes.
 */
#ifndef TESTS_UNIT_VIRTIO_HARNESS_H
#define TESTS_UNIT_VIRTIO_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/virtio/virtio_mmio.h"

/* 1 MiB of guest RAM at guest-physical 0, with [HOLE_BASE, HOLE_END) not
 * RAM (like the PC's VGA window): map() refuses it and anything past RAM. */
#define GUEST_RAM (1u << 20)
#define HOLE_BASE 0xa0000u
#define HOLE_END  0xc0000u
/* A page the device may read but not write (as hv refuses stores into
 * pages the guest made read-only). */
#define RO_PAGE 0x80000u

/* Where the harness puts queue 0 and 1's areas, and data buffers. */
#define Q0_DESC  0x1000u
#define Q0_AVAIL 0x2000u
#define Q0_USED  0x3000u
#define Q1_DESC  0x4000u
#define Q1_AVAIL 0x5000u
#define Q1_USED  0x6000u
#define BUF      0x10000u

extern uint8_t guest[GUEST_RAM];
extern const struct virtq_mem harness_mem;

/* What the transport reported. */
struct recorder {
    bool irq;
    int irq_changes;
    int lines;
    char last[256];
};
extern struct recorder rec;
void harness_irq(void *ctx, bool level);
void harness_log(void *ctx, const char *line);

/* Reset RAM and the recorder. */
void harness_reset(void);

/* Register accesses through the window, as a guest's 32-bit loads and
 * stores. */
uint32_t reg_rd(struct virtio_mmio *t, uint32_t off);
void reg_wr(struct virtio_mmio *t, uint32_t off, uint32_t v);

/* ACKNOWLEDGE, DRIVER, the features, FEATURES_OK; returns Status as read
 * back (FEATURES_OK set when the device accepted). */
uint32_t drv_negotiate(struct virtio_mmio *t, uint64_t features);
/* Set up queue q with `size` entries at the given addresses and make it
 * ready. */
void drv_queue(struct virtio_mmio *t, unsigned q, uint16_t size, uint64_t desc, uint64_t avail,
               uint64_t used);
/* Negotiate `features`, set up queue 0 (Q0_*) with `size` entries (and
 * queue 1 when the device has two), DRIVER_OK. */
void drv_start(struct virtio_mmio *t, uint64_t features, uint16_t size);

/* Write descriptor i of the table at `table`. */
void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
              uint16_t next);
/* Put head on the available ring at `avail` (size entries) and bump idx. */
void avail_add(uint64_t avail, uint16_t size, uint16_t head);
/* The used ring's idx and entry i. */
uint16_t used_idx(uint64_t used);
uint32_t used_id(uint64_t used, unsigned i);
uint32_t used_len(uint64_t used, unsigned i);

/* Little-endian accessors on guest RAM. */
void g16(uint64_t gpa, uint16_t v);
void g32(uint64_t gpa, uint32_t v);
void g64(uint64_t gpa, uint64_t v);
uint16_t r16(uint64_t gpa);
uint32_t r32(uint64_t gpa);

#endif
