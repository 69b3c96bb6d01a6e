/*
 * preempt.c - ending a guest's time on the CPU when the core's scheduler
 * says so (core/backend.h set_deadline), for SVM.
 *
 * SVM has no timer of its own that counts while the guest runs (VT-x has
 * the VMX-preemption timer: vmx/preempt.c).  What it has is the INTR
 * intercept (APM vol 2 15.13.1 "INTR Intercept"): a physical interrupt
 * that arrives while the guest runs makes #VMEXIT(INTR) and stays pending.
 * So hv uses a timer of the outer machine to raise one at the deadline:
 * channel 0 of the outer 8254 PIT, in mode 0 ("interrupt on terminal
 * count": OUT 0 rises once when the count runs out), on IRQ 0 of the outer
 * master 8259, which the firmware left wired to the CPU through the local
 * APIC's LINT0 (virtual-wire mode).  hv keeps every other IRQ masked.
 *
 * The interrupt is never taken through hv's IDT: hv runs with IF=0 and
 * lets interrupts in only while the guest runs (enter.S).  After the exit
 * the request still waits in the 8259, and would end the next VMRUN at
 * once; so hv acknowledges it with the 8259's poll command, which does
 * what the CPU's interrupt-acknowledge cycle would (the request moves from
 * IRR to ISR, and the read returns its level), followed by an EOI (8259A
 * data sheet, "Poll Command" and "End of Interrupt").
 *
 * Emulators: QEMU's TCG exits on the interrupt whatever the guest's IF
 * (a `cli; jmp .` guest is preempted); Bochs's SVM exits only while the
 * guest has IF=1, so there a guest spinning with interrupts off keeps the
 * CPU (docs/emulators.md).
 */
#include "klib.h"

#include "core/cpu.h"
#include "core/hv.h"
#include "dev/pit8254.h"
#include "internal.h"

/* The outer machine's PIT channel 0 and mode register, and the master
 * 8259's command and mask ports (a PC's fixed addresses). */
#define OUTER_PIT_CH0 0x40
#define OUTER_PIT_CMD 0x43
#define OUTER_PIC_CMD 0x20
#define OUTER_PIC_IMR 0x21

/* PIT mode word: channel 0, low then high byte, mode 0, binary (8254
 * data sheet, "Control Word Format"). */
#define PIT_CH0_MODE0 0x30
/* 8259 OCW3 with the poll bit (P, bit 2) and OCW2's non-specific EOI. */
#define PIC_OCW3_POLL 0x0c
#define PIC_EOI       0x20

/* The deadline the PIT is counting towards, so that an unchanged one costs
 * no port writes (each is an access to an emulated device); UINT64_MAX:
 * the PIT is not counting for hv. */
static uint64_t armed = UINT64_MAX;

/* Program the outer PIT to raise IRQ 0 in `ticks` PIT clocks, and let
 * IRQ 0 (only it) through the master 8259's mask. */
static void pit_oneshot(uint32_t ticks)
{
    /* Writing the mode word stops the count and drops OUT 0; the second
     * byte of the count starts it. */
    outb(OUTER_PIT_CMD, PIT_CH0_MODE0);
    outb(OUTER_PIT_CH0, (uint8_t)ticks);
    outb(OUTER_PIT_CH0, (uint8_t)(ticks >> 8));
    /* IMR bit 0 clear: IRQ 0 may interrupt; every other line stays masked
     * as main.c left it. */
    outb(OUTER_PIC_IMR, 0xfe);
}

/* See core/backend.h.  The PIT counts in host time, hv's and the guest's
 * alike, which is what a deadline in host TSC means. */
void svm_set_deadline(struct vcpu *vcpu, uint64_t deadline)
{
    (void)vcpu;
    /* Already counting towards it. */
    if (deadline == armed)
        return;
    armed = deadline;
    /* No deadline: mask IRQ 0; a count still running then interrupts
     * nobody. */
    if (deadline == UINT64_MAX) {
        outb(OUTER_PIC_IMR, 0xff);
        return;
    }
    /* TSC ticks left, in PIT clocks (1.193182 MHz), rounded up.  The PIT's
     * 16-bit count reaches about 55 ms: a later deadline gets an early
     * exit, after which the core sets it again. */
    uint64_t now = rdtsc(), hz = irq_tsc_hz();
    uint64_t left = deadline > now ? deadline - now : 0;
    if (left > hz / 16)
        left = hz / 16;
    uint64_t ticks = (left * PIT_HZ + hz - 1) / hz;
    /* 0 would mean 65536 to the PIT; 1 is the soonest it can do. */
    pit_oneshot(ticks == 0 ? 1 : ticks > 0xffff ? 0xffff : (uint32_t)ticks);
}

/* See internal.h: after #VMEXIT(INTR). */
void svm_preempt_ack(void)
{
    /* The poll read: bit 7 set if an unmasked request was pending, which
     * it now has acknowledged. */
    outb(OUTER_PIC_CMD, PIC_OCW3_POLL);
    if (inb(OUTER_PIC_CMD) & 0x80)
        outb(OUTER_PIC_CMD, PIC_EOI);
    /* Mode 0 rises once: nothing is counting any more, so the next
     * deadline, even the same one, programs the PIT again. */
    armed = UINT64_MAX;
}
