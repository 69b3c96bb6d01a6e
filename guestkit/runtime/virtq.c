/*
 * The driver's half of a split virtqueue (virtio 1.2, 2.7 "Split
 * Virtqueues").  Hardware-free: compiled into every guest and hosted into
 * the unit tests, so it includes nothing but its own header.
 */
#include "guestkit/virtq.h"

/* Where the parts sit in the queue's page (see virtq.h). */
#define AVAIL_OFFSET 1024
#define USED_OFFSET  2048

/* Indices into the 16-bit views of the two rings: avail is flags, idx,
 * ring[size], used_event; used is flags, idx, then 8-byte elements and
 * avail_event after them (2.7.6 "The Virtqueue Available Ring", 2.7.8
 * "The Virtqueue Used Ring"). */
#define RING_FLAGS 0
#define RING_IDX   1
#define RING_FIRST 2

/* The device reads the rings while the driver writes them.  On x86 stores
 * become visible in program order and loads are not moved above older
 * loads, so ordering two stores, or two loads, needs only the compiler to
 * keep them in order.  A store followed by a load of another location may
 * be reordered by the CPU itself, and that is the one place that needs a
 * full fence (MFENCE or a locked instruction): publishing avail->idx and
 * then reading the device's avail_event, or writing used_event and then
 * reading used->idx. */
static inline void compiler_order(void)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}
static inline void full_fence(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static volatile uint16_t *used_event_field(const struct virtq *vq)
{
    /* used_event sits after the available ring's last entry (2.7.6). */
    return &vq->avail[RING_FIRST + vq->size];
}

static volatile uint16_t *avail_event_field(const struct virtq *vq)
{
    /* avail_event sits after the used ring's last element, each element
     * being 8 bytes, i.e. four 16-bit words (2.7.8). */
    return &vq->used[RING_FIRST + 4 * vq->size];
}

static volatile struct virtq_used_elem *used_elem(const struct virtq *vq, uint16_t slot)
{
    return (volatile struct virtq_used_elem *)&vq->used[RING_FIRST] + slot;
}

bool virtq_init(struct virtq *vq, struct virtq_page *page, uint16_t size, uint16_t index,
                bool event_idx, bool indirect)
{
    /* Queue sizes are powers of 2 (2.7 "Split Virtqueues": "Queue Size
     * ... is always a power of 2") so that ring slots are idx & (size-1). */
    if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)) != 0)
        return false;
    /* The device reads zeroes where nothing was written yet: flags 0 in
     * both rings and both indices 0, the state of a fresh queue. */
    for (unsigned i = 0; i < sizeof(page->bytes); i++)
        page->bytes[i] = 0;
    vq->size = size;
    vq->index = index;
    vq->event_idx = event_idx;
    vq->indirect = indirect;
    vq->desc = (volatile struct virtq_desc *)page->bytes;
    vq->avail = (volatile uint16_t *)(page->bytes + AVAIL_OFFSET);
    vq->used = (volatile uint16_t *)(page->bytes + USED_OFFSET);
    /* Chain every descriptor to the next one: the free list. */
    for (uint16_t i = 0; i < size; i++)
        vq->desc[i].next = (uint16_t)(i + 1);
    vq->free_head = 0;
    vq->num_free = size;
    vq->avail_idx = 0;
    vq->avail_idx_notified = 0;
    vq->last_used = 0;
    /* A fresh queue has flags 0 and used_event 0: interrupts on. */
    vq->interrupts_off = false;
    vq->added = vq->notified = vq->suppressed = 0;
    for (unsigned i = 0; i < VIRTQ_MAX_SIZE; i++) {
        vq->token[i] = NULL;
        vq->chain_len[i] = 0;
    }
    return true;
}

uint64_t virtq_desc_addr(const struct virtq *vq)
{
    /* guestkit identity-maps memory, so a pointer is the physical address. */
    return (uint64_t)(uintptr_t)vq->desc;
}

uint64_t virtq_avail_addr(const struct virtq *vq)
{
    return (uint64_t)(uintptr_t)vq->avail;
}

uint64_t virtq_used_addr(const struct virtq *vq)
{
    return (uint64_t)(uintptr_t)vq->used;
}

/* The flags of buffer i of n in a chain: NEXT on all but the last, WRITE
 * on those the device fills. */
static uint16_t chain_flags(const struct virtq_buf *bufs, unsigned i, unsigned n)
{
    uint16_t flags = bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0;
    if (i + 1 < n)
        flags |= VIRTQ_DESC_F_NEXT;
    return flags;
}

/* Offer the chain starting at `head` in the next available ring slot
 * (2.7.13.2 "Updating The Available Ring").  The device may not look at
 * the slot before avail->idx moves past it, in virtq_publish(). */
static void offer_head(struct virtq *vq, uint16_t head, uint16_t len, void *token)
{
    vq->token[head] = token;
    vq->chain_len[head] = len;
    vq->avail[RING_FIRST + (vq->avail_idx & (vq->size - 1))] = head;
    vq->avail_idx++;
    vq->added++;
}

