/*
 * lapic_internal.h - what the local APIC's three files share (lapic.c: the
 * registers, priorities and delivery; lapic_timer.c: the timer;
 * lapic_msr.c: IA32_APIC_BASE and the x2APIC MSRs).  Not for other users.
 */
#ifndef HV_DEV_LAPIC_INTERNAL_H
#define HV_DEV_LAPIC_INTERNAL_H

#include "lapic.h"

/* Register access by xAPIC offset, shared by the MMIO and MSR paths.
 * Return false for an offset with no register (an illegal register
 * address, 11.5.3 "Error Handling"); the x2APIC path turns that into #GP. */
bool lapic_reg_read(struct lapic *l, uint32_t offset, uint32_t *value);
bool lapic_reg_write(struct lapic *l, uint32_t offset, uint32_t value);

/* The bits of a register the guest can change (the rest read as the model
 * keeps them): used by writes, and by the x2APIC path, which raises #GP for
 * a write that sets any other bit. */
uint32_t lapic_writable(const struct lapic *l, uint32_t offset);

/* Record an APIC error (ESR bits) and signal it through the error LVT. */
void lapic_error(struct lapic *l, uint32_t esr_bits);

/* Accept a fixed interrupt into IRR (TMR as `level` says), refusing the
 * reserved vectors 0-15 with a receive-illegal-vector error. */
void lapic_accept(struct lapic *l, uint8_t vector, bool level);

/* Send the IPI an ICR write describes: `lo` is ICR bits 31:0, `dest` the
 * destination (ICR bits 63:56 in xAPIC mode, 63:32 in x2APIC mode). */
void lapic_send_ipi(struct lapic *l, uint32_t lo, uint32_t dest);

/* Deliver through LVT entry `which` (a local interrupt source). */
void lapic_local_deliver(struct lapic *l, enum lapic_lvt which);

/* The power-on register state (everything but IA32_APIC_BASE and the
 * clocks): used at reset and when the guest disables the APIC. */
void lapic_reset_registers(struct lapic *l);

/* Timer register accesses and changes (lapic_timer.c). */
uint32_t lapic_timer_current(const struct lapic *l);
void lapic_timer_set_initial(struct lapic *l, uint32_t count);
void lapic_timer_set_dcr(struct lapic *l, uint32_t dcr);
void lapic_timer_set_lvt(struct lapic *l, uint32_t lvt);

#endif
