/*
 * badmagic: proves that the runtime refuses to run when it was not started
 * by a Multiboot loader.  The Makefile links this guest with the entry point
 * gk_entry_badmagic below, so QEMU (which does load it as a normal Multiboot
 * kernel) jumps here; we replace EAX with a wrong magic number and continue
 * into the real entry, gk_entry.  The runtime must print why it refuses and
 * exit with GK_EXIT_BAD_BOOT (2) without ever calling main().
 */
#include "guestkit/guestkit.h"

/* 32-bit code, as the loader enters it (Multiboot spec 3.2). */
__asm__(".pushsection .text.entry, \"ax\"\n"
        ".code32\n"
        ".globl gk_entry_badmagic\n"
        "gk_entry_badmagic:\n"
        /* Not 0x2BADB002: the value a confused loader might leave. */
        "    movl $0x1BADB002, %eax\n"
        "    jmp gk_entry\n"
        ".code64\n"
        ".popsection\n");

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* Reaching main means the check did not work. */
    report(false, "the runtime refused a boot with a wrong magic number");
    return report_summary();
}
