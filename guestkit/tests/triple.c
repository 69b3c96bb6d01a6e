/*
 * triple: a must-fail guest that triple-faults on purpose.  With an empty
 * IDT (limit 0) the #UD from ud2 cannot be delivered, so the CPU raises #GP;
 * that cannot be delivered either, so #DF; when #DF fails too the processor
 * shuts down (SDM vol. 3A, 6.15 "Exception and Interrupt Reference", "Interrupt 8 - Double Fault
 * Exception"). Plain QEMU with -no-reboot then exits; hv must report "guest crashed".
 */
#include "guestkit/guestkit.h"

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("triple: loading an empty IDT and executing ud2: expect a triple fault\n");
    serial_flush();
    triple_fault();
    /* Unreachable on a working CPU. */
    printf("triple: still running after the triple fault?!\n");
    report(false, "the CPU shut down");
    return report_summary();
}
