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
