/*
 * Several CPUs: finding them in the ACPI MADT and starting the
 * application processors (APs) the way a PC's operating system does,
 * with INIT, STARTUP, STARTUP through the local APIC (SDM vol 3A 9.4.4
 * "MP Initialization Example", 11.6.1 "Interrupt Command Register
 * (ICR)"); runtime/smp.c, runtime/smp_tramp.S.
 *
 * An AP starts in real mode at the page a STARTUP IPI names, below 1 MiB:
 * the runtime copies a small trampoline to SMP_TRAMP_BASE, which takes
 * the AP to 64-bit mode on the BSP's page tables, GDT and IDT, on a stack
 * of its own, and calls the function smp_start_ap() was given.
 */
#ifndef GUESTKIT_SMP_H
#define GUESTKIT_SMP_H

/* Where the trampoline runs: page 0x70 (the STARTUP vector), free RAM
 * below the EBDA on QEMU's PC and under hv.  Shared with smp_tramp.S. */
#define SMP_TRAMP_BASE 0x70000
/* The most CPUs the runtime starts (stacks of SMP_STACK_SIZE each). */
#define SMP_MAX_CPUS   8
#define SMP_STACK_SIZE 16384

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

/* The APIC IDs of the enabled processors the MADT lists (ACPI 6.4
 * 5.2.12.2 "Processor Local APIC Structure"), in its order, at most max;
 * returns how many (0: no ACPI tables or no MADT).  runtime/acpi.c. */
int acpi_cpus(uint8_t *ids, int max);

/* This CPU's local APIC ID (xAPIC ID register bits 31:24). */
uint32_t lapic_id(void);
/* Software-enable this CPU's local APIC (spurious vector 0xff): an AP's
 * APIC is disabled after the INIT that starts it, and takes no IPIs
 * before this. */
void lapic_enable(void);
/* Send an IPI: the destination APIC ID into ICR bits 63:56, then
 * `icr_lo` (vector, delivery mode, level, shorthand) into bits 31:0,
 * which sends it; waits for the delivery status to go idle. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_lo);
/* ICR low words: fixed delivery of a vector, INIT (level assert), and a
 * STARTUP with the page number of the code (11.6.1). */
#define ICR_FIXED(vec)   ((uint32_t)(vec) | (1u << 14))
#define ICR_INIT         ((5u << 8) | (1u << 14))
#define ICR_STARTUP(vec) ((uint32_t)(vec) | (6u << 8) | (1u << 14))
#define ICR_NMI          ((4u << 8) | (1u << 14))
/* The Error Status Register after a write latched it (11.5.3 "Error
 * Handling"). */
uint32_t lapic_esr(void);

/* Start the AP with APIC ID `apic_id` (`slot`, 1..SMP_MAX_CPUS-1, picks
 * its stack): INIT, 10 ms, STARTUP, 200 us, STARTUP, as 9.4.4.1 "Typical
 * BSP Initialization Sequence" does, then wait (up to 3 s) until it runs
 * fn(arg) in 64-bit mode.  True once it does.  If fn returns, the AP
 * halts with interrupts off.  Call from the BSP, one AP at a time. */
bool smp_start_ap(uint8_t apic_id, unsigned slot, void (*fn)(void *), void *arg);

/* Busy-wait about `us` microseconds on the PIT's channel 0 (which it
 * reprograms): for the waits of the start sequence, and for a guest's own
 * bounded waits. */
void smp_delay_us(unsigned us);

#endif
#endif
