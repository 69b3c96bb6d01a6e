/*
 * sched.c - the scheduler's decisions (see sched.h); the run loop in
 * run.c carries them out.  Compiled hosted too (tests/unit/test_hv_sched.c).
 */
#include "sched.h"

/* Round robin over the vCPUs in the host's order (domain by domain, vCPU
 * by vCPU): start just after the one that ran last, so every runnable
 * vCPU gets its turn before any gets a second. */
int sched_pick(struct vcpu *const *all, unsigned n, int last)
{
    /* LAB 05: BEGIN sched-pick (labs/05-domains-and-the-monitor, exercise 1) */
    /* LAB 05: HINT all[0..n) are every domain's vCPUs; `last` is the index
     * of the one that ran last (-1 before the first pick).  Return the
     * index of the first vCPU after `last`, going round (after n - 1
     * comes 0, and `last` itself is looked at last, so a vCPU alone keeps
     * the CPU), that may run now: sched_runnable() (sched.h) says so.
     * Return -1 when none may run (n = 0 included): run.c then waits for
     * a timer.  The skeleton always gives the CPU to vCPU 0, so a second
     * domain never runs. */
    /* LAB 05: STUB (void)all; */
    /* LAB 05: STUB (void)last; */
    /* LAB 05: STUB return n ? 0 : -1; */
    /* No vCPU at all (and no division by zero below). */
    if (n == 0)
        return -1;
    /* i counts the candidates looked at; the first is last + 1. */
    for (unsigned i = 1; i <= n; i++) {
        /* Going round: after the last index comes 0.  With last = -1 the
         * first candidate is index 0, the last one n - 1. */
        unsigned k = (unsigned)((last + (int)i) % (int)n);
        if (sched_runnable(all[k]))
            return (int)k;
    }
    /* Every vCPU is blocked, or its domain is paused or has ended. */
    return -1;
    /* LAB 05: END */
}

/* The smallest of three; UINT64_MAX ("never") loses to any time. */
uint64_t sched_earliest(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Whole seconds and the rest apart, as irq.c's clocks do: ticks * 1e9
 * alone would overflow after about 18 s of a 1 GHz clock. */
uint64_t sched_ticks_to_ns(uint64_t ticks, uint64_t hz)
{
    if (hz == 0)
        return 0;
    return ticks / hz * 1000000000ull + ticks % hz * 1000000000ull / hz;
}
