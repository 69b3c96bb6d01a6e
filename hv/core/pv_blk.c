/*
 * pv_blk.c - the PV block back-end (include/hvkit/pv.h "PV block"): a
 * request/response ring in a granted page, data in granted pages, on the
 * same image virtio-blk serves (core/vdev.c: vdev_disk), through imgtool's
 * library (img_read, img_write, img_flush).
 *
 * What it shares with virtio-blk and what it does not: both carry sector
 * requests in guest memory and cost one exit per batch; virtio describes
 * the buffers by guest-physical address and lets the device reach any of
 * the guest's RAM, while here every page comes through a grant, so the
 * back-end can touch only what the guest offered (Xen's split drivers
 * work so, the back-end living in another domain).
 *
 * Every request is copied out of the ring before it is looked at, so the
 * guest cannot change it between the check and the use, and checked whole
 * (operation, segment count, every segment's sectors and grant, the
 * sector range) before the first byte moves: a bad request gets
 * HVKIT_BLK_ERROR with the disk and guest memory as they were.
 */
#include "klib.h"

#include "img.h"
#include "log.h"
#include "pv.h"
#include "vdev.h"

#define SECTORS_PER_PAGE (4096u / HVKIT_BLK_SECTOR)

/* Log one line for the first refusal of each kind, then only count: a
 * hostile guest must not be able to fill hv's log. */
static void refuse(struct pv_blk *b, unsigned kind, const char *why, const struct hvkit_blk_req *r)
{
    b->refused++;
    if (b->logged & (1u << kind))
        return;
    b->logged |= 1u << kind;
    hv_log("pv-blk: request %llu (op %u, sector %llu, %u segments) refused: %s",
           (unsigned long long)r->id, r->op, (unsigned long long)r->sector, r->nr_segs, why);
}

/* READ or WRITE: check everything, map every page, then move the data. */
static int16_t read_write(struct pv_blk *b, const struct hvkit_blk_req *r,
                          const struct pv_grants *g, const struct guest_mem *m)
{
    bool read = r->op == HVKIT_BLK_OP_READ;
    if (r->nr_segs == 0 || r->nr_segs > HVKIT_BLK_MAX_SEGS) {
        refuse(b, 0, "segment count not 1..8", r);
        return HVKIT_BLK_ERROR;
    }
    if (!read && b->readonly) {
        refuse(b, 1, "the disk is read-only", r);
        return HVKIT_BLK_ERROR;
    }
    uint8_t *page[HVKIT_BLK_MAX_SEGS];
    uint64_t sectors = 0;
    for (unsigned i = 0; i < r->nr_segs; i++) {
        const struct hvkit_blk_seg *s = &r->seg[i];
        if (s->first_sect > s->last_sect || s->last_sect >= SECTORS_PER_PAGE) {
            refuse(b, 2, "a segment's sectors are not within its page", r);
            return HVKIT_BLK_ERROR;
        }
        /* A read stores into the page: the grant must allow writing. */
        if (pv_grant_map(g, m, s->gref, read, &page[i]) != HC_OK) {
            refuse(b, 3, "a segment's grant is not there, revoked, or read-only for a read", r);
            return HVKIT_BLK_ERROR;
        }
        sectors += s->last_sect - s->first_sect + 1u;
    }
    /* Written without sector + count, which a huge sector would wrap. */
    if (r->sector > b->sectors || sectors > b->sectors - r->sector) {
        refuse(b, 4, "past the end of the disk", r);
        return HVKIT_BLK_ERROR;
    }
    uint64_t off = r->sector * HVKIT_BLK_SECTOR;
    for (unsigned i = 0; i < r->nr_segs; i++) {
        const struct hvkit_blk_seg *s = &r->seg[i];
        uint8_t *p = page[i] + s->first_sect * HVKIT_BLK_SECTOR;
        size_t len = (size_t)(s->last_sect - s->first_sect + 1u) * HVKIT_BLK_SECTOR;
        int rc = read ? img_read(b->img, off, p, len) : img_write(b->img, off, p, len);
        if (rc < 0) {
            refuse(b, 5, "the image refused it (I/O error)", r);
            return HVKIT_BLK_ERROR;
        }
        off += len;
    }
    b->bytes += sectors * HVKIT_BLK_SECTOR;
    return HVKIT_BLK_OK;
}

/* One request, already copied out of the ring. */
static int16_t do_request(struct pv_blk *b, const struct hvkit_blk_req *r,
                          const struct pv_grants *g, const struct guest_mem *m)
{
    b->requests++;
    switch (r->op) {
    case HVKIT_BLK_OP_READ:
    case HVKIT_BLK_OP_WRITE:
        return read_write(b, r, g, m);
    case HVKIT_BLK_OP_FLUSH:
        /* Through the image's caches to the host's file (the outer
         * disk's FLUSH CACHE). */
        if (img_flush(b->img) < 0) {
            refuse(b, 5, "the image refused it (I/O error)", r);
            return HVKIT_BLK_ERROR;
        }
        return HVKIT_BLK_OK;
    default:
        refuse(b, 6, "unknown operation", r);
        return HVKIT_BLK_EOPNOTSUPP;
    }
}

long pv_blk_process(struct pv_blk *b, struct hvkit_blk_ring *ring, const struct pv_grants *g,
                    const struct guest_mem *m)
{
    /* The guest's producer index, read once; the requests it published
     * are visible after it (acquire). */
    uint32_t prod = __atomic_load_n(&ring->req_prod, __ATOMIC_ACQUIRE);
    /* More requests than slots: the guest overwrote requests hv had not
     * taken, or the index is garbage.  Nothing is read. */
    if (prod - b->req_cons > HVKIT_BLK_RING_SLOTS)
        return HC_EINVAL;
    long done = 0;
    while (b->req_cons != prod) {
        struct hvkit_blk_req r;
        memcpy(&r, &ring->slot[b->req_cons % HVKIT_BLK_RING_SLOTS].req, sizeof(r));
        b->req_cons++;
        struct hvkit_blk_rsp rsp = {.id = r.id, .op = r.op};
        rsp.status = do_request(b, &r, g, m);
        /* The response goes into the oldest slot whose request hv has
         * taken: slot rsp_prod, never one the guest may still fill. */
        memcpy(&ring->slot[b->rsp_prod % HVKIT_BLK_RING_SLOTS].rsp, &rsp, sizeof(rsp));
        b->rsp_prod++;
        done++;
    }
    /* hv's own count, not the ring's, which the guest could have changed;
     * published after the responses (release). */
    __atomic_store_n(&ring->rsp_prod, b->rsp_prod, __ATOMIC_RELEASE);
    return done;
}
