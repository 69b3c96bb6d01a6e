/*
 * virtq.c - the device's half of a split virtqueue (see virtq.h).
 *
 * Every field of the rings is little endian, read and written through
 * le.h byte by byte.
 *
 * Offsets inside the areas (2.7 "Split Virtqueues"), for a queue of size N:
 *   descriptor i      desc  + 16 i: addr le64, len le32, flags le16, next le16
 *   available ring    avail + 0: flags, + 2: idx, + 4 + 2 i: ring[i],
 *                     + 4 + 2 N: used_event
 *   used ring         used  + 0: flags, + 2: idx, + 4 + 8 i: {id le32, len le32},
 *                     + 4 + 8 N: avail_event
 */
#include "klib.h"

#include "le.h"
#include "virtq.h"

/* ---- Reading and writing guest memory through the checked map ---------- */

/* A guest-physical range as host bytes, or NULL when any byte of it is not
 * RAM.  gpa + off is computed here once, refusing a sum that wraps, so no
 * caller can build an address past 2^64. */
static uint8_t *gmap(const struct virtq_mem *m, uint64_t gpa, uint64_t off, uint64_t len,
                     bool write)
{
    if (gpa > UINT64_MAX - off)
        return NULL;
    return m->map(m->ctx, gpa + off, len, write);
}

/* One 16-bit field of a ring: false when it is not in RAM.  Checked on
 * every access, not only when the queue was made ready: nothing else has
 * to stay true for this code to be safe. */
static bool ring16(const struct virtq_mem *m, uint64_t base, uint64_t off, uint16_t *v)
{
    const uint8_t *p = gmap(m, base, off, 2, false);
    if (!p)
        return false;
    *v = le16(p);
    return true;
}

static bool put_ring16(const struct virtq_mem *m, uint64_t base, uint64_t off, uint16_t v)
{
    uint8_t *p = gmap(m, base, off, 2, true);
    if (!p)
        return false;
    put_le16(p, v);
    return true;
}

/* The bytes each area takes for a queue of `n` entries (2.7 "Split
 * Virtqueues", the table of parts, alignments and sizes).  The rings'
 * sizes include used_event and avail_event, which exist whether or not
 * VIRTIO_F_EVENT_IDX is negotiated. */
static uint64_t desc_bytes(uint16_t n)
{
    return 16ull * n;
}

static uint64_t avail_bytes(uint16_t n)
{
    return 6ull + 2ull * n;
}

static uint64_t used_bytes(uint16_t n)
{
    return 6ull + 8ull * n;
}

/* ---- Queue state ------------------------------------------------------------ */

void virtq_reset(struct virtq *q)
{
    *q = (struct virtq){0};
}

int virtq_check_layout(const struct virtq *q, const struct virtq_mem *m, char *why, size_t why_len)
{
    /* 2.7 "Split Virtqueues": "Queue Size value is always a power of 2";
     * the transport offers at most VIRTQ_MAX_SIZE (QueueNumMax). */
    if (q->size == 0 || q->size > VIRTQ_MAX_SIZE || (q->size & (q->size - 1)) != 0) {
        ksnprintf(why, why_len, "queue size %u is not a power of two from 1 to %u", q->size,
                  VIRTQ_MAX_SIZE);
        return -1;
    }
    /* The alignments of the same table: descriptors 16, available ring 2,
     * used ring 4 bytes. */
    if ((q->desc & 15) || (q->avail & 1) || (q->used & 3)) {
        ksnprintf(why, why_len,
                  "rings misaligned (descriptors %#llx, available %#llx, used %#llx need "
                  "16-, 2- and 4-byte alignment)",
                  (unsigned long long)q->desc, (unsigned long long)q->avail,
                  (unsigned long long)q->used);
        return -1;
    }
    /* All three areas must be guest RAM: a ring in MMIO or past the end
     * of memory is a driver bug, caught here rather than at first use. */
    static const char *const names[3] = {"descriptor table", "available ring", "used ring"};
    const uint64_t base[3] = {q->desc, q->avail, q->used};
    const uint64_t len[3] = {desc_bytes(q->size), avail_bytes(q->size), used_bytes(q->size)};
    for (int i = 0; i < 3; i++) {
        if (!gmap(m, base[i], 0, len[i], i == 2)) {
            ksnprintf(why, why_len, "%s at %#llx (%llu bytes) is not guest RAM", names[i],
                      (unsigned long long)base[i], (unsigned long long)len[i]);
            return -1;
        }
    }
    return 0;
}

/* ---- Walking one chain ------------------------------------------------------- */

/* A descriptor copied out of guest memory, so that the driver cannot
 * change it between our check and our use. */
struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

/* Where the walk is: the table being read (the queue's own or an indirect
 * one), its length in entries, and how many of its entries the chain has
 * used so far. */
struct walk {
    uint64_t table;
    uint32_t entries;
    uint32_t steps;
    bool in_indirect;
};

static bool read_desc(const struct virtq_mem *m, uint64_t table, uint32_t i, struct desc *d)
{
    const uint8_t *p = gmap(m, table, 16ull * i, 16, false);
    if (!p)
        return false;
    d->addr = le64(p);
    d->len = le32(p + 8);
    d->flags = le16(p + 12);
    d->next = le16(p + 14);
    return true;
}

/* The descriptor is an indirect table (2.7.5.3 "Indirect Descriptors"):
 * check it by that section's rules and make the walk continue at its
 * entry 0.  Returns false with why when the driver broke one. */
static bool enter_indirect(const struct virtq *q, const struct virtq_mem *m, const struct desc *d,
                           struct walk *w, char *why, size_t why_len)
{
    if (!q->indirect) {
        ksnprintf(why, why_len, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
        return false;
    }
    /* "The driver MUST NOT set the VIRTQ_DESC_F_INDIRECT flag within an
     * indirect descriptor" and "MUST NOT set both VIRTQ_DESC_F_INDIRECT
     * and VIRTQ_DESC_F_NEXT". */
    if (w->in_indirect || (d->flags & VIRTQ_DESC_F_NEXT)) {
        ksnprintf(why, why_len, "%s",
                  w->in_indirect ? "indirect descriptor inside an indirect table"
                                 : "indirect descriptor with VIRTQ_DESC_F_NEXT set");
        return false;
    }
    /* The table is len / 16 descriptors; a chain can never need more than
     * VIRTQ_MAX_SIZE pieces, so a longer table is refused, as is one
     * whose length is not whole descriptors. */
    if (d->len == 0 || d->len % 16 || d->len / 16 > VIRTQ_MAX_SIZE) {
        ksnprintf(why, why_len, "indirect table of %u bytes (must be 16 to %u, a multiple of 16)",
                  d->len, 16 * VIRTQ_MAX_SIZE);
        return false;
    }
    if (!gmap(m, d->addr, 0, d->len, false)) {
        ksnprintf(why, why_len, "indirect table at %#llx (%u bytes) is not guest RAM",
                  (unsigned long long)d->addr, d->len);
        return false;
    }
    *w = (struct walk){.table = d->addr, .entries = d->len / 16, .in_indirect = true};
    return true;
}

/* A buffer descriptor: check it and append it to the chain. */
static bool add_segment(struct virtq_chain *c, const struct virtq_mem *m, const struct desc *d,
                        char *why, size_t why_len)
{
    bool writable = d->flags & VIRTQ_DESC_F_WRITE;
    /* 2.7.5 "The Virtqueue Descriptor Table": the driver MUST place the
     * device-writable descriptors after the device-readable ones. */
    if (!writable && c->nseg > c->nread) {
        ksnprintf(why, why_len, "device-readable descriptor after a device-writable one");
        return false;
    }
    if (c->nseg == VIRTQ_MAX_SIZE) {
        ksnprintf(why, why_len, "chain of more than %u descriptors", VIRTQ_MAX_SIZE);
        return false;
    }
    uint8_t *host = gmap(m, d->addr, 0, d->len, writable);
    if (!host) {
        ksnprintf(why, why_len, "buffer at %#llx (%u bytes) is not guest RAM",
                  (unsigned long long)d->addr, d->len);
        return false;
    }
    /* "Drivers MUST NOT add a descriptor chain longer than 2^32 bytes in
     * total": the used ring's len field is 32 bits. */
    if (c->read_len + c->write_len + d->len > 0xffffffffull) {
        ksnprintf(why, why_len, "chain longer than 2^32 - 1 bytes");
        return false;
    }
    c->seg[c->nseg++] = (struct virtq_seg){.host = host, .gpa = d->addr, .len = d->len};
    if (writable) {
        c->write_len += d->len;
    } else {
        c->nread++;
        c->read_len += d->len;
    }
    return true;
}

/* Follow the chain that starts at descriptor `head` of the queue's table. */
static bool walk_chain(const struct virtq *q, const struct virtq_mem *m, uint16_t head,
                       struct virtq_chain *c, char *why, size_t why_len)
{
    /* LAB 03: BEGIN desc-chain (labs/03-virtio, exercise 2) */
    /* LAB 03: HINT Start in the queue's own table (q->desc, q->size entries)
     * at descriptor `head`; set c->head and empty the chain (nseg, nread,
     * read_len, write_len).  Then, one descriptor at a time:
     *   - count the step: more steps than the current table has entries
     *     means the chain loops (or is longer than the table): refuse it;
     *   - copy the descriptor out with read_desc() (not in RAM: refuse);
     *   - VIRTQ_DESC_F_INDIRECT: enter_indirect() checks the table and
     *     resets the walk to it; go on at its entry 0;
     *   - otherwise add_segment() checks the buffer and appends it;
     *   - no VIRTQ_DESC_F_NEXT: the chain is complete, return true;
     *   - else go on at `next`, which must be inside the current table.
     * Every refusal returns false with the reason in why (ksnprintf). */
    /* LAB 03: STUB (void)q; */
    /* LAB 03: STUB (void)m; */
    /* LAB 03: STUB (void)c; */
    /* LAB 03: STUB (void)read_desc; */
    /* LAB 03: STUB (void)enter_indirect; */
    /* LAB 03: STUB (void)add_segment; */
    /* LAB 03: STUB ksnprintf(why, why_len, "walk_chain() is not written yet (head %u)", head); */
    /* LAB 03: STUB return false; */
    struct walk w = {.table = q->desc, .entries = q->size};
    uint32_t i = head;
    c->head = head;
    c->nseg = c->nread = 0;
    c->read_len = c->write_len = 0;
    for (;;) {
        /* A chain visits each entry of a table at most once; one more
         * step than the table has entries means it loops. */
        if (++w.steps > w.entries) {
            ksnprintf(why, why_len, "descriptor chain from head %u loops (more than %u entries)",
                      head, w.entries);
            return false;
        }
        struct desc d;
        if (!read_desc(m, w.table, i, &d)) {
            ksnprintf(why, why_len, "descriptor %u is not in guest RAM", i);
            return false;
        }
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!enter_indirect(q, m, &d, &w, why, why_len))
                return false;
            i = 0;
            continue;
        }
        if (!add_segment(c, m, &d, why, why_len))
            return false;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            return true;
        if (d.next >= w.entries) {
            ksnprintf(why, why_len, "descriptor %u: next %u is outside its table of %u", i, d.next,
                      w.entries);
            return false;
        }
        i = d.next;
    }
    /* LAB 03: END */
}

