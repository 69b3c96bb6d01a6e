/*
 * The PV block front-end (guestkit/pv.h, include/hvkit/pv.h "PV block"):
 * requests in a ring page, data in pages granted for the time of the
 * request, one notification per batch of requests.
 */
#include "klib.h"
#include "guestkit/pv.h"

#define PAGE             4096u
#define SECTORS_PER_PAGE (PAGE / HVKIT_BLK_SECTOR)

static volatile struct hvkit_blk_ring ring __attribute__((aligned(PAGE)));
static unsigned blk_port;
/* The front-end's own indices: the next request's slot, and the
 * responses read so far. */
static uint32_t req_prod, rsp_cons;
static unsigned long requests, notifies;

long pv_blk_init(unsigned disk, unsigned port)
{
    long ref = pv_ring_share(&ring, port);
    if (ref < 0)
        return ref;
    ring.req_prod = ring.rsp_prod = 0;
    req_prod = rsp_cons = 0;
    long rc = pv_call(HC_BLK_SETUP, (uint64_t)ref, port, disk);
    if (rc >= 0)
        blk_port = port;
    return rc;
}

/* Publish the queued requests and hand them to hv: one exit. */
static long kick(void)
{
    __atomic_store_n(&ring.req_prod, req_prod, __ATOMIC_RELEASE);
    notifies++;
    return pv_evtchn_send(blk_port);
}

/* The grants of the batch in flight, revoked when its responses are in
 * (the slots then hold responses, no longer the requests' references). */
static uint32_t batch_refs[HVKIT_BLK_RING_SLOTS * HVKIT_BLK_MAX_SEGS];
static unsigned batch_nrefs;

/* Fill one request's segments from buf (page pieces) and grant them.
 * Returns the sectors it covers. */
static uint32_t build(volatile struct hvkit_blk_req *r, unsigned op, uint64_t sector, uintptr_t buf,
                      uint32_t count)
{
    uint32_t done = 0;
    unsigned n = 0;
    while (done < count && n < HVKIT_BLK_MAX_SEGS) {
        uintptr_t addr = buf + (uintptr_t)done * HVKIT_BLK_SECTOR;
        unsigned first = (unsigned)(addr % PAGE) / HVKIT_BLK_SECTOR;
        uint32_t in_page = SECTORS_PER_PAGE - first;
        if (in_page > count - done)
            in_page = count - done;
        /* A read lets hv store into the page; a write only read it. */
        long ref = pv_grant(addr & ~(uintptr_t)(PAGE - 1), op == HVKIT_BLK_OP_WRITE);
        batch_refs[batch_nrefs++] = (uint32_t)ref;
        r->seg[n].gref = (uint32_t)ref;
        r->seg[n].first_sect = (uint8_t)first;
        r->seg[n].last_sect = (uint8_t)(first + in_page - 1);
        done += in_page;
        n++;
    }
    r->op = (uint8_t)op;
    r->nr_segs = (uint8_t)n;
    r->sector = sector;
    r->id = requests++;
    return done;
}

/* Take every response hv has put in; the first bad status, or OK. */
static int collect(void)
{
    int status = HVKIT_BLK_OK;
    while (rsp_cons != __atomic_load_n(&ring.rsp_prod, __ATOMIC_ACQUIRE)) {
        int16_t st = ring.slot[rsp_cons % HVKIT_BLK_RING_SLOTS].rsp.status;
        if (st != HVKIT_BLK_OK && status == HVKIT_BLK_OK)
            status = st;
        rsp_cons++;
    }
    return status;
}

int pv_blk_rw(unsigned op, uint64_t sector, void *buf, uint32_t count)
{
    uintptr_t b = (uintptr_t)buf;
    if (b % HVKIT_BLK_SECTOR)
        return -3;
    int status = HVKIT_BLK_OK;
    uint32_t done = 0;
    while (done < count) {
        /* A batch: as many requests as the ring has free slots. */
        batch_nrefs = 0;
        while (done < count && req_prod - rsp_cons < HVKIT_BLK_RING_SLOTS) {
            volatile struct hvkit_blk_req *r = &ring.slot[req_prod % HVKIT_BLK_RING_SLOTS].req;
            done +=
                build(r, op, sector + done, b + (uintptr_t)done * HVKIT_BLK_SECTOR, count - done);
            req_prod++;
        }
        long sent = kick();
        /* hv answered during the exit: the responses are in the ring. */
        int st = collect();
        for (unsigned i = 0; i < batch_nrefs; i++)
            pv_grant_revoke(batch_refs[i]);
        if (sent != HC_OK)
            return -3;
        if (st != HVKIT_BLK_OK && status == HVKIT_BLK_OK)
            status = st;
    }
    return status;
}

int pv_blk_flush(void)
{
    struct hvkit_blk_req r = {.op = HVKIT_BLK_OP_FLUSH, .id = requests};
    long sent;
    int st = pv_blk_raw(&r, &sent);
    return sent == HC_OK ? st : -3;
}

int pv_blk_raw(const struct hvkit_blk_req *req, long *send)
{
    volatile struct hvkit_blk_req *r = &ring.slot[req_prod % HVKIT_BLK_RING_SLOTS].req;
    memcpy((void *)r, req, sizeof(*req));
    req_prod++;
    requests++;
    *send = kick();
    int st = HVKIT_BLK_OK;
    bool any = rsp_cons != ring.rsp_prod;
    st = collect();
    /* No response at all (the ring refused): say so as an error. */
    return any ? st : -3;
}

volatile struct hvkit_blk_ring *pv_blk_ring(void)
{
    return &ring;
}

unsigned long pv_blk_requests(void)
{
    return requests;
}

unsigned long pv_blk_notifies(void)
{
    return notifies;
}
