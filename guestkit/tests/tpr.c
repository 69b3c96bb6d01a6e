/*
 * tpr: CR8 and the local APIC's task-priority register are one register.
 *
 * In 64-bit mode CR8 bits 3:0 are TPR bits 7:4: a MOV to CR8 sets the
 * priority class and clears the sub-class, a MOV from CR8 reads the class,
 * and the APIC's priorities follow whichever was written last (SDM vol 3A
 * 11.8.6.1 "Interaction of Task Priorities between CR8 and APIC").  The
 * guest writes the TPR through the APIC page and reads CR8, writes CR8 and
 * reads the TPR, and holds a self-IPI back with CR8, then lets it in by
 * lowering CR8.  Under hv the interrupt arrives at the next exit after the
 * MOV to CR8 (here the APIC read that checks it), on a PC at once; the
 * test looks only after that read.
 */
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"

/* The xAPIC page and its registers (SDM vol 3A 11.4.1 "The Local APIC
 * Block Diagram", Table 11-1 "Local APIC Register Address Map"). */
#define APIC      0xfee00000ul
#define APIC_TPR  0x080
#define APIC_PPR  0x0a0
#define APIC_EOI  0x0b0
#define APIC_IRR  0x200
#define APIC_ICR  0x300
#define APIC_ICR2 0x310
#define ICR_SELF  (1u << 18) /* destination shorthand 01: self */
#define VECTOR    0x50       /* priority class 5 */

static volatile unsigned delivered;

static uint32_t apic_read(unsigned reg)
{
    return *(volatile uint32_t *)(APIC + reg);
}

static void apic_write(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(APIC + reg) = v;
}

static void on_vector(int vector)
{
    (void)vector;
    delivered++;
    apic_write(APIC_EOI, 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!(cpuid(1).edx & (1u << 9))) {
        report_skip("TPR to CR8: no local APIC");
        report_skip("CR8 to TPR: no local APIC");
        report_skip("CR8 holds an interrupt back: no local APIC");
        report_skip("lowering CR8 lets it in: no local APIC");
        return report_summary();
    }
    /* Only the APIC's own interrupt: the 8259's lines masked. */
    pic_init();

    apic_write(APIC_TPR, 0x5a);
    uint64_t cr8 = read_cr8();
    report(cr8 == 5 && apic_read(APIC_TPR) == 0x5a,
           "TPR to CR8: TPR 0x5a through the APIC page reads as CR8 %llu, TPR stays %#x",
           (unsigned long long)cr8, apic_read(APIC_TPR));

    write_cr8(3);
    uint32_t tpr = apic_read(APIC_TPR), ppr = apic_read(APIC_PPR);
    report(tpr == 0x30 && ppr == 0x30 && read_cr8() == 3,
           "CR8 to TPR: CR8 3 reads as TPR %#x and PPR %#x", tpr, ppr);

    /* Class 6 holds a class-5 vector in the IRR, interrupts on or not. */
    set_vector_handler(VECTOR, on_vector);
    write_cr8(6);
    apic_write(APIC_ICR2, 0);
    apic_write(APIC_ICR, ICR_SELF | VECTOR);
    sti();
    for (volatile int i = 0; i < 1000; i++)
        ;
    bool pending = (apic_read(APIC_IRR + (VECTOR / 32) * 0x10) >> (VECTOR % 32)) & 1;
    report(delivered == 0 && pending,
           "CR8 holds an interrupt back: CR8 6, vector %#x pending in the IRR (%d), not delivered "
           "(%u)",
           VECTOR, pending, delivered);

    /* Class 4: the vector goes in. */
    write_cr8(4);
    ppr = apic_read(APIC_PPR);
    for (volatile int i = 0; i < 1000; i++)
        ;
    cli();
    report(delivered == 1 && ppr == 0x40,
           "lowering CR8 lets it in: CR8 4, PPR %#x, the vector delivered once (%u)", ppr,
           delivered);
    write_cr8(0);
    set_vector_handler(VECTOR, NULL);
    return report_summary();
}
