/*
 * The legacy interrupt hardware every PC has: the two cascaded 8259A PICs
 * (Intel 8259A data sheet) and channel 0 of the 8254 PIT (Intel 82C54 data
 * sheet).  Enough for a guest to get one timer interrupt.
 */
#ifndef GUESTKIT_PIC_H
#define GUESTKIT_PIC_H

#include <stdbool.h>
#include <stdint.h>

/* The PIT's input clock in Hz. */
#define PIT_HZ 1193182u

/* Re-initialise both PICs with IRQ 0..15 on vectors 32..47 and every IRQ
 * masked.  Re-initialisation also forgets edges latched before it. */
void pic_init(void);
/* Unmask (enable) or mask one IRQ line. */
void pic_unmask(int irq);
void pic_mask(int irq);
/* Make one IRQ line level-triggered (the chipset's ELCR), for a shared or
 * ACPI line such as the SCI. */
void pic_level_triggered(int irq);
/* The master PIC's interrupt request register: bit N is set while IRQ N is
 * requested and not yet acknowledged by the CPU. */
uint8_t pic_irr(void);
/* Tell the PIC(s) the handler for irq is done. */
void pic_eoi(int irq);

/* Stop channel 0: mode 0 with no count loaded keeps its output low, so it
 * raises no IRQ 0 edge (82C54 data sheet, "Mode 0"). */
void pit_stop(void);
/* Load channel 0 in mode 0 ("interrupt on terminal count") with `count`
 * input clocks: IRQ 0 rises once when it reaches zero. */
void pit_oneshot(uint16_t count);
/* Read channel 0's OUT pin through the read-back command: true once the
 * one-shot count has expired, or in the high half of a square wave. */
bool pit_out(void);
/* Load channel 0 in mode 2 (rate generator): IRQ 0 every `count` input
 * clocks, e.g. PIT_HZ / 100 for 100 Hz. */
void pit_periodic(uint16_t count);
/* Load channel 0 in mode 3 (square wave): OUT high for the first half of
 * every `count` input clocks and low for the second, for ever, so that a
 * guest with interrupts off can poll OUT for each period's rising edge. */
void pit_square(uint16_t count);

#endif