bool virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned n, void *token)
{
    if (n == 0 || n > vq->num_free)
        return false;
    /* Take n descriptors off the free list, filling each as we go; the
     * free list's links already say which descriptor comes next. */
    uint16_t head = vq->free_head;
    uint16_t d = head;
    for (unsigned i = 0; i < n; i++) {
        vq->desc[d].addr = bufs[i].addr;
        vq->desc[d].len = bufs[i].len;
        vq->desc[d].flags = chain_flags(bufs, i, n);
        /* The last descriptor's `next` still points at the rest of the
         * free list, which is where the list continues. */
        if (i + 1 < n)
            d = vq->desc[d].next;
    }
    vq->free_head = vq->desc[d].next;
    vq->num_free = (uint16_t)(vq->num_free - n);
    offer_head(vq, head, (uint16_t)n, token);
    return true;
}

bool virtq_add_indirect(struct virtq *vq, struct virtq_desc *table, const struct virtq_buf *bufs,
                        unsigned n, void *token)
{
    /* An indirect table holds at most as many descriptors as the queue
     * has (2.7.5.3.1 "Driver Requirements: Indirect Descriptors"). */
    if (!vq->indirect || n == 0 || n > vq->size || vq->num_free == 0)
        return false;
    /* Inside a table the chain is numbered from 0 in order. */
    for (unsigned i = 0; i < n; i++) {
        table[i].addr = bufs[i].addr;
        table[i].len = bufs[i].len;
        table[i].flags = chain_flags(bufs, i, n);
        table[i].next = (uint16_t)(i + 1);
    }
    /* One descriptor in the queue points at the table; it carries only
     * INDIRECT, never WRITE or NEXT (the same section). */
    uint16_t head = vq->free_head;
    vq->desc[head].addr = (uint64_t)(uintptr_t)table;
    vq->desc[head].len = (uint32_t)(n * sizeof(struct virtq_desc));
    vq->desc[head].flags = VIRTQ_DESC_F_INDIRECT;
    vq->free_head = vq->desc[head].next;
    vq->num_free--;
    offer_head(vq, head, 1, token);
    return true;
}

bool virtq_publish(struct virtq *vq)
{
    /* The descriptors and ring slots must be visible before the new index
     * that hands them over (2.7.13.3 "Updating idx"). */
    compiler_order();
    vq->avail[RING_IDX] = vq->avail_idx;
    /* The new index must be visible before we read the device's wish
     * about notifications, or both sides could decide the other will act
     * (2.7.13.4 "Notifying The Device"). */
    full_fence();
    uint16_t old = vq->avail_idx_notified;
    uint16_t new = vq->avail_idx;
    vq->avail_idx_notified = new;
    if (old == new)
        return false;
    bool notify;
    if (vq->event_idx) {
        /* Notify only if avail_event lies in the range of indices just
         * published, (old, new]: the device asked to hear once idx passes
         * avail_event (2.7.10).  The unsigned 16-bit arithmetic is the
         * spec's and works across the wrap. */
        uint16_t event = *avail_event_field(vq);
        notify = (uint16_t)(new - event - 1) < (uint16_t)(new - old);
    } else {
        notify = !(vq->used[RING_FLAGS] & VIRTQ_USED_F_NO_NOTIFY);
    }
    if (notify)
        vq->notified++;
    else
        vq->suppressed++;
    return notify;
}

bool virtq_has_used(const struct virtq *vq)
{
    return vq->used[RING_IDX] != vq->last_used;
}

/* Put the chain that starts at `head` back on the free list. */
static void free_chain(struct virtq *vq, uint16_t head)
{
    uint16_t last = head;
    /* The driver remembers the chain's length: it never trusts the
     * device-visible `next` links further than it laid them. */
    for (uint16_t i = 1; i < vq->chain_len[head]; i++)
        last = vq->desc[last].next;
    vq->desc[last].next = vq->free_head;
    vq->free_head = head;
    vq->num_free = (uint16_t)(vq->num_free + vq->chain_len[head]);
    vq->chain_len[head] = 0;
}

void *virtq_get_used(struct virtq *vq, uint32_t *len)
{
    if (!virtq_has_used(vq))
        return NULL;
    /* The element must be read after the index that announced it
     * (2.7.14 "Receiving Used Buffers From The Device"). */
    compiler_order();
    volatile struct virtq_used_elem *e = used_elem(vq, vq->last_used & (vq->size - 1));
    uint32_t id = e->id;
    uint32_t written = e->len;
    vq->last_used++;
    /* A device that names a descriptor that is not the head of a chain in
     * flight is broken; the driver refuses to free anything for it. */
    if (id >= vq->size || vq->chain_len[id] == 0)
        return NULL;
    void *token = vq->token[id];
    vq->token[id] = NULL;
    free_chain(vq, (uint16_t)id);
    if (len)
        *len = written;
    /* While interrupts are wanted, keep asking for one at the next entry. */
    if (vq->event_idx && !vq->interrupts_off)
        *used_event_field(vq) = vq->last_used;
    return token;
}

void virtq_want_interrupts(struct virtq *vq, bool on)
{
    if (vq->event_idx) {
        /* With event indices the flags field must stay 0 (2.7.7.1 "Driver
         * Requirements: Used Buffer Notification Suppression"); the driver
         * says "interrupt me when you write entry used_event".  Turning
         * interrupts off points used_event at the entry just behind us,
         * which the device reaches again only after 65536 more. */
        *used_event_field(vq) = on ? vq->last_used : (uint16_t)(vq->last_used - 1);
    } else {
        vq->avail[RING_FLAGS] = on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
    }
    /* virtq_get_used() moves used_event along while interrupts are on. */
    vq->interrupts_off = !on;
    /* The request must be visible before the caller checks for used
     * entries one last time (see virtq.h). */
    full_fence();
}
