/*
 * hello: the demo guest.  Greets whoever the command line names, says what
 * it is, and checks a few things any guestkit guest can rely on.
 *
 *   qemu-system-x86_64 ... -kernel build/guestkit/hello.elf -append world
 *   -> Hello, world!
 */
#include "guestkit/guestkit.h"

int main(int argc, char **argv)
{
    /* argv[0] is the kernel's file name; the words after it are whom to
     * greet.  No words: greet the world. */
    printf("Hello, ");
    if (argc < 2)
        printf("world");
    for (int i = 1; i < argc; i++)
        printf("%s%s", i > 1 ? " " : "", argv[i]);
    printf("!\n");
    printf("This is hello, a guestkit test guest: a 64-bit C program booted by a Multiboot\n");
    printf("loader, printing on COM1 and ending itself through the isa-debug-exit port.\n");

    report_info("argv[0] = \"%s\"", argc >= 1 ? argv[0] : "(none)");
    report(argc >= 1 && argv[0][0] != '\0', "argv[0] is the kernel's name");
    report(argv[argc] == NULL, "argv[argc] is NULL");
    /* The runtime switched to long mode: EFER.LMA says the CPU agrees. */
    report(rdmsr(MSR_EFER) & X86_EFER_LMA, "running in 64-bit long mode (EFER.LMA = 1)");
    /* klib's formatter, which printf uses, formats what it is told. */
    char buf[32];
    ksnprintf(buf, sizeof(buf), "%d-%s-%#x", 42, "ok", 255);
    report(strcmp(buf, "42-ok-0xff") == 0, "ksnprintf formats \"%s\"", buf);
    printf("Running %s.\n", under_hvkit()
                                ? "under hvkit's hypervisor"
                                : "without hvkit's hypervisor (plain machine or another one)");
    return report_summary();
}
