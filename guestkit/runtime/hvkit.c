/*
 * Detecting hvkit's hypervisor and calling it (include/hvkit/abi.h).
 */
#include "klib.h"
#include "guestkit/hvkit.h"
#include "guestkit/x86.h"

const char *cpu_vendor(void)
{
    /* CPUID leaf 0: the vendor string is EBX, EDX, ECX in that order
     * (SDM vol. 2A, "CPUID", leaf 0). */
    static char vendor[13];
    struct cpuid_regs r = cpuid(0);
    memcpy(vendor + 0, &r.ebx, 4);
    memcpy(vendor + 4, &r.edx, 4);
    memcpy(vendor + 8, &r.ecx, 4);
    vendor[12] = '\0';
    return vendor;
}

bool cpu_is_amd(void)
{
    /* Hygon's Dhyana is a licensed Zen and has SVM, so VMMCALL too. */
    const char *v = cpu_vendor();
    return strcmp(v, "AuthenticAMD") == 0 || strcmp(v, "HygonGenuine") == 0;
}

bool under_hvkit(void)
{
    /* Leaf 1 ECX bit 31 is reserved for hypervisors to say "I am here";
     * only then is the 0x40000000 range meaningful. */
    if (!(cpuid(1).ecx & X86_CPUID1_ECX_HYPERVISOR))
        return false;
    struct cpuid_regs r = cpuid(HVKIT_CPUID_BASE);
    return r.ebx == HVKIT_CPUID_SIG_EBX && r.ecx == HVKIT_CPUID_SIG_ECX &&
           r.edx == HVKIT_CPUID_SIG_EDX && r.eax >= HVKIT_CPUID_MAX_LEAF;
}

bool on_qemu_tcg(void)
{
    /* QEMU fills the hypervisor leaf with "TCGTCGTCGTCG" under TCG. */
    if (!(cpuid(1).ecx & X86_CPUID1_ECX_HYPERVISOR))
        return false;
    struct cpuid_regs r = cpuid(HVKIT_CPUID_BASE);
    return r.ebx == 0x54474354u && r.ecx == 0x43544743u && r.edx == 0x47435447u;
}

long hypercall(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3)
{
    long ret;
    /* VMMCALL (AMD APM vol. 3) and VMCALL (SDM vol. 2B) both exit to the
     * hypervisor; each raises #UD on the other vendor's CPUs, so pick by
     * vendor.  The registers follow include/hvkit/abi.h.  The vendor is
     * asked once: CPUID is itself an exit under a hypervisor, and asking
     * on every call would double the cost of each hypercall. */
    static int amd = -1;
    if (amd < 0)
        amd = cpu_is_amd();
    if (amd)
        __asm__ volatile("vmmcall" : "=a"(ret) : "a"(nr), "b"(a1), "c"(a2), "d"(a3) : "memory");
    else
        __asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(a1), "c"(a2), "d"(a3) : "memory");
    return ret;
}
