/*
 * run.c - the run loop: the scheduler carrying out its decisions
 * (sched.h), the guests' exits one by one, and the lifecycle work between
 * them, until every domain has stopped.
 *
 * This loop is the whole life of a hypervisor: enter the guest, come back
 * on an exit, emulate, enter again.  hv runs on one physical CPU, so its
 * vCPUs share it in time slices: the chosen vCPU runs exit after exit
 * until its slice is over, it halts (HLT: it blocks until its timer
 * fires), or its domain stops or is paused; then the next runnable vCPU in
 * round-robin order gets the CPU.  A guest that never exits is stopped at
 * the deadline by the backend (backend.h set_deadline: SVM's INTR
 * intercept with a host timer, VT-x's preemption timer), so it cannot
 * starve the others.  Between slices the loop carries out what the host
 * asked for (domain.h: pause, reset, destroy) and what a domain's end
 * calls for (its on_poweroff / on_reboot / on_crash action), and lets a
 * control channel poll (hv.h host->poll).  A domain stops by a change of
 * its run state, which handlers make and return from; the loop notices it
 * here.
 */
#include "klib.h"

#include "cpu.h"
#include "hv.h"
#include "ending.h"
#include "log.h"
#include "exitpath.h"
#include "fastpath.h"
#include "sched.h"
#include "smp.h"
#include "vcpustate.h"
#include "vdev.h"

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
    host_unload_vcpu(h);
    if (h->be->vcpu_load)
        h->be->vcpu_load(v);
    /* What the CPU holds for the guest unswitched: v's (vcpustate.h). */
    vcpu_cpu_regs_load(v);
    h->loaded = v;
}

