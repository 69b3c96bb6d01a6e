/*
 * crash: a must-fail guest with an exception nobody expects.  It reads an
 * address outside the runtime's 4 GiB identity map, so the CPU raises #PF;
 * the runtime's handler prints the vector, error code, CR2 and all registers
 * and exits with GK_EXIT_EXCEPTION (4).
 */
#include "guestkit/guestkit.h"

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("crash: reading unmapped address 0x7ead00000000: expect a page fault report\n");
    /* Recognisable values in a few registers, to find them in the dump. */
    __asm__ volatile("movabs $0x1111111111111111, %%r12\n\t"
                     "movabs $0x2222222222222222, %%r13\n\t"
                     "movabs $0x7ead00000000, %%rax\n\t"
                     "movq (%%rax), %%rax"
                     :
                     :
                     : "rax", "r12", "r13", "memory");
    printf("crash: still running after the page fault?!\n");
    report(false, "the page fault ended the guest");
    return report_summary();
}
