/*
 * cpuid.c - the guest's CPUID (see cpuid.h).  SDM vol 2A "CPUID" and AMD APM
 * vol 3 appendix E "Obtaining Processor Information Via the CPUID Instruction" list the bits named
 * here.
 */
#include "hvkit/abi.h"

#include "cpuid.h"
#include "exitpath.h"

/*
 * Edit the host's CPUID answer `r` for `leaf` into what the guest may see,
 * for the dispatcher's CPUID exit.  `features` is the value of hv's feature
 * leaf (HVKIT_FEATURE_*).  Pure: compiled hosted and unit tested.  The rule
 * is "hide what hv does not virtualize": a guest that believed CPUID and
 * used a hidden feature would otherwise fault or escape the emulation.
 */
EXIT_PATH void cpuid_policy(uint32_t leaf, uint32_t subleaf, uint32_t features,
                            struct cpuid_regs *r)
{
    /* The hypervisor range (the convention KVM, Xen and Hyper-V follow):
     * these leaves are ours whatever the host says about them. */
    if (leaf >= HVKIT_CPUID_BASE && leaf <= HVKIT_CPUID_BASE + 0xff) {
        /* Leaves of the range hv does not define read as zeros. */
        r->eax = r->ebx = r->ecx = r->edx = 0;
        /* LAB 01: BEGIN cpuid-signature (labs/01-trap-and-emulate, exercise 2) */
        /* LAB 01: HINT Leaf HVKIT_CPUID_BASE answers the highest hypervisor
         * leaf in EAX and the signature "hvkithvkithv" in EBX, ECX, EDX;
         * leaf HVKIT_CPUID_BASE + 1 the ABI version in EAX and `features`
         * in ECX (include/hvkit/abi.h has every constant). */
        /* LAB 01: STUB (void)features; */
        if (leaf == HVKIT_CPUID_BASE) {
            /* EAX: the highest hypervisor leaf; EBX, ECX, EDX: the 12-byte
             * signature "hvkithvkithv" a guest checks before using hv's
             * hypercalls (abi.h). */
            r->eax = HVKIT_CPUID_MAX_LEAF;
            r->ebx = HVKIT_CPUID_SIG_EBX;
            r->ecx = HVKIT_CPUID_SIG_ECX;
            r->edx = HVKIT_CPUID_SIG_EDX;
        } else if (leaf == HVKIT_CPUID_BASE + 1) {
            /* EAX: the ABI version; ECX: the optional features. */
            r->eax = HVKIT_ABI_VERSION;
            r->ecx = features;
        }
        /* LAB 01: END */
        return;
    }
    switch (leaf) {
    case 1:
        /* ECX bit 31: hypervisor present. */
        r->ecx |= HVKIT_CPUID_HV_BIT;
        /* Hidden: VMX because a guest's VMXON would get #UD (hv does not
         * nest), and PDCM (IA32_PERF_CAPABILITIES) because the guest has no
         * performance counters.  ECX bit 5: VMX; bit 15: PDCM. */
        r->ecx &= ~(CPUID1_ECX_VMX | CPUID1_ECX_PDCM);
        /* hv's local APIC (dev/lapic.h) has x2APIC mode and the
         * TSC-deadline timer: ECX bit 21 and bit 24.  EDX bit 9 (the APIC
         * itself) follows IA32_APIC_BASE: cpuid_guest_state(). */
        r->ecx |= CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE;
        break;
    case 7:
        /* Subleaf 0 ECX bit 31: PKS, protection keys for supervisor pages,
         * whose IA32_PKRS (0x6e1) hv does not switch for the guest. */
        if (subleaf == 0)
            r->ecx &= ~CPUID7_ECX_PKS;
        break;
    case 0xa:
        /* Architectural performance monitoring: none (version 0), as on
         * QEMU's TCG; the counter MSRs read 0 (core/msr.c). */
        r->eax = r->ebx = r->ecx = r->edx = 0;
        break;
    case 0x80000001u:
        /* ECX bit 2: SVM; bits 23, 24, 28: the extended core, northbridge
         * and L3 performance counters (AMD: no counters either). */
        r->ecx &= ~((1u << 2) | (1u << 23) | (1u << 24) | (1u << 28));
        break;
    case 0x8000000au:
        /* SVM revision and features: none without SVM. */
        r->eax = r->ebx = r->ecx = r->edx = 0;
        break;
    default:
        break;
    }
}

/*
 * The bits that follow the guest's own state, for the dispatcher's CPUID
 * exit after cpuid_policy().  Pure: compiled hosted and unit tested.
 */
EXIT_PATH void cpuid_guest_state(uint32_t leaf, const struct cpuid_state *s, struct cpuid_regs *r)
{
    if (leaf == 1) {
        /* ECX bit 27, OSXSAVE, is a copy of CR4.OSXSAVE (SDM vol 2A "CPUID",
         * table 3-10): the host CPU answered with hv's own CR4. */
        r->ecx = (r->ecx & ~CPUID1_ECX_OSXSAVE) | (s->osxsave ? CPUID1_ECX_OSXSAVE : 0);
        /* EDX bit 9: an APIC, present while IA32_APIC_BASE.EN is set (SDM
         * vol 3A 11.4.3 "Enabling or Disabling the Local APIC"); EBX bits
         * 31:24: the initial APIC ID. */
        r->edx = (r->edx & ~CPUID_EDX_APIC) | (s->apic ? CPUID_EDX_APIC : 0);
        r->ebx = (r->ebx & 0x00ffffffu) | (s->apic_id << 24);
    } else if (leaf == 0xb || leaf == 0x1f) {
        /* EDX of every subleaf: the x2APIC ID of the processor asking
         * (SDM vol 2A "CPUID", leaf 0BH "Extended Topology Enumeration
         * Leaf" and leaf 1FH "V2 Extended Topology Enumeration Leaf"),
         * the vCPU's, not the host CPU's (core/smp.c: IDs 0..N-1). */
        r->edx = s->apic_id;
    } else if (leaf == 0x80000001u) {
        /* AMD repeats the APIC bit in the extended leaf (APM vol 3
         * appendix E.4.2 "Function 8000_0001h - Extended Processor and
         * Processor Feature Identifiers"). */
        r->edx = (r->edx & ~CPUID_EDX_APIC) | (s->apic ? CPUID_EDX_APIC : 0);
    }
}

/* See cpuid.h. */
EXIT_PATH bool cpuid_table_keeps(uint32_t leaf)
{
    /* Leaves 0xB and 0x1F carry the asking vCPU's x2APIC ID (below): one
     * domain's vCPUs differ there. */
    return leaf != 1 && leaf != 0xd && leaf != 0x80000001u && leaf != 0xb && leaf != 0x1f;
}

/* See cpuid.h. */
EXIT_PATH void cpuid_table_keep(struct cpuid_table *t, uint32_t leaf, uint32_t subleaf,
                                const struct cpuid_regs *r)
{
    if (!cpuid_table_keeps(leaf))
        return;
    unsigned i = cpuid_table_slot(leaf);
    t->slot[i].valid = true;
    t->slot[i].leaf = leaf;
    t->slot[i].subleaf = subleaf;
    t->slot[i].r = *r;
}
