/*
 * xsave: enabling the XSAVE feature set (SDM vol 1 13.3 "Enabling the
 * XSAVE Feature Set and XSAVE-Enabled Features"): CPUID.1:ECX.OSXSAVE
 * mirrors CR4.OSXSAVE, and XSETBV loads XCR0 or raises the exceptions of
 * SDM vol 2D "XSETBV--Set Extended Control Register".  Under VT-x every
 * XSETBV exits and the hypervisor must check and load XCR0 itself.
 */
#include "guestkit/guestkit.h"

#define CR4_OSXSAVE        (1ull << 18)
#define CPUID1_ECX_XSAVE   (1u << 26)
#define CPUID1_ECX_OSXSAVE (1u << 27)

static uint64_t xcr_value;
static uint32_t xcr_index;

static void do_xsetbv(void *arg)
{
    (void)arg;
    __asm__ volatile("xsetbv"
                     :
                     : "c"(xcr_index), "a"((uint32_t)xcr_value), "d"((uint32_t)(xcr_value >> 32))
                     : "memory");
}

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void write_cr4(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

/* XSETBV(index, value) must raise `vector` (#GP with error code 0, or #UD). */
static bool refused(uint32_t index, uint64_t value, int vector)
{
    struct exception_info ex;
    xcr_index = index;
    xcr_value = value;
    return expect_exception(vector, do_xsetbv, NULL, &ex) && ex.error_code == 0;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!(cpuid(1).ecx & CPUID1_ECX_XSAVE)) {
        report_skip("OSXSAVE: no XSAVE (CPUID.1:ECX bit 26)");
        report_skip("XSETBV: no XSAVE (CPUID.1:ECX bit 26)");
        return report_summary();
    }
    uint64_t cr4 = read_cr4();
    report(!(cr4 & CR4_OSXSAVE) && !(cpuid(1).ecx & CPUID1_ECX_OSXSAVE),
           "OSXSAVE: clear in CPUID while CR4.OSXSAVE is clear");
    report(refused(0, 1, UD_VECTOR), "XSETBV: #UD while CR4.OSXSAVE is clear");
    write_cr4(cr4 | CR4_OSXSAVE);
    report(cpuid(1).ecx & CPUID1_ECX_OSXSAVE, "OSXSAVE: set in CPUID once CR4.OSXSAVE is set");
    struct cpuid_regs d = cpuid_count(0xd, 0);
    uint64_t supported = ((uint64_t)d.edx << 32) | d.eax;
    report_info("XCR0 %#llx, supported components %#llx", (unsigned long long)xgetbv0(),
                (unsigned long long)supported);
    xcr_index = 0;
    xcr_value = 3;
    bool faulted = catch_exception(do_xsetbv, NULL, NULL);
    report(!faulted && xgetbv0() == 3, "XSETBV: XCR0 = x87 | SSE loads");
    report(refused(0, 2, GP_VECTOR), "XSETBV: x87 state cleared raises #GP(0)");
    report(refused(1, 1, GP_VECTOR), "XSETBV: an XCR other than XCR0 raises #GP(0)");
    report(refused(0, 1ull << 62, GP_VECTOR) || (supported >> 62) & 1,
           "XSETBV: an unsupported component raises #GP(0)");
    if (supported & 4)
        report(refused(0, 5, GP_VECTOR), "XSETBV: AVX without SSE raises #GP(0)");
    else
        report_skip("XSETBV: AVX without SSE: no AVX state");
    report(xgetbv0() == 3, "XSETBV: refused values leave XCR0 alone");
    /* Back to the reset state (x87 only), then CR4. */
    xcr_value = 1;
    catch_exception(do_xsetbv, NULL, NULL);
    write_cr4(cr4);
    return report_summary();
}
