/*
 * hypercall: the calls of include/hvkit/abi.h, made with VMMCALL on AMD and
 * VMCALL on Intel.  Outside hv there is nobody to call (the instruction
 * would raise #UD), so everything is skipped there.
 */
#include "guestkit/guestkit.h"

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;

    if (!under_hvkit()) {
        report_skip("HC_VERSION: not under hvkit");
        report_skip("HC_ECHO: not under hvkit");
        report_skip("HC_PUTS: not under hvkit");
        report_skip("HC_PUTS bad address: not under hvkit");
        report_skip("unknown call: not under hvkit");
        report_skip("HC_EXIT_COUNT: not under hvkit");
        return report_summary();
    }
    printf("hypercall: using %s\n", cpu_is_amd() ? "VMMCALL (AMD)" : "VMCALL (Intel)");

    long v = hypercall(HC_VERSION, 0, 0, 0);
    report(v == (long)HVKIT_ABI_VERSION, "HC_VERSION: returns %u (got %ld)", HVKIT_ABI_VERSION, v);

    /* Three distinct arguments, so a swapped or dropped register shows. */
    long e = hypercall(HC_ECHO, 0x1000, 0x20000, 0x300000000ul);
    report(e == 0x300021000l, "HC_ECHO: 0x1000 + 0x20000 + 0x300000000 (got %#lx)", e);

    static const char msg[] = "hypercall: this line came through HC_PUTS";
    long p = hypercall(HC_PUTS, (uintptr_t)msg, sizeof(msg) - 1, 0);
    report(p >= 0, "HC_PUTS: %zu bytes accepted (got %ld)", sizeof(msg) - 1, p);
    /* A buffer outside guest RAM (above the 4 GiB we map, and far beyond
     * any -m a test uses) must be refused, not read. */
    p = hypercall(HC_PUTS, 0xfff00000000ul, 16, 0);
    report(p == HC_EFAULT, "HC_PUTS bad address: HC_EFAULT for a buffer outside RAM (got %ld)", p);

    long u = hypercall(0x7fff, 0, 0, 0);
    report(u == HC_ENOSYS, "unknown call: 0x7fff returns HC_ENOSYS (got %ld)", u);

    /* Every hypercall is a VM exit, so the count grows between two reads. */
    long c1 = hypercall(HC_EXIT_COUNT, 0, 0, 0);
    long c2 = hypercall(HC_EXIT_COUNT, 0, 0, 0);
    report(c1 > 0 && c2 > c1, "HC_EXIT_COUNT: increases (%ld then %ld)", c1, c2);
    return report_summary();
}