/* See hv.h. */
void host_unload_vcpu(struct host *h)
{
    if (!h->loaded)
        return;
    vcpu_cpu_regs_put(h->loaded);
    if (h->be->vcpu_put)
        h->be->vcpu_put(h->loaded);
    h->loaded = NULL;
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
    /* What the exit fast path may assume until the backend returns. */
    fastpath_arm(v);
    /* Copy the vCPU in, VMRUN/VMRESUME, copy it out, decode the exit;
     * the time in between is the vCPU's CPU time (query commands show it;
     * hv's own work for the exit is not counted, as Xen counts only the
     * time a vCPU is scheduled). */
    uint64_t t0 = rdtsc();
    h->be->run(v, &e);
    v->run_tsc += rdtsc() - t0;
    /* The exits the fast path took meanwhile, into the statistics. */
    fastpath_account(v);
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
 * for, or a control channel wants it to stay (hv.h).  A domain kept by
 * the preserve action keeps the host going too when a control channel
 * can still reach it (h->reachable): as on Xen, it stays listed, crashed
 * or shut down, until the host destroys or resets it.  Without a control
 * channel nobody could, so hv ends as when the last guest ends. */
static bool host_busy(const struct host *h)
{
    if (h->stay)
        return true;
    for (const struct domain *d = h->domains; d; d = d->next) {
        if (domain_running(d) || d->state == DOMAIN_PAUSED || d->requests)
            return true;
        if (d->preserved && h->reachable)
            return true;
    }
    return false;
}

/* Every vCPU of every domain in the host's order, for round robin; their
 * number.  At most HV_DOMAINS_MAX domains of DOMAIN_MAX_VCPUS each. */
#define RUN_MAX_VCPUS (HV_DOMAINS_MAX * DOMAIN_MAX_VCPUS)
static unsigned all_vcpus(struct host *h, struct vcpu **all)
{
    unsigned n = 0;
    for (struct domain *d = h->domains; d; d = d->next)
        for (unsigned i = 0; i < d->nr_vcpus && n < RUN_MAX_VCPUS; i++)
            all[n++] = d->vcpu[i];
    return n;
}

/* Wake the blocked vCPUs of running domains whose timer has fired (or
 * that have an interrupt pending).  Returns true if one woke.  A paused
 * domain's vCPUs are left alone: its timers' edges are seen on unpause. */
static bool wake_blocked(struct vcpu **all, unsigned n)
{
    bool woke = false;
    for (unsigned i = 0; i < n; i++) {
        struct vcpu *w = all[i];
        if (!w->blocked || !domain_running(w->dom))
            continue;
        /* Input for its virtio-console may be what it waits for: it
         * raises the device's interrupt (core/vdev.c). */
        vdev_console_poll(w->dom);
        if (irq_wakeup(w)) {
            w->blocked = false;
            woke = true;
        }
    }
    return woke;
}

/* What the slice of `v` must make way for: whether another vCPU is
 * runnable (then the slice's end matters), and in *wake the earliest host
 * TSC at which a blocked vCPU's timer fires (UINT64_MAX: none). */
static bool others_waiting(struct vcpu *v, struct vcpu **all, unsigned n, uint64_t *wake)
{
    bool runnable = false;
    *wake = UINT64_MAX;
    for (unsigned i = 0; i < n; i++) {
        struct vcpu *w = all[i];
        /* An AP waiting for its SIPI, or stopped, neither runs nor wakes. */
        if (w == v || !domain_running(w->dom) || w->mp_state != VCPU_MP_RUNNING)
            continue;
        if (!w->blocked)
            runnable = true;
        else
            *wake = sched_earliest(*wake, irq_next_event(w), UINT64_MAX);
    }
    return runnable;
}

/*
 * Run `v` for one time slice: exit after exit until the slice is over
 * while others wait, a blocked vCPU's timer fires, `v` halts, or its
 * domain stops or is paused.  Before each entry the backend gets the
 * deadline by which the guest must exit even if it never would: the
 * guest's own next timer event, the end of the slice when the CPU is
 * shared (or a control channel needs the loop back), and the earliest
 * wake-up of a blocked vCPU (sched.h).
 */
static void run_slice(struct host *h, struct vcpu *v, struct vcpu **all, unsigned n)
{
    uint64_t wake, end = rdtsc() + h->tslice;
    /* The slice's end only matters if someone else needs the CPU. */
    uint64_t share = others_waiting(v, all, n, &wake) || h->poll ? end : UINT64_MAX;
    /* A scripted power-button press is due then (powerdown-after=). */
    wake = sched_earliest(wake, h->powerdown_at, UINT64_MAX);
    h->last_run = v;
    h->resched = false;
    /* An AP a STARTUP IPI started: its real-mode start state, now that
     * its control structure is the loaded one (core/smp.c). */
    if (v->start_pending) {
        switch_to(h, v);
        if (!smp_start(v))
            return;
    }
    while (sched_runnable(v)) {
        v->deadline = sched_earliest(irq_next_event(v), share, wake);
        if (h->be->set_deadline)
            h->be->set_deadline(v, v->deadline);
        run_one_exit(h, v);
        /* The exit made another vCPU runnable (an IPI, a SIPI): from now
         * on the slice ends on time. */
        if (h->resched) {
            h->resched = false;
            share = end;
        }
        uint64_t now = rdtsc();
        /* A blocked vCPU's timer came, or the slice is over. */
        if (now >= wake || now >= share)
            return;
    }
}

/* How long hv keeps spinning after its control channel brought work
 * (hv.h host->poll): the next request of a burst (the pages of a save, a
 * front-end's queries one after the other) comes within this, and
 * halting in between would add up to a nap to each of them. */
#define IDLE_BUSY_MS 5

/* The longest nap: how soon a halted hv looks again at what comes
 * without a timer of its own, a control channel's request or input for a
 * guest's console (irq.c, vdev.c). */
#define IDLE_NAP_US 1000

/* Let a control channel poll, remembering when it last found work. */
static void poll_host(struct host *h)
{
    if (h->poll && h->poll(h))
        h->poll_work_at = rdtsc();
}

/* Wait a little, until about `until` at most: halt the host CPU (the
 * backend's host_wait) for up to IDLE_NAP_US, or spin once with PAUSE --
 * which tells the CPU, or the outer hypervisor, that this is a spin
 * loop -- when idle=spin asks for it (cmdline.h), a burst of requests is
 * under way, or the backend cannot halt on this machine.  A halted CPU leaves
 * the host it runs on free: under an emulator, an idle guest no longer
 * costs a whole core. */
static void nap(struct host *h, uint64_t until)
{
    uint64_t now = rdtsc(), hz = irq_tsc_hz();
    bool busy = h->poll && now - h->poll_work_at < hz / 1000 * IDLE_BUSY_MS;
    uint64_t soon = now + hz / 1000000 * IDLE_NAP_US;
    if (h->opt.idle_spin || busy || !h->be->host_wait ||
        !h->be->host_wait(until < soon ? until : soon))
        __asm__ volatile("pause");
}

/* Nothing can run: every vCPU waits in HLT, or its domain is paused or has
 * ended.  Wait (as a halted CPU would) until a blocked vCPU's timer fires
 * or domain 0's power button is due; with a control channel, one nap and
 * its poll, and back to the run loop, since a request may change
 * everything.  Return at once when nothing is blocked and nobody could
 * ask for anything (the caller decides whether the host has anything
 * left). */
static void idle(struct host *h, struct vcpu **all, unsigned n)
{
    bool any_blocked = false;
    uint64_t wake = h->powerdown_at;
    for (unsigned i = 0; i < n; i++) {
        if (!all[i]->blocked || !domain_running(all[i]->dom))
            continue;
        any_blocked = true;
        wake = sched_earliest(wake, irq_next_event(all[i]), UINT64_MAX);
    }
    if (!any_blocked && !h->poll)
        return;
    while (!wake_blocked(all, n) && rdtsc() < h->powerdown_at) {
        nap(h, wake);
        if (h->poll) {
            poll_host(h);
            return;
        }
    }
}

/* powerdown-after=: press domain 0's power button once its time has come
 * (cmdline.h), as a control channel's request would. */
static void scripted_powerdown(struct host *h)
{
    if (rdtsc() < h->powerdown_at)
        return;
    h->powerdown_at = UINT64_MAX;
    hv_log("domain 0: power button pressed (powerdown-after=%u)", h->opt.powerdown_after_ms);
    if (domain_request_powerdown(h->domains) < 0)
        hv_log("domain 0 has ended: nobody to press it for");
}

/*
 * Run every domain until all have stopped.  Domains still CREATED start
 * running here (from now on their endings print statistics).  Returns when
 * no domain is running or paused any more and no control channel keeps
 * the host up; the caller then ends hv (host_end).
 */
EXIT_PATH void host_run(struct host *h)
{
    static struct vcpu *all[RUN_MAX_VCPUS];
    /* The slice in TSC ticks, from milliseconds (tslice=). */
    h->tslice = irq_tsc_hz() / 1000 * h->opt.tslice_ms;
    /* The scripted press, if asked for, counted from now. */
    h->powerdown_at = h->opt.powerdown_after_ms
                          ? rdtsc() + irq_tsc_hz() / 1000 * h->opt.powerdown_after_ms
                          : UINT64_MAX;
    for (struct domain *d = h->domains; d; d = d->next) {
        if (d->state != DOMAIN_CREATED)
            continue;
        /* `paused` (QEMU's -S): it waits for a control channel's cont. */
        d->state = h->opt.paused && h->opt.ctl ? DOMAIN_PAUSED : DOMAIN_RUNNING;
        /* Nothing would ever stop a domain without a vCPU: the loop below
         * would spin for ever. */
        if (d->nr_vcpus == 0)
            domain_fail(d, "domain %u has no vCPU", d->id);
    }
    for (;;) {
        /* The vCPUs now (a rebuilt domain keeps its vCPU structs). */
        unsigned n = all_vcpus(h, all);
        /* Timers that fired for halted vCPUs make them runnable. */
        wake_blocked(all, n);
        /* Round robin from the vCPU that ran last (sched.c). */
        int last = -1;
        for (unsigned i = 0; i < n; i++)
            if (all[i] == h->last_run)
                last = (int)i;
        int next = sched_pick(all, n, last);
        if (next >= 0)
            run_slice(h, all[next], all, n);
        /* Requests and ends, before anything enters a domain again. */
        for (struct domain *d = h->domains; d; d = d->next)
            service(h, d);
        /* Work from outside the guests (a control channel, a scripted
         * press of the power button). */
        poll_host(h);
        scripted_powerdown(h);
        if (!host_busy(h))
            return;
        /* Nobody could run: wait for a timer. */
        if (next < 0)
            idle(h, all, n);
    }
}

/* See hv.h: the TSC ticks spent in guest mode, in nanoseconds. */
uint64_t vcpu_cpu_time_ns(const struct vcpu *v)
{
    return sched_ticks_to_ns(v->run_tsc, irq_tsc_hz());
}

/* See hv.h: Xen's and libvirt's cpu_time of a domain is its vCPUs'
 * sum. */
uint64_t domain_cpu_time_ns(const struct domain *d)
{
    uint64_t ticks = 0;
    for (unsigned i = 0; i < d->nr_vcpus; i++)
        ticks += d->vcpu[i]->run_tsc;
    return sched_ticks_to_ns(ticks, irq_tsc_hz());
}
