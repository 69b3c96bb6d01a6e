/*
 * acpi_tables.h - the ACPI tables hv gives a guest: just enough for it to
 * find the fixed hardware of acpi_pm.h, as it finds QEMU's on a PC.
 *
 *   RSDP  5.2.5.3 "Root System Description Pointer (RSDP) Structure",
 *         revision 0 (ACPI 1.0: an RSDT, no XSDT), where a guest scans for
 *         it (the BIOS area, 5.2.5.1 "Finding the RSDP on IA-PC Systems")
 *   RSDT  5.2.7 "Root System Description Table (RSDT)": the FADT and
 *         the MADT
 *   FADT  5.2.9 "Fixed ACPI Description Table (FADT)", revision 1 (116
 *         bytes): SCI on IRQ 9, SMI_CMD 0xb2 with ACPI_ENABLE 0xf1 and
 *         ACPI_DISABLE 0xf0, PM1a event and control blocks and the PM
 *         timer at 0x600/0x604/0x608, a fixed-feature power button
 *         (PWR_BUTTON flag clear), all as QEMU's PIIX4
 *   DSDT  5.2.11.1 "Differentiated System Description Table (DSDT)": a
 *         header with no AML (hv has no devices to describe in AML)
 *   FACS  5.2.10 "Firmware ACPI Control Structure (FACS)", 64-byte aligned
 *   MADT  5.2.12 "Multiple APIC Description Table (MADT)", revision 1:
 *         the local APICs' address 0xfee00000, PCAT_COMPAT (the 8259 pair
 *         is there too), one Processor Local APIC entry (5.2.12.2) per
 *         vCPU with ACPI processor UID and APIC ID 0..N-1, enabled; the
 *         I/O APIC (5.2.12.3) with ID 0 at 0xfec00000, GSI base 0; and the
 *         Interrupt Source Override (5.2.12.5) of ISA IRQ 0 to GSI 2, as
 *         QEMU's PC machine lists them: how a guest finds its CPUs
 *         (core/smp.c)
 *
 * Compiled hosted too (tests/unit/test_hv_dev.c).
 */
#ifndef HV_DEV_ACPI_TABLES_H
#define HV_DEV_ACPI_TABLES_H

#include <stddef.h>
#include <stdint.h>

/* Where hv puts them in guest-physical memory: the BIOS area, 16-byte
 * aligned for the RSDP scan, and the room they take. */
#define ACPI_TABLES_GPA  0xf0000u
#define ACPI_TABLES_SIZE 0x200u

/* The most CPUs the MADT has room for. */
#define ACPI_MADT_MAX_CPUS 8

/* Write the tables into `buf` (ACPI_TABLES_SIZE bytes), which the guest
 * will see at guest-physical `gpa` (each table points at the next by its
 * guest-physical address), for a machine of `ncpus` CPUs (1 to
 * ACPI_MADT_MAX_CPUS) of which those in the mask `enabled` (bit i for
 * CPU i) run now; the others can be brought online later (vCPU hot-plug,
 * include/hvkit/pv.h).  Returns the bytes used. */
size_t acpi_tables_build(uint8_t *buf, uint32_t gpa, unsigned ncpus, uint32_t enabled);

#endif
