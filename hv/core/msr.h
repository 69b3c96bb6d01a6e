/*
 * msr.h - the MSRs the core emulates for the guest.  The backend lets the
 * guest reach the MSRs it switches in hardware (SVM: the VMLOAD/VMSAVE set;
 * see hv/svm/vcpu.c) and sends every other RDMSR/WRMSR here.
 */
#ifndef HV_CORE_MSR_H
#define HV_CORE_MSR_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

/*
 * RDMSR/WRMSR of `index` by the guest.  Return true when done (the value in
 * *value for a read), false when a real CPU would raise #GP(0): an MSR hv
 * does not model, or a write of an illegal value (reserved EFER bits,
 * EFER.SVME with SVM hidden, EFER.LME while paging is on, a bad PAT type).
 *   EFER (0xC0000080): the guest's own value, vcpu->efer;
 *   PAT (0x277): vcpu->pat;
 *   TSC (0x10): read passes the host's TSC (no offset); writes are refused.
 */
bool msr_read(struct vcpu *v, uint32_t index, uint64_t *value);
bool msr_write(struct vcpu *v, uint32_t index, uint64_t value);

#endif