/* ---- The available and used rings ------------------------------------------- */

enum virtq_result virtq_pop(struct virtq *q, const struct virtq_mem *m, struct virtq_chain *c,
                            char *why, size_t why_len)
{
    if (!q->ready || q->size == 0)
        return VIRTQ_EMPTY;
    uint16_t avail_idx, head;
    if (!ring16(m, q->avail, 2, &avail_idx)) {
        ksnprintf(why, why_len, "available ring at %#llx is not guest RAM",
                  (unsigned long long)q->avail);
        return VIRTQ_BROKEN;
    }
    /* The driver's idx runs ahead of ours by the number of new entries;
     * more than the ring holds means it is garbage (2.7.6 "The Virtqueue
     * Available Ring": idx is where the driver puts the next entry). */
    uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
    if (pending == 0)
        return VIRTQ_EMPTY;
    if (pending > q->size) {
        ksnprintf(why, why_len,
                  "available idx %u is %u entries ahead of the device, more than "
                  "the queue's %u",
                  avail_idx, pending, q->size);
        return VIRTQ_BROKEN;
    }
    uint16_t slot = q->last_avail & (uint16_t)(q->size - 1);
    if (!ring16(m, q->avail, 4 + 2ull * slot, &head)) {
        ksnprintf(why, why_len, "available ring at %#llx is not guest RAM",
                  (unsigned long long)q->avail);
        return VIRTQ_BROKEN;
    }
    if (head >= q->size) {
        ksnprintf(why, why_len, "available ring entry %u names descriptor %u of %u", slot, head,
                  q->size);
        return VIRTQ_BROKEN;
    }
    if (!walk_chain(q, m, head, c, why, why_len))
        return VIRTQ_BROKEN;
    q->last_avail++;
    /* LAB 03: BEGIN used-ring (labs/03-virtio, exercise 3) */
    /* LAB 03: HINT With event indexes (q->event_idx) tell the driver when
     * to notify next: write avail_event, the 16-bit field after the used
     * ring's last element, as the available idx of the entry after the one
     * just taken (q->last_avail, already advanced), with put_ring16(). */
    /* 2.7.10 "Available Buffer Notification Suppression": with event
     * indexes the device writes, after the used ring, the available idx
     * at which it next wants a notification: the entry after this one. */
    if (q->event_idx)
        put_ring16(m, q->used, 4 + 8ull * q->size, q->last_avail);
    /* LAB 03: END */
    return VIRTQ_CHAIN;
}

