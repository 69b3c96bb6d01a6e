/*
 * Routing a device's interrupt line to a vector: through the I/O APIC(s)
 * and the local APIC, the way an OS on a PC does it, or through the 8259
 * pair (pic.h) for lines 0..15.  virtio-mmio devices use it (virtio.h).
 *
 * Which I/O APIC serves a global system interrupt (GSI) comes from the
 * ACPI MADT when the firmware provides one (QEMU's microvm has two I/O
 * APICs: GSI 0..23 and 24..47); without ACPI (hv) the PC default is
 * assumed: one I/O APIC at 0xfec00000 serving GSI 0 upwards.
 */
#ifndef GUESTKIT_IOAPIC_H
#define GUESTKIT_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* One I/O APIC: its registers' address and the first GSI it serves. */
struct ioapic_info {
    uint64_t address;
    uint32_t gsi_base;
    uint8_t id;
};

/* The I/O APICs the ACPI MADT lists (ACPI 6.4, 5.2.12 "Multiple APIC
 * Description Table (MADT)"), at most max of them; returns how many, 0
 * when there is no ACPI or no MADT. */
int acpi_ioapics(struct ioapic_info *out, int max);

/* Route GSI `gsi` to `vector` on this CPU: fixed delivery, physical
 * destination (the local APIC's ID), level-triggered active-high or
 * edge-triggered, unmasked.  Also software-enables the local APIC.
 * False (with a line printed) when no I/O APIC serves the GSI. */
bool ioapic_route(uint32_t gsi, uint8_t vector, bool level);
/* Mask the GSI's entry again. */
void ioapic_mask(uint32_t gsi);

/* The local APIC's end-of-interrupt, for a vector handler to call last. */
void lapic_eoi(void);

/* Let the 8259's interrupts through the local APIC: software-enable it and
 * set LINT0 to ExtINT, unmasked ("virtual wire" mode).  QEMU's PC firmware
 * leaves LINT0 so, and so does hv; QEMU's microvm leaves it masked. */
void lapic_virtual_wire(void);

/* 8259 lines 0..15 in level mode, through the edge/level control
 * registers at 0x4d0/0x4d1 (the "ELCR" PC chipsets and QEMU have). */
void pic_set_level(int irq, bool level);

#endif
