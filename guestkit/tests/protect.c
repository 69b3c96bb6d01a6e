/*
 * protect: per-page permissions set at run time (HC_MEM_PROTECT,
 * include/hvkit/abi.h; hv/core/guestmem.c).  Without an argument: a page
 * made read-only still reads, and writes again once writable; execute-only
 * is accepted where the CPU has it (EPT with the capability) and refused
 * with HC_ENOTSUP elsewhere.  With "write" or "exec" the guest breaks the
 * rule on purpose, and hv must end it as crashed, naming the address and
 * the access (tests/integration/slat.sh checks hv's words); if the guest
 * gets past that, it says so and fails.  Outside hv everything is skipped.
 */
#include "guestkit/guestkit.h"

/* The page whose permissions change: a page of its own, so that nothing
 * else the guest needs lives there. */
static uint8_t page[4096] __attribute__((aligned(4096)));

static long protect(unsigned perms)
{
    return hypercall(HC_MEM_PROTECT, (uintptr_t)page, sizeof(page), perms);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!under_hvkit()) {
        report_skip("read-only page: not under hvkit");
        report_skip("writable again: not under hvkit");
        report_skip("execute-only: not under hvkit");
        report_skip("bad requests: not under hvkit");
        return report_summary();
    }
    page[0] = 0x5a;
    if (strcmp(mode, "write") == 0) {
        long rc = protect(HC_PROT_R | HC_PROT_X);
        printf("protect: page %p read-only (%ld); writing to it\n", (void *)page, rc);
        page[16] = 1;
        printf("FAIL: the write to the read-only page went through\n");
        return 1;
    }
    if (strcmp(mode, "exec") == 0) {
        /* RET, then no execute: calling it must not return. */
        page[0] = 0xc3;
        long rc = protect(HC_PROT_R | HC_PROT_W);
        printf("protect: page %p not executable (%ld); calling it\n", (void *)page, rc);
        if (rc == HC_ENOTSUP) {
            printf("protect: this CPU cannot forbid execution\n");
            return 2;
        }
        ((void (*)(void))(uintptr_t)page)();
        printf("FAIL: the call into the no-execute page returned\n");
        return 1;
    }

    long rc = protect(HC_PROT_R | HC_PROT_X);
    volatile uint8_t *p = page;
    report(rc == HC_OK && p[0] == 0x5a, "read-only page: accepted (%ld), reads 0x5a (got %#x)", rc,
           p[0]);
    rc = protect(HC_PROT_R | HC_PROT_W | HC_PROT_X);
    p[1] = 0xa5;
    report(rc == HC_OK && p[1] == 0xa5, "writable again: accepted (%ld), write reads back", rc);
    /* Execute-only: EPT with IA32_VMX_EPT_VPID_CAP bit 0 only. */
    rc = protect(HC_PROT_X);
    if (rc == HC_ENOTSUP)
        report_skip("execute-only: this CPU's second-level tables cannot express it");
    else
        report(rc == HC_OK, "execute-only: accepted (got %ld)", rc);
    protect(HC_PROT_R | HC_PROT_W | HC_PROT_X);
    long e1 = protect(HC_PROT_W);
    long e2 = hypercall(HC_MEM_PROTECT, 0xfee00000, 4096, HC_PROT_R);
    long e3 = hypercall(HC_MEM_PROTECT, (uintptr_t)page + 8, 4096, HC_PROT_R);
    long e4 = protect(0);
    report(
        e1 == HC_ENOTSUP && e2 == HC_EINVAL && e3 == HC_EINVAL && e4 == HC_EINVAL,
        "bad requests: write-only, the local APIC page, unaligned, nothing (got %ld %ld %ld %ld)",
        e1, e2, e3, e4);
    return report_summary();
}
