/*
 * ioapic.h - the I/O APIC at 0xfec00000 (Intel 82093AA I/O Advanced
 * Programmable Interrupt Controller data sheet, as QEMU's "ioapic" models
 * it, version 0x20): 24 input pins, each with a 64-bit redirection entry
 * that turns the pin's interrupt into a message to the local APICs.
 *
 * Registers are reached indirectly: the guest writes a register index to
 * IOREGSEL (offset 0x00) and reads or writes it through IOWIN (0x10); the
 * EOI register (0x40) of version 0x20 ends a level-triggered interrupt by
 * vector.  Register 0 is the ID, 1 the version (0x20, highest entry 23 in
 * bits 23:16), 2 the arbitration ID, 0x10 + 2n and 0x11 + 2n the low and
 * high halves of redirection entry n.
 *
 * Modelled: edge and level triggering, the mask, Remote IRR for level
 * entries (set when the message is sent, cleared by the local APIC's EOI
 * broadcast or the EOI register, re-sending while the pin stays
 * asserted), fixed and lowest-priority delivery, physical and logical
 * destinations.  Pins are driven as "asserted or not": the polarity bit is
 * kept but, as on QEMU, does not invert the devices' lines.
 * Compiled hosted too (tests/unit/test_hv_apic.c).
 */
#ifndef HV_DEV_IOAPIC_H
#define HV_DEV_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "lapic.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000ull
#define IOAPIC_SIZE         0x1000u
#define IOAPIC_PINS         24

/* MMIO offsets and register indexes (82093AA data sheet 3.1 "Memory
 * Mapped Registers for Accessing IOAPIC Registers", 3.2 "IOAPIC
 * Registers"; the EOI register is the later I/O xAPIC's, version 0x20). */
#define IOAPIC_IOREGSEL   0x00
#define IOAPIC_IOWIN      0x10
#define IOAPIC_EOI        0x40
#define IOAPIC_REG_ID     0x00
#define IOAPIC_REG_VER    0x01
#define IOAPIC_REG_ARB    0x02
#define IOAPIC_REG_REDTBL 0x10

/* Redirection entry bits (82093AA 3.2.4 "IOREDTBL[23:0]--I/O Redirection
 * Table Registers"). */
#define IOAPIC_DELIVS     (1ull << 12) /* delivery status (read-only) */
#define IOAPIC_REMOTE_IRR (1ull << 14) /* read-only */
#define IOAPIC_LEVEL      (1ull << 15)
#define IOAPIC_MASKED     (1ull << 16)

/* Sends one interrupt message onto the APIC bus (the core hands it to
 * the local APIC with lapic_bus_deliver()). */
typedef void (*ioapic_send_fn)(void *ctx, const struct apic_msg *m);

struct ioapic {
    uint8_t id;      /* bits 27:24 of the ID register */
    uint32_t regsel; /* IOREGSEL */
    uint64_t redir[IOAPIC_PINS];
    uint32_t asserted; /* the pins' inputs, one bit each */
    uint32_t irr;      /* requests waiting to be sent */
    ioapic_send_fn send;
    void *send_ctx;
};

/* Reset state: every entry masked, edge, vector 0; ID 0. */
void ioapic_init_state(struct ioapic *io, ioapic_send_fn send, void *send_ctx);

/* Drive pin `pin` (0..23): asserted or not.  An edge entry sends a
 * message on each rising edge while unmasked; a level entry sends one
 * while the pin is asserted and Remote IRR is clear. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool asserted);

/* The local APIC's EOI for a level-triggered `vector` (lapic_eoi_fn). */
void ioapic_eoi(void *ctx, uint8_t vector);

/* The memory-mapped registers (offset within the 4 KiB page).  IOWIN and
 * the EOI register take 32-bit accesses only, as on QEMU. */
uint64_t ioapic_mmio_read(void *ctx, uint64_t offset, uint8_t size);
void ioapic_mmio_write(void *ctx, uint64_t offset, uint8_t size, uint64_t value);

#endif
