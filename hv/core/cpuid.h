/*
 * cpuid.h - what the guest learns from CPUID.  Compiled hosted too
 * (tests/unit/test_hv_core.c).
 */
#ifndef HV_CORE_CPUID_H
#define HV_CORE_CPUID_H

#include <stdint.h>

#include "cpu.h"

/*
 * Turn the host's answer `r` to CPUID(leaf, subleaf) into the guest's:
 *  - leaf 1 ECX bit 31 set: "a hypervisor is present" (reserved for this use
 *    by both vendors); VMX (ECX bit 5), x2APIC (ECX bit 21) and the APIC
 *    (EDX bit 9) hidden, since hv provides neither VMX nor an APIC;
 *  - leaf 0x80000001 ECX bit 2 (SVM) cleared and leaf 0x8000000A (the SVM
 *    features) all zero: the guest cannot nest;
 *  - leaves 0x40000000-0x400000FF: hv's own (include/hvkit/abi.h):
 *    0x40000000 = highest leaf and the "hvkithvkithv" signature,
 *    0x40000001 EAX = HVKIT_ABI_VERSION, ECX = `features` (HVKIT_FEATURE_*),
 *    the rest zero.
 */
void cpuid_policy(uint32_t leaf, uint32_t subleaf, uint32_t features, struct cpuid_regs *r);

#endif
