/*
 * The driver's half of a split virtqueue (virtio 1.2, 2.7 "Split
 * Virtqueues"): the descriptor table, the available ring the driver fills
 * and the used ring the device fills, all in guest memory.
 *
 * This file knows nothing about the transport: it only reads and writes
 * the rings.  The transport (virtio_mmio.h) tells the device where the
 * rings are and rings its doorbell when virtq_publish() says a
 * notification is needed.  Because it touches no hardware, the same code is
 * compiled hosted for the unit tests (tests/unit/test_guestkit_virtq.c),
 * which play the device.
 *
 * One virtqueue lives in one 4 KiB page the caller provides (struct
 * virtq_page): descriptors at offset 0, the available ring at 1024, the
 * used ring at 2048, which meets the alignment table of 2.7 ("Descriptor
 * Table 16, Available Ring 2, Used Ring 4") for any size up to
 * VIRTQ_MAX_SIZE.
 */
#ifndef GUESTKIT_VIRTQ_H
#define GUESTKIT_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest queue this driver sets up: 64 descriptors fill the first
 * 1 KiB of the page; a device offering more is told to use 64 (the
 * driver may pick any power of 2 up to QueueNumMax: 4.2.3.2 "Virtqueue
 * Configuration"). */
#define VIRTQ_MAX_SIZE 64

/* Descriptor flags (2.7.5 "The Virtqueue Descriptor Table"). */
#define VIRTQ_DESC_F_NEXT     1 /* the chain goes on in the `next` field */
#define VIRTQ_DESC_F_WRITE    2 /* device writes this buffer (else reads it) */
#define VIRTQ_DESC_F_INDIRECT 4 /* the buffer is a table of descriptors (2.7.5.3) */

/* The available ring's flag without VIRTIO_F_EVENT_IDX: "do not
 * interrupt me" (2.7.7 "Used Buffer Notification Suppression"), and the
 * used ring's flag: "do not notify me" (2.7.10 "Available Buffer
 * Notification Suppression"). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

/* One descriptor (2.7.5): a buffer in guest-physical memory.  All fields
 * are little-endian, which x86 is. */
struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

/* One entry of the used ring (2.7.8 "The Virtqueue Used Ring"): the head
 * of a finished chain and how many bytes the device wrote into it. */
struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

/* The page one virtqueue lives in (see the top of this file). */
struct virtq_page {
    uint8_t bytes[4096];
} __attribute__((aligned(4096)));

/* A buffer to put in a chain: address, length, and whether the device
 * writes it (a "device-writable" buffer) or reads it. */
struct virtq_buf {
    uint64_t addr;
    uint32_t len;
    bool device_writes;
};

/* The driver's state of one virtqueue. */
struct virtq {
    uint16_t size;  /* number of descriptors, a power of 2 */
    uint16_t index; /* the queue's number on its device */
    bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
    bool indirect;  /* VIRTIO_F_INDIRECT_DESC negotiated */
    /* The three parts, inside the caller's page. */
    volatile struct virtq_desc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
    volatile uint16_t *used;  /* flags, idx, then the elements, avail_event */
    /* Free descriptors form a list through their `next` fields. */
    uint16_t free_head;
    uint16_t num_free;
    /* The driver's copy of avail->idx, and its value at the last
     * notification decision (for the event index test). */
    uint16_t avail_idx;
    uint16_t avail_idx_notified;
    /* The next used ring entry the driver has not looked at. */
    uint16_t last_used;
    /* virtq_want_interrupts(vq, false) is in force. */
    bool interrupts_off;
    /* What each chain in flight stands for, by head, and its length. */
    void *token[VIRTQ_MAX_SIZE];
    uint16_t chain_len[VIRTQ_MAX_SIZE];
    /* Statistics: chains added, notifications the device was sent and
     * notifications suppressed by the device. */
    uint64_t added;
    uint64_t notified;
    uint64_t suppressed;
};

/* Lay out a queue of `size` descriptors (a power of 2, at most
 * VIRTQ_MAX_SIZE) in `page`, zero it and put every descriptor on the free
 * list.  Returns false for a bad size. */
bool virtq_init(struct virtq *vq, struct virtq_page *page, uint16_t size, uint16_t index,
                bool event_idx, bool indirect);

/* Guest-physical addresses of the three parts, for the transport. */
uint64_t virtq_desc_addr(const struct virtq *vq);
uint64_t virtq_avail_addr(const struct virtq *vq);
uint64_t virtq_used_addr(const struct virtq *vq);

/* Put one chain of n buffers in the available ring (the device-readable
 * ones must come first: 2.7.13.1 "Placing Buffers Into The Descriptor
 * Table"), remembering `token` for virtq_get_used().  Returns false when
 * there are not enough free descriptors or n is 0.  The device sees the
 * chain only after virtq_publish(). */
bool virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned n, void *token);

/* The same chain through an indirect table (2.7.5.3 "Indirect
 * Descriptors"): the n descriptors are written into `table` (room for n,
 * 16-byte aligned, kept untouched until the chain is used) and the queue
 * spends a single descriptor on it.  Needs VIRTIO_F_INDIRECT_DESC. */
bool virtq_add_indirect(struct virtq *vq, struct virtq_desc *table, const struct virtq_buf *bufs,
                        unsigned n, void *token);

/* Make the added chains visible to the device (2.7.13.3 "Updating idx")
 * and say whether the device wants a notification for them (2.7.10
 * "Available Buffer Notification Suppression"): the caller then writes
 * the queue's number to the transport's notify register. */
bool virtq_publish(struct virtq *vq);

/* Has the device put a chain in the used ring that the driver has not
 * taken yet? */
bool virtq_has_used(const struct virtq *vq);

/* Take the next used chain (2.7.14 "Receiving Used Buffers From The
 * Device"): frees its descriptors, returns its token and sets *len to the
 * bytes the device wrote.  NULL when there is none. */
void *virtq_get_used(struct virtq *vq, uint32_t *len);

/* Ask for a used-buffer notification (an interrupt) at the next used
 * chain, or for none (2.7.7 "Used Buffer Notification Suppression").  A
 * driver that polls turns them off; one that sleeps turns them on, and
 * must then check virtq_has_used() once more before sleeping, because a
 * chain may have been used just before the request took effect. */
void virtq_want_interrupts(struct virtq *vq, bool on);

#endif
