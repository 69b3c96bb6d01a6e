/*
 * exceptions: the CPU delivers exceptions through our IDT with the right
 * vector, error code and saved RIP, and a test survives them
 * (SDM vol. 3A, chapter 6 "Interrupt and Exception Handling"; catch_exception() in runtime/trap.c).
 */
#include "guestkit/guestkit.h"

/* Labels inside the asm let us compare the RIP the CPU saved with the
 * instruction that we know raised the exception. */
extern char ud2_insn[], int3_next[];

static void do_ud2(void *arg)
{
    (void)arg;
    __asm__ volatile("ud2_insn: ud2");
}

static void do_div0(void *arg)
{
    (void)arg;
    /* DIV by zero raises #DE (SDM vol. 2A, "DIV").  Done in asm so the
     * compiler cannot fold or remove it. */
    __asm__ volatile("xorl %%ecx, %%ecx; movl $1, %%eax; xorl %%edx, %%edx; divl %%ecx"
                     :
                     :
                     : "rax", "rcx", "rdx");
}

static void do_int3(void *arg)
{
    (void)arg;
    /* #BP is a trap: the saved RIP is the instruction after INT3. */
    __asm__ volatile("int3; int3_next: nop");
}

static void do_bad_selector(void *arg)
{
    (void)arg;
    /* Selector 0x28 = GDT index 5, beyond our three-entry GDT: loading it
     * into DS raises #GP with the selector as error code (SDM vol. 3A,
     * 6.13 "Error Code" and "MOV" in vol. 2B). */
    __asm__ volatile("movw $0x28, %%ax; movw %%ax, %%ds" : : : "rax");
}

static void do_noncanonical(void *arg)
{
    (void)arg;
    /* A non-canonical address raises #GP(0), not #PF (SDM vol 1 3.3.7.1 "Canonical Addressing"). */
    volatile uint64_t *p = (volatile uint64_t *)0x8000000000000000ull;
    (void)*p;
}

static void do_unmapped(void *arg)
{
    (void)arg;
    /* Canonical but beyond the runtime's 4 GiB identity map: not present. */
    volatile uint64_t *p = (volatile uint64_t *)0x0000100000000000ull;
    (void)*p;
}

static void do_nothing(void *arg)
{
    *(int *)arg = 42;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct exception_info ex;

    bool ok = expect_exception(UD_VECTOR, do_ud2, NULL, &ex);
    report_info("#UD at RIP %#llx", (unsigned long long)ex.rip);
    report(ok && ex.rip == (uintptr_t)ud2_insn, "ud2 raises #UD with RIP at the ud2");

    ok = expect_exception(DE_VECTOR, do_div0, NULL, &ex);
    report(ok && ex.error_code == 0, "div by zero raises #DE");

    ok = expect_exception(BP_VECTOR, do_int3, NULL, &ex);
    report_info("#BP with RIP %#llx", (unsigned long long)ex.rip);
    report(ok && ex.rip == (uintptr_t)int3_next, "int3 raises #BP, saved RIP is after it");

    ok = expect_exception(GP_VECTOR, do_bad_selector, NULL, &ex);
    report_info("#GP error code %#llx", (unsigned long long)ex.error_code);
    report(ok && ex.error_code == 0x28, "loading selector 0x28 raises #GP(0x28)");
    /* The failed load did not change DS. */
    uint16_t ds;
    __asm__ volatile("movw %%ds, %0" : "=r"(ds));
    report(ds == 0x10, "DS still holds 0x10 after the refused load");

    ok = expect_exception(GP_VECTOR, do_noncanonical, NULL, &ex);
    report(ok && ex.error_code == 0, "non-canonical access raises #GP(0)");

    ok = expect_exception(PF_VECTOR, do_unmapped, NULL, &ex);
    /* Error code bits (SDM vol. 3A, 4.7 "Page-Fault Exceptions"): P = 0 (not present), W/R = 0
     * (read), U/S = 0 (supervisor). */
    report(ok && ex.cr2 == 0x0000100000000000ull && (ex.error_code & 7) == 0,
           "read of an unmapped page raises #PF, CR2 %#llx, error code %#llx",
           (unsigned long long)ex.cr2, (unsigned long long)ex.error_code);

    /* catch_exception() without an exception runs the function to the end. */
    int value = 0;
    report(!catch_exception(do_nothing, &value, &ex) && value == 42,
           "a function without exception returns normally through catch_exception");

    /* After all these, interrupts are still off and we are still here. */
    report(!(read_rflags() & X86_RFLAGS_IF), "RFLAGS.IF is still clear");
    return report_summary();
}
