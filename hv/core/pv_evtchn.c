/*
 * pv_evtchn.c - event channels (include/hvkit/pv.h): how hv and a guest
 * tell each other "look at the ring" without a device register.
 *
 * The guest binds a port to an interrupt vector.  To signal the guest, hv
 * sets the port's bit in the shared page's pending word and, if the bit
 * was clear and the port is not masked, injects the vector through the
 * vCPU's local APIC as a fixed, edge-triggered interrupt -- the way Xen
 * delivers its event-channel upcall to HVM guests on a vector.  Pending
 * bits collapse: ten signals before the guest looks are one interrupt, so
 * a busy back-end costs the guest one interrupt per batch, not per event.
 * The other direction is a hypercall (HC_EVTCHN_SEND, pv_calls.c).
 *
 * Ports hold no pointer into guest memory: the shared page is found by its
 * guest-physical address at every signal, through gmem_write_ptr() (gmem.h),
 * so a page the guest made read-only or that is no longer RAM is refused,
 * never written.
 */
#include "klib.h"

#include "pv.h"

/* Vectors 0-31 are the CPU's exceptions; the APIC refuses 0-15 as illegal
 * anyway (SDM vol 3A 11.5.2 "Valid Interrupt Vectors"). */
#define FIRST_VECTOR 32u

long pv_evtchn_bind(struct pv_domain *pv, uint64_t port, uint64_t vector)
{
    /* Port 0 is reserved, as in Xen, so that 0 can mean "none". */
    if (port == 0 || port >= HVKIT_EVTCHN_PORTS || vector < FIRST_VECTOR || vector > 255)
        return HC_EINVAL;
    struct pv_port *p = &pv->ports[port];
    /* Rebinding a port in use would silently take it from its device. */
    if (p->bound)
        return HC_EINVAL;
    p->bound = true;
    p->vector = (uint8_t)vector;
    p->owner = PV_OWNER_NONE;
    return HC_OK;
}

long pv_evtchn_close(struct pv_domain *pv, uint64_t port)
{
    if (port == 0 || port >= HVKIT_EVTCHN_PORTS || !pv->ports[port].bound)
        return HC_EINVAL;
    /* The device on the port stops: it would have no way to signal. */
    if (pv->ports[port].owner == PV_OWNER_CONSOLE)
        pv->con.active = false;
    if (pv->ports[port].owner == PV_OWNER_BLK)
        pv->blk.active = false;
    pv->ports[port] = (struct pv_port){0};
    return HC_OK;
}

long pv_evtchn_signal(struct vcpu *v, unsigned port)
{
    struct domain *d = v->dom;
    struct pv_domain *pv = d->pv;
    if (!pv || port == 0 || port >= HVKIT_EVTCHN_PORTS || !pv->ports[port].bound)
        return HC_EINVAL;
    if (!pv->shared_set)
        return HC_EFAULT;
    volatile struct hvkit_shared *s =
        gmem_write_ptr(&d->mem, pv->shared_gpa, sizeof(struct hvkit_shared));
    if (!s)
        return HC_EFAULT;
    uint64_t bit = 1ull << port;
    pv->events++;
    /* Atomic like the guest's own clearing: with one vCPU running only
     * when hv is not, a plain OR would do, but the rule the guest follows
     * should be the one that stays right with more vCPUs. */
    uint64_t old = __atomic_fetch_or(&s->evtchn_pending, bit, __ATOMIC_SEQ_CST);
    /* Already pending: the guest has not looked yet and will see this one
     * too.  Masked: the guest said not now; it looks when it unmasks. */
    if ((old & bit) || (s->evtchn_mask & bit))
        return HC_OK;
    /* A fixed, edge-triggered message to this vCPU's own APIC, as an MSI
     * would be (SDM vol 3A 11.6.2 "Determining IPI Destination"); the APIC
     * orders it by priority against the guest's other interrupts and the
     * core injects it at the next entry when RFLAGS.IF allows (irq.c). */
    struct apic_msg m = {
        .dest = v->lapic.id,
        .logical = false,
        .mode = APIC_DM_FIXED,
        .vector = pv->ports[port].vector,
        .level = false,
    };
    lapic_bus_deliver(&v->lapic, &m);
    pv->injections++;
    /* The APIC changed: irq.c must look again before the next entry. */
    d->irq_epoch++;
    return HC_OK;
}
