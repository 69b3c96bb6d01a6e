/*
 * pv_vcpu.c - vCPU hot-plug (include/hvkit/pv.h "vCPU hot-plug"): the
 * host says how many of the domain's vCPUs the guest may run, and the
 * guest brings them up or takes them down itself.
 *
 * Why the guest does it: a hypervisor cannot take a CPU away from a
 * running operating system by itself, because only the guest knows what
 * that CPU is doing (its threads, its interrupts, its per-CPU data); nor
 * can it give one, because a CPU the guest does not know of does
 * nothing.  So Xen asks: `xl vcpu-set` writes the new count where the
 * guest's kernel watches, and the kernel starts CPUs or winds them down
 * and tells Xen (VCPUOP_down).  hv does the same with an event channel
 * and two calls: the domain's available mask (domain.h vcpu_avail), a
 * port signalled when it changes, and the AP's "I am going" (smp.c's
 * smp_vcpu_down).  vCPUs that are offline are never scheduled, so they
 * use no CPU time.
 */
#include "klib.h"

#include "hv.h"
#include "log.h"
#include "pv.h"
#include "smp.h"

/* HC_VCPU_AVAIL: RBX = port to signal on a change (0: none) -> the mask.
 * The first call tells hv the guest follows the host's count (the control
 * protocol may change it from then on). */
long pv_hc_vcpu_avail(struct vcpu *v, const struct gprs *r)
{
    struct pv_domain *pv = pv_get(v->dom);
    if (!pv)
        return HC_ENOMEM;
    if (r->rbx) {
        if (r->rbx >= HVKIT_EVTCHN_PORTS || !pv->ports[r->rbx].bound)
            return HC_EINVAL;
        pv->vcpu_port = (unsigned)r->rbx;
    }
    pv->vcpu_driver = true;
    return (long)domain_vcpus_available(v->dom);
}

/* HC_VCPU_DOWN: the calling AP goes offline; the guest's next word to it
 * is a STARTUP IPI.  RAX is written, but the vCPU's registers are loaded
 * afresh at that start, so only a refusal is ever seen. */
long pv_hc_vcpu_down(struct vcpu *v, const struct gprs *r)
{
    (void)r;
    return smp_vcpu_down(v) ? HC_OK : HC_EINVAL;
}

int pv_vcpu_set(struct domain *d, unsigned count)
{
    unsigned n = d->nr_vcpus;
    if (count < 1 || count > n)
        return -1;
    uint32_t mask = domain_vcpu_mask(count);
    /* The count it has: nothing to tell, and no guest support needed, as
     * libxl accepts it for any guest. */
    if (mask == domain_vcpus_available(d))
        return 0;
    struct pv_domain *pv = d->pv;
    if (!pv || !pv->vcpu_driver)
        return -2;
    d->vcpu_avail = mask;
    if (d->host->opt.trace)
        hv_log("domain %u: %u of %u vCPUs available", d->id, count, n);
    /* vCPU 0 takes the event, as the balloon's (pv_balloon.c). */
    if (pv->vcpu_port)
        pv_evtchn_signal(d->vcpu[0], pv->vcpu_port);
    return 0;
}
