/*
 * cpuid.c - the guest's CPUID (see cpuid.h).  SDM vol 2A "CPUID" and AMD APM
 * vol 3 appendix E list the bits named here.
 */
#include "hvkit/abi.h"

#include "cpuid.h"

/*
 * Edit the host's CPUID answer `r` for `leaf` into what the guest may see,
 * for the dispatcher's CPUID exit.  `features` is the value of hv's feature
 * leaf (HVKIT_FEATURE_*).  Pure: compiled hosted and unit tested.  The rule
 * is "hide what hv does not virtualize": a guest that believed CPUID and
 * used a hidden feature would otherwise fault or escape the emulation.
 */
void cpuid_policy(uint32_t leaf, uint32_t subleaf, uint32_t features, struct cpuid_regs *r)
{
    /* No leaf hv edits has subleaves. */
    (void)subleaf;
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
        /* Hidden: VMX and SVM because a guest's VMXON/VMRUN would get #UD (hv
         * does not nest); the APIC because there is none at 0xfee00000 (an
         * access there is a nested page fault).  ECX bit 5: VMX; bit 21:
         * x2APIC.  EDX bit 9: on-chip APIC. */
        r->ecx &= ~((1u << 5) | (1u << 21));
        r->edx &= ~(1u << 9);
        break;
    case 0x80000001u:
        /* ECX bit 2: SVM. */
        r->ecx &= ~(1u << 2);
        break;
    case 0x8000000au:
        /* SVM revision and features: none without SVM. */
        r->eax = r->ebx = r->ecx = r->edx = 0;
        break;
    default:
        break;
    }
}
