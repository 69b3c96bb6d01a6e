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
 *   TSC (0x10) and IA32_TSC_ADJUST (0x3b): the host's TSC plus
 *     vcpu->tsc_offset, which writes to either move;
 *   IA32_MISC_ENABLE (0x1a0), IA32_DS_AREA (0x600): plain registers in the
 *     vcpu (DS_AREA must be canonical);
 *   the performance-monitoring MSRs (Intel's PMCs, event selects, fixed
 *     counters, PERF_CAPABILITIES and global controls; AMD's legacy and
 *     extended counters): read 0, writes ignored, as QEMU's TCG answers.
 * The local APIC's MSRs (IA32_APIC_BASE, x2APIC, TSC deadline) belong to
 * the APIC model (dev/lapic.h), which the dispatcher asks first.
 */
bool msr_read(struct vcpu *v, uint32_t index, uint64_t *value);
bool msr_write(struct vcpu *v, uint32_t index, uint64_t value);

/* IA32_MISC_ENABLE at reset, as QEMU sets it for a CPU whose CPUID leaf 1
 * ECX is `cpuid1_ecx`. */
uint64_t msr_misc_enable_reset(uint32_t cpuid1_ecx);

#endif
