/*
 * cpuid.h - what the guest learns from CPUID.  Compiled hosted too
 * (tests/unit/test_hv_core.c).
 */
#ifndef HV_CORE_CPUID_H
#define HV_CORE_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"

/*
 * Turn the host's answer `r` to CPUID(leaf, subleaf) into the guest's:
 *  - leaf 1 ECX bit 31 set: "a hypervisor is present" (reserved for this use
 *    by both vendors); VMX (ECX bit 5) and PDCM (bit 15) hidden; x2APIC
 *    (bit 21) and the TSC-deadline timer (bit 24) offered, as hv's local
 *    APIC has them;
 *  - leaf 7 subleaf 0 ECX bit 31 (PKS) hidden; leaf 0xA (performance
 *    monitoring) all zero;
 *  - leaf 0x80000001 ECX bit 2 (SVM) and the extended performance counter
 *    bits (23, 24, 28) cleared and leaf 0x8000000A (the SVM features) all
 *    zero: the guest cannot nest and has no counters;
 *  - leaves 0x40000000-0x400000FF: hv's own (include/hvkit/abi.h):
 *    0x40000000 = highest leaf and the "hvkithvkithv" signature,
 *    0x40000001 EAX = HVKIT_ABI_VERSION, ECX = `features` (HVKIT_FEATURE_*),
 *    the rest zero.
 */
void cpuid_policy(uint32_t leaf, uint32_t subleaf, uint32_t features, struct cpuid_regs *r);

/* Leaf 1 and 0x80000001 bits that follow the guest's state. */
struct cpuid_state {
    bool osxsave;     /* guest CR4.OSXSAVE */
    bool apic;        /* IA32_APIC_BASE.EN: the local APIC is on */
    uint32_t apic_id; /* the initial APIC ID */
};

/* Apply `s` to the answer for `leaf`: leaf 1 ECX bit 27 (OSXSAVE) as the
 * guest's CR4.OSXSAVE, EDX bit 9 (APIC) as IA32_APIC_BASE.EN, EBX bits
 * 31:24 the APIC ID; leaf 0x80000001 EDX bit 9 (APIC) likewise. */
void cpuid_guest_state(uint32_t leaf, const struct cpuid_state *s, struct cpuid_regs *r);

/* CPUID bits the core edits (SDM vol 2A "CPUID", tables 3-10, 3-11, 3-8). */
#define CPUID1_ECX_VMX          (1u << 5)
#define CPUID1_ECX_PDCM         (1u << 15)
#define CPUID1_ECX_X2APIC       (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_ECX_XSAVE        (1u << 26)
#define CPUID1_ECX_OSXSAVE      (1u << 27)
#define CPUID_EDX_APIC          (1u << 9)
#define CPUID7_ECX_PKS          (1u << 31)

#endif
