/*
 * smp.h - several vCPUs in one domain, as a PC has several processors
 * (smp.c): the IPIs between their local APICs, the INIT-SIPI-SIPI start
 * of the application processors, and what halting means when there are
 * others to wake a CPU.
 */
#ifndef HV_CORE_SMP_H
#define HV_CORE_SMP_H

#include <stdbool.h>

#include "vcpu.h"

/* Wire the vCPU's local APIC to the domain's other CPUs: IPIs it sends
 * go through smp.c.  An application processor (id > 0) waits for its
 * STARTUP IPI (vcpu->mp_state). */
void smp_vcpu_init(struct vcpu *v);

/* A SIPI arrived for `v` (start_pending): load its start state, real
 * mode at the SIPI vector's page (SDM vol 3A 9.4.4.2 "Typical AP
 * Initialization Sequence").  The run loop calls it with `v` loaded,
 * before `v` next runs.  Returns false (the domain failed) when the
 * backend cannot load a whole vCPU state. */
bool smp_start(struct vcpu *v);

/* HLT with IF=0: with another vCPU of the domain still running, `v`
 * stops until an INIT (true); false when it was the last one, which
 * nothing can wake (the caller ends the domain). */
bool smp_park(struct vcpu *v);

/* Could another vCPU of the domain wake `v` with an IPI (one is
 * scheduled and not waiting in HLT itself)?  Then HLT with IF=1 blocks
 * even when no timer of `v` runs (irq.c). */
bool smp_may_wake(const struct vcpu *v);

/* vCPU hot-plug (include/hvkit/pv.h): `v`, an application processor,
 * goes offline at the guest's word (HC_VCPU_DOWN): back to the
 * wait-for-SIPI state of an AP after an INIT, never scheduled, until the
 * guest starts it again.  False for the BSP, which cannot. */
bool smp_vcpu_down(struct vcpu *v);

/* Is `v` online: the BSP, or an AP the guest started and has not taken
 * down (the front-ends' vCPU lists; Xen's "online")? */
static inline bool smp_vcpu_online(const struct vcpu *v)
{
    return v->id == 0 || v->mp_state != VCPU_MP_WAIT_SIPI;
}

#endif
