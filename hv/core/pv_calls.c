/*
 * pv_calls.c - the hypercalls of include/hvkit/pv.h and the domain's PV
 * state.  Each handler is a row of hypercall.c's table (ring 0 only, as
 * every hvkit call): it checks its arguments, changes nothing on an error,
 * and answers with an abi.h HC_* code.
 */
#include "klib.h"

#include "alloc.h"
#include "hv.h"
#include "img.h"
#include "log.h"
#include "pv.h"
#include "vdev.h"

struct pv_domain *pv_get(struct domain *d)
{
    if (!d->pv)
        d->pv = kzalloc(sizeof(struct pv_domain));
    return d->pv;
}

void pv_teardown(struct domain *d)
{
    if (d->pv)
        kfree(d->pv->ballooned);
    kfree(d->pv);
    d->pv = NULL;
}

/* The PV console's lines go where COM1's go (main.c's line function: the
 * host console, with the domain's prefix when there are several). */
static void console_line(void *ctx, const char *line, size_t len)
{
    struct domain *d = ctx;
    d->com1.out(d->com1.out_ctx, line, len);
}

void pv_domain_end(struct domain *d)
{
    struct pv_domain *pv = d->pv;
    if (!pv)
        return;
    pv_console_flush(&pv->con, console_line, d);
    /* What the interface did, for the exit counts beside it. */
    if (pv->con.batches)
        hv_log("pv: console %llu bytes in %llu notifications", (unsigned long long)pv->con.bytes,
               (unsigned long long)pv->con.batches);
    if (pv->events)
        hv_log("pv: %llu events signalled, %llu interrupts injected",
               (unsigned long long)pv->events, (unsigned long long)pv->injections);
    if (pv->balloon_pages || d->host->opt.balloon || d->balloon_target_kib)
        hv_log("pv-balloon: %llu KiB given back of %llu KiB, target %llu KiB",
               (unsigned long long)d->balloon_kib, (unsigned long long)(d->mem.size >> 10),
               (unsigned long long)pv_balloon_target_kib(d));
    if (pv->blk.requests)
        hv_log("pv-blk: %llu requests, %llu bytes, %llu refused",
               (unsigned long long)pv->blk.requests, (unsigned long long)pv->blk.bytes,
               (unsigned long long)pv->blk.refused);
}

/* HC_PV_SHARED: RBX = the shared page, 4 KiB aligned RAM hv may store to. */
long pv_hc_shared(struct vcpu *v, const struct gprs *r)
{
    struct pv_domain *pv = pv_get(v->dom);
    if (!pv)
        return HC_ENOMEM;
    if (r->rbx & 0xfff)
        return HC_EINVAL;
    if (!gmem_write_ptr(&v->dom->mem, r->rbx, sizeof(struct hvkit_shared)))
        return HC_EFAULT;
    pv->shared_gpa = r->rbx;
    pv->shared_set = true;
    return HC_OK;
}

/* HC_EVTCHN_BIND: RBX = port, RCX = vector.  Only with a shared page:
 * there would be nowhere to put the pending bit. */
long pv_hc_evtchn_bind(struct vcpu *v, const struct gprs *r)
{
    struct pv_domain *pv = pv_get(v->dom);
    if (!pv)
        return HC_ENOMEM;
    if (!pv->shared_set)
        return HC_EFAULT;
    return pv_evtchn_bind(pv, r->rbx, r->rcx);
}

/* HC_EVTCHN_CLOSE: RBX = port. */
long pv_hc_evtchn_close(struct vcpu *v, const struct gprs *r)
{
    struct pv_domain *pv = v->dom->pv;
    return pv ? pv_evtchn_close(pv, r->rbx) : HC_EINVAL;
}

/* The console's back-end: print what the ring holds.  The ring page is
 * found through its grant at every notification, so a revoked grant stops
 * the console at once. */
static long console_notify(struct vcpu *v, struct pv_domain *pv)
{
    struct domain *d = v->dom;
    struct pv_console *c = &pv->con;
    if (c->broken)
        return HC_EINVAL;
    uint8_t *page;
    /* Writable: hv stores the consumer index. */
    long rc = pv_grant_map(&pv->grants, &d->mem, c->gref, true, &page);
    if (rc)
        return rc;
    c->batches++;
    /* COM1's unfinished line first, so the two never mix within a line. */
    uart_flush(&d->com1);
    rc = pv_console_consume((struct hvkit_console_ring *)page, c, console_line, d);
    if (rc < 0) {
        /* One line, then the ring is ignored: a guest repeating its bad
         * indices must not fill hv's log. */
        const struct hvkit_console_ring *ring = (const void *)page;
        hv_log("pv: console ring broken (out_cons %u, out_prod %u, more than %u bytes apart); "
               "ignoring it",
               ring->out_cons, ring->out_prod, HVKIT_CONSOLE_OUT_SIZE);
        c->broken = true;
        return rc;
    }
    return HC_OK;
}

/* The block back-end: the requests the ring holds, then one signal on
 * the ring's port for the batch. */
