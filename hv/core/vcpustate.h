/*
 * vcpustate.h: a vCPU's whole architectural state in and out (vcpustate.c),
 * for savevm/loadvm and the monitor's registers.  Both return 0, or -1
 * with the reason in err when the backend cannot (no get_state/set_state).
 */
#ifndef HV_CORE_VCPUSTATE_H
#define HV_CORE_VCPUSTATE_H

#include <stddef.h>

#include "cpustate.h"

int vcpu_get_cpu_state(struct vcpu *v, struct cpu_state *c, char *err, size_t err_len);
int vcpu_set_cpu_state(struct vcpu *v, const struct cpu_state *c, char *err, size_t err_len);
/* vcpu_set_cpu_state() without DR0-DR3 and the x87/SSE registers, which
 * stay in the CPU for whichever vCPU runs next: starting an AP in a
 * domain whose other vCPUs run (core/smp.c) must leave them alone. */
int vcpu_set_arch_state(struct vcpu *v, const struct cpu_state *c, char *err, size_t err_len);

/* The vCPU gives up the CPU: the x87/SSE registers, DR0-DR3, XCR0 and the
 * AVX state, and what the backend's world switch does not keep (CR2, DR6,
 * the system-call MSRs: backend.h `keeps`) into its struct vcpu; and takes
 * it: them back into the CPU (a vCPU that never ran gets the state of a
 * reset).  The run loop's switch
 * between vCPUs (run.c) and the building of a vCPU (build.c) call them. */
void vcpu_cpu_regs_put(struct vcpu *v);
void vcpu_cpu_regs_load(struct vcpu *v);

#endif