int virtq_push(struct virtq *q, const struct virtq_mem *m, uint16_t head, uint32_t written,
               char *why, size_t why_len)
{
    /* LAB 03: BEGIN used-ring (labs/03-virtio, exercise 3) */
    /* LAB 03: HINT Fill the used ring's next element (slot q->used_idx modulo
     * the queue's size): id = head and len = written, little endian, the
     * element before the idx that publishes it; then advance q->used_idx
     * and store it in the ring's idx field.  A used ring that is not guest
     * RAM (gmap() says NULL): return -1 with the reason in why.  gmap(),
     * put_le32() (le.h) and put_ring16() above do the memory work. */
    /* LAB 03: STUB (void)q; */
    /* LAB 03: STUB (void)m; */
    /* LAB 03: STUB (void)head; */
    /* LAB 03: STUB (void)written; */
    /* LAB 03: STUB (void)why; */
    /* LAB 03: STUB (void)why_len; */
    /* LAB 03: STUB (void)put_ring16; */
    /* LAB 03: STUB return 0; */
    uint16_t slot = q->used_idx & (uint16_t)(q->size - 1);
    uint8_t *elem = gmap(m, q->used, 4 + 8ull * slot, 8, true);
    if (q->size == 0 || !elem) {
        ksnprintf(why, why_len, "used ring at %#llx is not guest RAM", (unsigned long long)q->used);
        return -1;
    }
    /* The element first, then idx: the driver looks at the element only
     * once idx has passed it (2.7.8 "The Virtqueue Used Ring").  hv runs
     * while the guest's vCPU is stopped, so program order is enough. */
    put_le32(elem, head);
    put_le32(elem + 4, written);
    q->used_idx++;
    put_ring16(m, q->used, 2, q->used_idx);
    return 0;
    /* LAB 03: END */
}

bool virtq_need_interrupt(struct virtq *q, const struct virtq_mem *m)
{
    /* LAB 03: BEGIN used-ring (labs/03-virtio, exercise 3) */
    /* LAB 03: HINT The chains pushed since the last call are used entries
     * [q->signalled_used, q->used_idx); remember q->used_idx for next time.
     * None: no interrupt.  Without event indexes interrupt unless the
     * available ring's flags say VIRTQ_AVAIL_F_NO_INTERRUPT.  With them,
     * read used_event (the 16-bit field after the available ring's last
     * entry) and interrupt when it lies in that range, counted modulo
     * 2^16 as the spec's vring_need_event() does.  A ring field that is
     * not in RAM (ring16() fails): interrupt, to be safe. */
    /* LAB 03: STUB (void)q; */
    /* LAB 03: STUB (void)m; */
    /* LAB 03: STUB return false; */
    uint16_t old = q->signalled_used, now = q->used_idx;
    q->signalled_used = now;
    if (old == now)
        return false;
    if (!q->event_idx) {
        /* Without event indexes the driver can only say "never" with
         * VIRTQ_AVAIL_F_NO_INTERRUPT, a hint the device may ignore. */
        uint16_t flags;
        return !ring16(m, q->avail, 0, &flags) || !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    /* 2.7.7 "Used Buffer Notification Suppression": the driver wants an
     * interrupt when used idx moves past used_event, i.e. when used_event
     * lies in [old, now) counted modulo 2^16. */
    uint16_t used_event;
    if (!ring16(m, q->avail, 4 + 2ull * q->size, &used_event))
        return true;
    return (uint16_t)(now - used_event - 1) < (uint16_t)(now - old);
    /* LAB 03: END */
}

/* ---- Copying in and out of a chain --------------------------------------------- */

/* Walk pieces [first, first + n) of the chain from logical offset `off`
 * and copy `len` bytes in the direction `to_chain` says. */
static size_t chain_copy(const struct virtq_chain *c, unsigned first, unsigned n, uint64_t off,
                         uint8_t *buf, size_t len, bool to_chain)
{
    size_t done = 0;
    for (unsigned i = first; i < first + n && done < len; i++) {
        const struct virtq_seg *s = &c->seg[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        size_t piece = s->len - off;
        if (piece > len - done)
            piece = len - done;
        if (to_chain)
            memcpy(s->host + off, buf + done, piece);
        else
            memcpy(buf + done, s->host + off, piece);
        done += piece;
        off = 0;
    }
    return done;
}

size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *buf, size_t len)
{
    return chain_copy(c, 0, c->nread, off, buf, len, false);
}

size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *buf, size_t len)
{
    return chain_copy(c, c->nread, c->nseg - c->nread, off, (uint8_t *)buf, len, true);
}
