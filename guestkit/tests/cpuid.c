/*
 * cpuid: what the CPU (or the hypervisor in front of it) says about itself
 * through CPUID (SDM vol. 2A, "CPUID"; AMD APM vol. 3, appendix E "Obtaining Processor Information
 * Via the CPUID Instruction"), and the hypervisor leaves of include/hvkit/abi.h when hv is there.
 */
#include "guestkit/guestkit.h"

static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;

    /* Leaf 0: the highest basic leaf and the vendor. */
    struct cpuid_regs l0 = cpuid(0);
    const char *vendor = cpu_vendor();
    report_info("vendor \"%s\", max basic leaf %#x", vendor, l0.eax);
    report(strlen(vendor) == 12 && printable(vendor, 12),
           "vendor string is 12 printable characters");
    report(l0.eax >= 1, "max basic leaf is at least 1");

    /* Leaf 1: features any CPU that got us into long mode must have. */
    struct cpuid_regs l1 = cpuid(1);
    uint32_t need =
        X86_CPUID1_EDX_FPU | X86_CPUID1_EDX_TSC | X86_CPUID1_EDX_MSR | X86_CPUID1_EDX_PAE;
    report_info("leaf 1: EAX %#010x ECX %#010x EDX %#010x", l1.eax, l1.ecx, l1.edx);
    report((l1.edx & need) == need, "leaf 1 EDX has FPU, TSC, MSR and PAE");
    /* Family: the base family in bits 11:8, plus the extended family in
     * bits 27:20 when the base is 15 (SDM vol. 2A, figure 3-6 "Version Information Returned by
     * CPUID in EAX"). */
    uint32_t family = (l1.eax >> 8) & 0xf;
    if (family == 0xf)
        family += (l1.eax >> 20) & 0xff;
    report_info("family %u", family);
    report(family >= 6, "family is a 64-bit capable one (6 or later)");

    /* Extended leaves: long mode is there, since we run in it. */
    struct cpuid_regs e0 = cpuid(0x80000000u);
    report_info("max extended leaf %#x", e0.eax);
    report(e0.eax >= 0x80000001u, "max extended leaf is at least 0x80000001");
    report(cpuid(0x80000001u).edx & X86_CPUID_EXT1_EDX_LM, "leaf 0x80000001 reports long mode");

    /* The hypervisor part only means something under hv. */
    if (!under_hvkit()) {
        const char *why = (l1.ecx & X86_CPUID1_ECX_HYPERVISOR)
                              ? "the hypervisor bit is set but the signature is not hvkit's"
                              : "the hypervisor bit is clear";
        report_skip("hypervisor bit: not under hvkit (%s)", why);
        report_skip("hypervisor signature: not under hvkit");
        report_skip("hypervisor max leaf: not under hvkit");
        report_skip("hvkit ABI version: not under hvkit");
        return report_summary();
    }
    report(l1.ecx & X86_CPUID1_ECX_HYPERVISOR, "hypervisor bit: leaf 1 ECX bit 31 is set");
    struct cpuid_regs h0 = cpuid(HVKIT_CPUID_BASE);
    char sig[13];
    memcpy(sig + 0, &h0.ebx, 4);
    memcpy(sig + 4, &h0.ecx, 4);
    memcpy(sig + 8, &h0.edx, 4);
    sig[12] = '\0';
    report_info("leaf 0x40000000: max leaf %#x, signature \"%s\"", h0.eax, sig);
    report(strcmp(sig, HVKIT_CPUID_SIGNATURE) == 0,
           "hypervisor signature: leaf 0x40000000 says \"" HVKIT_CPUID_SIGNATURE "\"");
    report(h0.eax >= HVKIT_CPUID_MAX_LEAF, "hypervisor max leaf: at least 0x40000001");
    struct cpuid_regs h1 = cpuid(HVKIT_CPUID_BASE + 1);
    report_info("leaf 0x40000001: ABI version %u, features %#x", h1.eax, h1.ecx);
    report(h1.eax == HVKIT_ABI_VERSION, "hvkit ABI version: leaf 0x40000001 EAX is %u",
           HVKIT_ABI_VERSION);
    return report_summary();
}
