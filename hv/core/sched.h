/*
 * sched.h - the scheduler's decisions, as pure functions: which vCPU runs
 * next, and until when (sched.c).  The run loop (run.c) carries them out:
 * it runs the chosen vCPU exit after exit for a time slice, has the backend
 * force an exit at the deadline (backend.h set_deadline), blocks a vCPU
 * that halts and wakes it when its timer fires.
 *
 * The policy is round robin with a fixed quantum, the simplest fair one
 * (each runnable vCPU gets the CPU in turn, for at most tslice= ms), plus
 * two rules that keep guests' time right:
 *   - a vCPU whose own timer (PIT, APIC timer) is due gets an exit then,
 *     so that a guest spinning without exits still takes its timer
 *     interrupt on time (without the exit hv would look at the timers only
 *     at the guest's next exit, which may never come);
 *   - a blocked vCPU (in HLT) whose timer fires ends the running vCPU's
 *     slice early, so that an idle guest's tick is not held up for a whole
 *     quantum by a busy one (Xen's credit scheduler gives a waking vCPU
 *     the same kind of boost).
 *
 * Compiled hosted too (tests/unit/test_hv_sched.c).
 */
#ifndef HV_CORE_SCHED_H
#define HV_CORE_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "domain.h"

/* May the vCPU run now: its domain runs (and no commit of its disks holds
 * it, domain.h `held`), it does not wait in HLT, and it
 * is not an application processor waiting for its start or a CPU halted
 * for good (vcpu.h mp_state, core/smp.c). */
static inline bool sched_runnable(const struct vcpu *v)
{
    return domain_running(v->dom) && !v->dom->held && !v->blocked && v->mp_state == VCPU_MP_RUNNING;
}

/* Round robin: the index of the first runnable vCPU of all[0..n) after
 * index `last`, going round (last itself comes last, so a vCPU alone
 * keeps the CPU); `last` = -1 starts at 0.  -1 when none is runnable. */
int sched_pick(struct vcpu *const *all, unsigned n, int last);

/* The earliest of three host TSC values, UINT64_MAX meaning "never": the
 * deadline of a run of the guest (its own next timer event, the end of
 * its slice if it has to share the CPU, the earliest wake-up of a blocked
 * vCPU). */
uint64_t sched_earliest(uint64_t a, uint64_t b, uint64_t c);

/* `ticks` of a clock running at `hz` in nanoseconds, without overflowing
 * (CPU times for query commands). */
uint64_t sched_ticks_to_ns(uint64_t ticks, uint64_t hz);

#endif
