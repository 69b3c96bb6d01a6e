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

#include "cpu.h"
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

void host_load_vcpu(struct host *h, struct vcpu *v)
{
    switch_to(h, v);
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
    /* Copy the vCPU in, VMRUN/VMRESUME, copy it out, decode the exit;
     * the time in between is the vCPU's CPU time (query commands show it;
     * hv's own work for the exit is not counted, as Xen counts only the
     * time a vCPU is scheduled). */
    uint64_t t0 = rdtsc();
    h->be->run(v, &e);
    v->run_tsc += rdtsc() - t0;
    /* A CR8 the guest wrote is the APIC's TPR from now on. */
    irq_after_exit(v);
    /* The count HC_EXIT_COUNT reports and the trace numbers lines by. */
    v->exit_count++;
    /* Emulate what caused the exit; may stop v's domain. */
    dispatch(v, &e);
}

/* A domain starts over from its image (a reset, or the restart action):
 * `what` says why in the log.  A domain that cannot be built again has
 * failed, and its next service destroys it. */
static void restart(struct domain *d, const char *what)
{
    char err[256];
    hv_log("domain %u: %s", d->id, what);
    if (domain_rebuild(d, err, sizeof(err)) < 0)
        domain_fail(d, "could not build the domain again: %s", err);
}

/* The action for a domain that has just ended, once: its on_poweroff,
 * on_reboot or on_crash (domain.h), as a line naming the option. */
static void end_action(struct host *h, struct domain *d)
{
    /* Which option decided, for the log line. */
    const char *opt = d->state == DOMAIN_CRASHED            ? "on_crash"
                      : d->state != DOMAIN_SHUTDOWN         ? NULL
                      : d->shutdown_reason == DOMAIN_REBOOT ? "on_reboot"
                                                            : "on_poweroff";
    enum domain_action act = domain_end_action(d);
    char what[DOMAIN_WHY_LEN + 64];
    switch (act) {
    case DOMAIN_ACTION_RESTART:
        ksnprintf(what, sizeof(what), "%s%s%s; restarting (%s=restart)",
                  d->shutdown_reason == DOMAIN_REBOOT && d->state == DOMAIN_SHUTDOWN
                      ? "rebooted"
                      : domain_state_name(d->state),
                  d->why[0] ? ": " : "", d->why, opt);
        restart(d, what);
        return;
    case DOMAIN_ACTION_PRESERVE:
        /* Kept for a front-end; only a destroy or a reset moves it on. */
        hv_log("domain %u %s%s%s; preserved (%s=preserve)", d->id, domain_state_name(d->state),
               d->why[0] ? ": " : "", d->why, opt);
        d->preserved = true;
        return;
    default:
        /* Its end logged, its memory back to the heap for the others
         * (ending.c). */
        host_domain_ended(h, d);
    }
}

/*
 * What the host asked for and what the domain's end calls for, between
 * exits, before the run loop next enters the domain: a destroy tears it
 * down; a reset builds it again (a paused domain stays paused, as QEMU's
 * system_reset leaves a stopped machine stopped); an end that has not been
 * acted on gets its action.
 */
static void service(struct host *h, struct domain *d)
{
    if (d->requests & DOMAIN_REQ_DESTROY) {
        d->requests = 0;
        d->preserved = false;
        if (!d->torn_down)
            host_domain_ended(h, d);
        return;
    }
    if (d->requests & DOMAIN_REQ_RESET) {
        bool paused = d->state == DOMAIN_PAUSED;
        d->requests &= ~DOMAIN_REQ_RESET;
        d->preserved = false;
        restart(d, "reset");
        if (paused && domain_running(d))
            d->state = DOMAIN_PAUSED;
        return;
    }
    if (domain_stopped(d) && !d->torn_down && !d->preserved)
        end_action(h, d);
}

/* The host goes on while a domain runs or is paused, or has work asked
 * for, or a control channel wants it to stay (hv.h). */
static bool host_busy(const struct host *h)
{
    if (h->stay)
        return true;
    for (const struct domain *d = h->domains; d; d = d->next)
        if (domain_running(d) || d->state == DOMAIN_PAUSED || d->requests)
            return true;
    return false;
}

/*
 * Run every domain until all have stopped.  Domains still CREATED start
 * running here (from now on their endings print statistics).  Returns when
 * no domain is running or paused any more; the caller then ends hv
 * (host_end).
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
        for (struct domain *d = h->domains; d; d = d->next) {
            /* One exit per vCPU per round, while the domain runs: a vCPU
             * that stops its domain keeps the others from entering. */
            for (unsigned i = 0; i < d->nr_vcpus && domain_running(d); i++)
                run_one_exit(h, d->vcpu[i]);
            /* Requests and ends, before anything enters it again. */
            service(h, d);
        }
        /* Work from outside the guests (a control channel). */
        if (h->poll)
            h->poll(h);
        if (!host_busy(h))
            return;
    }
}
