/*
 * virtq.h - the device's half of a split virtqueue (virtio 1.2 2.7 "Split
 * Virtqueues"): taking descriptor chains the driver made available,
 * handing them back on the used ring, and deciding whether the driver
 * wants an interrupt for it.
 *
 * A split virtqueue is three areas in guest memory, all written by the
 * guest's driver except the used ring:
 *   descriptor table  16 bytes per entry: address, length, flags, next
 *                     (2.7.5 "The Virtqueue Descriptor Table");
 *   available ring    flags, idx, ring[size], used_event: the heads of the
 *                     chains the driver offers (2.7.6 "The Virtqueue
 *                     Available Ring");
 *   used ring         flags, idx, ring[size] of {id, len}, avail_event:
 *                     the chains the device has finished (2.7.8 "The
 *                     Virtqueue Used Ring").
 *
 * Everything here treats the guest as hostile.  Guest memory is reached
 * only through `struct virtq_mem`, whose map() hands out a host pointer
 * for a guest-physical range only when every byte of it is guest RAM; a
 * descriptor is copied out before it is looked at, so the driver cannot
 * change it between the check and the use; every index is checked against
 * the queue's size; a chain may have at most as many descriptors as its
 * table has entries, which ends any loop.  A driver that breaks the rules
 * gets VIRTQ_BROKEN with the reason in words; the transport (virtio_mmio.c)
 * then marks the device as needing a reset.
 *
 * No hardware here: compiled into hv and hosted (tests/unit/test_hv_virtq.c
 * and the fuzz target tests/fuzz/fuzz_virtq.c).
 */
#ifndef HV_DEV_VIRTIO_VIRTQ_H
#define HV_DEV_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest queue hv's devices offer (QueueNumMax).  The spec allows
 * 32768; 256 is QEMU's size for virtio-blk and keeps a chain's segment
 * list (struct virtq_chain) at a few KiB. */
#define VIRTQ_MAX_SIZE 256

/* Descriptor flags (2.7.5 "The Virtqueue Descriptor Table"). */
#define VIRTQ_DESC_F_NEXT     1 /* the chain goes on at `next` */
#define VIRTQ_DESC_F_WRITE    2 /* device-writable (else device-readable) */
#define VIRTQ_DESC_F_INDIRECT 4 /* the buffer is a table of descriptors */

/* The driver's "no interrupt, please" flag in the available ring, used
 * when VIRTIO_F_EVENT_IDX is not negotiated (2.7.7 "Used Buffer
 * Notification Suppression"). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* Guest memory as the device may touch it.  map() returns the host address
 * of guest-physical [gpa, gpa + len) when all of it is guest RAM, else
 * NULL (MMIO, holes, past the end, a range that wraps).  `write` says the
 * device will store there (the used ring, device-writable buffers), so
 * that hv can log the pages dirty or refuse pages it keeps read-only. */
struct virtq_mem {
    void *ctx;
    uint8_t *(*map)(void *ctx, uint64_t gpa, uint64_t len, bool write);
};

/* One queue as the device keeps it. */
struct virtq {
    /* What the driver configured through the transport. */
    uint16_t size; /* QueueNum: entries in the table and both rings */
    bool ready;    /* QueueReady */
    uint64_t desc, avail, used;
    /* Negotiated features that change how the rings are read. */
    bool event_idx; /* VIRTIO_F_EVENT_IDX */
    bool indirect;  /* VIRTIO_F_INDIRECT_DESC */
    /* The device's own counters, free-running modulo 2^16 as the rings'
     * idx fields are: the next available entry to take, the next used
     * entry to fill, and used_idx as it was when the driver was last
     * interrupted (for the event-index test). */
    uint16_t last_avail;
    uint16_t used_idx;
    uint16_t signalled_used;
};

/* One piece of a chain: a host pointer to checked guest RAM. */
struct virtq_seg {
    uint8_t *host;
    uint64_t gpa;
    uint32_t len;
};

/* A chain taken off the available ring, its device-readable pieces first
 * (seg[0 .. nread-1]) and then the device-writable ones (seg[nread ..
 * nseg-1]), as 2.7.5 asks drivers to order them. */
struct virtq_chain {
    uint16_t head; /* the id the used ring gives back */
    unsigned nseg, nread;
    uint64_t read_len, write_len; /* bytes in each kind of piece */
    struct virtq_seg seg[VIRTQ_MAX_SIZE];
};

enum virtq_result {
    VIRTQ_EMPTY = 0,   /* nothing new on the available ring */
    VIRTQ_CHAIN = 1,   /* *chain holds the next request */
    VIRTQ_BROKEN = -1, /* the driver broke the rules: see `why` */
};

/* Back to the reset state (not ready, size 0, counters 0). */
void virtq_reset(struct virtq *q);

/*
 * The checks the device makes when the driver sets QueueReady: a size
 * that is a power of two from 1 to VIRTQ_MAX_SIZE, each area aligned as
 * 2.7 "Split Virtqueues" requires (table 16, available ring 2, used ring 4
 * bytes) and all of it in guest RAM.  Returns 0, or -1 with the reason.
 */
int virtq_check_layout(const struct virtq *q, const struct virtq_mem *m, char *why, size_t why_len);

/*
 * Take the next available chain: VIRTQ_CHAIN with *c filled, VIRTQ_EMPTY,
 * or VIRTQ_BROKEN with the reason in why (the queue is then left as it
 * was).  With event_idx it also writes avail_event, asking the driver to
 * notify when it adds the entry after this one.
 */
enum virtq_result virtq_pop(struct virtq *q, const struct virtq_mem *m, struct virtq_chain *c,
                            char *why, size_t why_len);

/* Put chain `head` on the used ring with `written` bytes written into its
 * device-writable pieces.  Returns 0, or -1 with why if the used ring is no
 * longer in RAM. */
int virtq_push(struct virtq *q, const struct virtq_mem *m, uint16_t head, uint32_t written,
               char *why, size_t why_len);

/* After one or more pushes: does the driver want a used-buffer
 * notification (2.7.7 "Used Buffer Notification Suppression")?  Remembers
 * that it was asked, so the next call counts from here. */
bool virtq_need_interrupt(struct virtq *q, const struct virtq_mem *m);

/* Copy up to `len` bytes out of the chain's readable pieces, starting
 * `off` bytes into them; returns how many were copied. */
size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *buf, size_t len);
/* Copy up to `len` bytes into the chain's writable pieces, starting `off`
 * bytes into them; returns how many were copied. */
size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *buf, size_t len);

#endif
