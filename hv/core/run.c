/*
 * run.c - the run loop: enter the guests' vCPUs one exit at a time until
 * every domain has stopped.
 *
 * This loop is the whole life of a hypervisor: enter the guest, come back
 * on an exit, emulate, enter again.  hv runs on one physical CPU and polls,
 * so it takes the domains' vCPUs in turn, one exit each: a vCPU that exits
 * often (port I/O) and one that rarely does both make progress, and a
 * domain that stops leaves the others running.  A domain stops by a
 * change of its run state (domain.h), which handlers make and return from;
 * the loop notices it here.
 */
#include "klib.h"

#include "hv.h"
#include "ending.h"
#include "log.h"
#include "exitpath.h"

/* Append `d` to the host's list: the first domain added is the one whose
 * end becomes hv's last line (ending.c). */
void host_add_domain(struct host *h, struct domain *d)
{
    struct domain **p = &h->domains;
    while (*p)
        p = &(*p)->next;
    *p = d;
    d->next = NULL;
    h->nr_domains++;
}

/* Make `v` the vCPU the CPU runs (backend->vcpu_load), putting away the
 * one that was, when they differ: with one vCPU this happens once. */
static void switch_to(struct host *h, struct vcpu *v)
{
    if (h->loaded == v)
        return;
    if (h->loaded && h->be->vcpu_put)
        h->be->vcpu_put(h->loaded);
    if (h->be->vcpu_load)
        h->be->vcpu_load(v);
    h->loaded = v;
}

/* One world switch of `v` and the handling of its exit. */
static void run_one_exit(struct host *h, struct vcpu *v)
{
    /* The vendor-neutral description of one exit (core/exit.h). */
    struct exit_info e;
    /* Its control structure current, before anything edits it. */
    switch_to(h, v);
    /* Deliver a pending interrupt, or ask to hear when it can be. */
    irq_before_entry(v);
    /* Copy the vCPU in, VMRUN/VMRESUME, copy it out, decode the exit. */
    h->be->run(v, &e);
    /* A CR8 the guest wrote is the APIC's TPR from now on. */
    irq_after_exit(v);
    /* The count HC_EXIT_COUNT reports and the trace numbers lines by. */
    v->exit_count++;
    /* Emulate what caused the exit; may stop v's domain. */
    dispatch(v, &e);
}

/*
 * Run every domain until all have stopped.  Domains still CREATED start
 * running here (from now on their endings print statistics).  Returns when
 * no domain is running any more; the caller then ends hv (host_end).
 */
EXIT_PATH void host_run(struct host *h)
{
    for (struct domain *d = h->domains; d; d = d->next) {
        if (d->state != DOMAIN_CREATED)
            continue;
        d->state = DOMAIN_RUNNING;
        /* Nothing would ever stop a domain without a vCPU: the loop below
         * would spin for ever. */
        if (d->nr_vcpus == 0)
            domain_fail(d, "domain %u has no vCPU", d->id);
    }
    for (;;) {
        /* Did any domain still run in this round? */
        bool any = false;
        for (struct domain *d = h->domains; d; d = d->next) {
            /* One exit per vCPU per round, while the domain runs: a vCPU
             * that stops its domain keeps the others from entering. */
            for (unsigned i = 0; i < d->nr_vcpus && domain_running(d); i++)
                run_one_exit(h, d->vcpu[i]);
            /* A domain that stopped: its end logged, its memory back to the
             * heap for the others (ending.c). */
            if (domain_stopped(d) && !d->torn_down)
                host_domain_ended(h, d);
            any |= domain_running(d);
        }
        if (!any)
            return;
    }
}