static long blk_notify(struct vcpu *v, struct pv_domain *pv)
{
    struct pv_blk *b = &pv->blk;
    if (b->broken)
        return HC_EINVAL;
    uint8_t *page;
    long rc = pv_grant_map(&pv->grants, &v->dom->mem, b->gref, true, &page);
    if (rc)
        return rc;
    rc = pv_blk_process(b, (struct hvkit_blk_ring *)page, &pv->grants, &v->dom->mem);
    if (rc < 0) {
        hv_log("pv-blk: ring broken (req_prod %u, %u requests taken: more than %u apart); "
               "ignoring it",
               ((struct hvkit_blk_ring *)page)->req_prod, b->req_cons, HVKIT_BLK_RING_SLOTS);
        b->broken = true;
        return rc;
    }
    /* Responses are there: tell the guest, once for the batch. */
    if (rc > 0)
        pv_evtchn_signal(v, b->port);
    return HC_OK;
}

/* HC_EVTCHN_SEND: RBX = port: the device holding it works, or a loopback
 * port signals back. */
long pv_hc_evtchn_send(struct vcpu *v, const struct gprs *r)
{
    struct pv_domain *pv = v->dom->pv;
    if (!pv || r->rbx == 0 || r->rbx >= HVKIT_EVTCHN_PORTS || !pv->ports[r->rbx].bound)
        return HC_EINVAL;
    switch (pv->ports[r->rbx].owner) {
    case PV_OWNER_CONSOLE:
        return console_notify(v, pv);
    case PV_OWNER_BLK:
        return blk_notify(v, pv);
    case PV_OWNER_NONE:
    default:
        return pv_evtchn_signal(v, (unsigned)r->rbx);
    }
}

/* HC_GRANT_SETUP: RBX = table, RCX = entries (0: no table). */
long pv_hc_grant_setup(struct vcpu *v, const struct gprs *r)
{
    struct pv_domain *pv = pv_get(v->dom);
    if (!pv)
        return HC_ENOMEM;
    if (r->rcx == 0) {
        pv->grants = (struct pv_grants){0};
        return HC_OK;
    }
    long rc = pv_grant_check_table(&v->dom->mem, r->rbx, r->rcx);
    if (rc)
        return rc;
    pv->grants.gpa = r->rbx;
    pv->grants.nr = (uint32_t)r->rcx;
    return HC_OK;
}

/* The checks every device's set-up makes: RCX a bound port no device
 * holds, RBX the grant of a ring page hv may write (checked now, so a
 * mistake shows at set-up).  HC_OK with *out and *page set, or an error. */
static long setup_checks(struct vcpu *v, const struct gprs *r, struct pv_domain **out,
                         uint8_t **page)
{
    struct pv_domain *pv = pv_get(v->dom);
    if (!pv)
        return HC_ENOMEM;
    uint64_t port = r->rcx;
    if (port == 0 || port >= HVKIT_EVTCHN_PORTS || !pv->ports[port].bound ||
        pv->ports[port].owner != PV_OWNER_NONE)
        return HC_EINVAL;
    *out = pv;
    return pv_grant_map(&pv->grants, &v->dom->mem, r->rbx, true, page);
}

/* HC_CONSOLE_SETUP: RBX = grant of the ring, RCX = its port. */
long pv_hc_console_setup(struct vcpu *v, const struct gprs *r)
{
    struct pv_domain *pv;
    uint8_t *page;
    long rc = setup_checks(v, r, &pv, &page);
    if (rc)
        return rc;
    uint64_t port = r->rcx;
    /* A console set up again lets go of its old port. */
    if (pv->con.active)
        pv->ports[pv->con.port].owner = PV_OWNER_NONE;
    pv->con.active = true;
    pv->con.broken = false;
    pv->con.gref = (uint32_t)r->rbx;
    pv->con.port = (unsigned)port;
    pv->ports[port].owner = PV_OWNER_CONSOLE;
    return HC_OK;
}

/* HC_BLK_SETUP: RBX = grant of the ring, RCX = a bound port no device
 * holds, RDX = disk number.  Returns the disk's size in sectors. */
long pv_hc_blk_setup(struct vcpu *v, const struct gprs *r)
{
    struct pv_domain *pv;
    uint8_t *page;
    long rc = setup_checks(v, r, &pv, &page);
    if (rc)
        return rc;
    bool readonly = false;
    struct img *img = r->rdx < VDEV_MAX ? vdev_disk(v->dom, (unsigned)r->rdx, &readonly) : NULL;
    if (!img)
        return HC_EINVAL;
    uint64_t port = r->rcx;
    struct pv_blk *b = &pv->blk;
    if (b->active)
        pv->ports[b->port].owner = PV_OWNER_NONE;
    /* A new ring starts empty, at the indices the guest's page has now
     * (the guest sets it up with both at 0, as Xen's front-ends do). */
    struct hvkit_blk_ring *ring = (struct hvkit_blk_ring *)page;
    *b = (struct pv_blk){
        .active = true,
        .readonly = readonly,
        .gref = (uint32_t)r->rbx,
        .port = (unsigned)port,
        .img = img,
        .sectors = img_size(img) / HVKIT_BLK_SECTOR,
        .req_cons = ring->req_prod,
        .rsp_prod = ring->req_prod,
    };
    ring->rsp_prod = b->rsp_prod;
    pv->ports[port].owner = PV_OWNER_BLK;
    return (long)b->sectors;
}
