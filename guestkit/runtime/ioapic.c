/*
 * The I/O APIC (82093AA data sheet) and the little of the local APIC a
 * driver with interrupts needs (SDM vol 3A chapter 11 "Advanced
 * Programmable Interrupt Controller (APIC)"), and the 8259's ELCR.
 */
#include "klib.h"
#include "guestkit/console.h"
#include "guestkit/ioapic.h"
#include "guestkit/msr.h"
#include "guestkit/x86.h"

/* The I/O APIC's two windows: write a register number to IOREGSEL, then
 * read or write it through IOWIN (82093AA 3.0 "Register Description"). */
#define IOREGSEL 0x00
#define IOWIN    0x10
/* Register 1: version, bits 23:16 the highest redirection entry. */
#define IOAPIC_VER 0x01
/* Entry n: 0x10 + 2n (low half) and 0x11 + 2n (high half). */
#define IOREDTBL(n) (0x10 + 2 * (n))
/* Bits of an entry's low half (82093AA 3.2.4 "IOREDTBL[23:0]--I/O
 * Redirection Table Registers"). */
#define RTE_LEVEL  (1u << 15)
#define RTE_MASKED (1u << 16)

#define PC_IOAPIC_ADDRESS 0xfec00000ull

/* Local APIC registers (SDM vol 3A table 11-1 "Local APIC Register
 * Address Map"). */
#define LAPIC_ID        0x020
#define LAPIC_EOI       0x0b0
#define LAPIC_SVR       0x0f0
#define LAPIC_LVT_LINT0 0x350
/* LVT delivery mode 111: ExtINT, the vector comes from the 8259 (SDM vol
 * 3A 11.5.1 "Local Vector Table"); mask bit 16 clear. */
#define LVT_EXTINT (7u << 8)
/* SVR bit 8: APIC software enable (11.9 "Spurious Interrupt"). */
#define LAPIC_SVR_ENABLE   (1u << 8)
#define LAPIC_SPURIOUS_VEC 0xff
/* IA32_APIC_BASE: bits 12 and up are the page (11.4.4 "Local APIC
 * Status and Location"). */
#define APIC_BASE_PAGE_MASK 0xffffff000ull

/* The 8259's edge/level control registers, one bit per IRQ. */
#define ELCR1 0x4d0
#define ELCR2 0x4d1

static volatile uint32_t *lapic_reg(uint32_t offset)
{
    uint64_t page = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_PAGE_MASK;
    return (volatile uint32_t *)(uintptr_t)(page + offset);
}

void lapic_eoi(void)
{
    *lapic_reg(LAPIC_EOI) = 0;
}

static uint32_t ioapic_read(uint64_t base, uint32_t reg)
{
    *(volatile uint32_t *)(uintptr_t)(base + IOREGSEL) = reg;
    return *(volatile uint32_t *)(uintptr_t)(base + IOWIN);
}

static void ioapic_write(uint64_t base, uint32_t reg, uint32_t value)
{
    *(volatile uint32_t *)(uintptr_t)(base + IOREGSEL) = reg;
    *(volatile uint32_t *)(uintptr_t)(base + IOWIN) = value;
}

/* The I/O APIC serving `gsi` and the entry number there; false if none. */
static bool find_pin(uint32_t gsi, uint64_t *base, uint32_t *pin)
{
    struct ioapic_info list[8];
    int n = acpi_ioapics(list, 8);
    if (n == 0) {
        /* No MADT: the PC layout, one I/O APIC starting at GSI 0. */
        list[0].address = PC_IOAPIC_ADDRESS;
        list[0].gsi_base = 0;
        n = 1;
    }
    for (int i = 0; i < n && i < 8; i++) {
        uint32_t entries = ((ioapic_read(list[i].address, IOAPIC_VER) >> 16) & 0xff) + 1;
        if (gsi >= list[i].gsi_base && gsi < list[i].gsi_base + entries) {
            *base = list[i].address;
            *pin = gsi - list[i].gsi_base;
            return true;
        }
    }
    return false;
}

bool ioapic_route(uint32_t gsi, uint8_t vector, bool level)
{
    uint64_t base;
    uint32_t pin;
    if (!find_pin(gsi, &base, &pin)) {
        printf("ioapic: no I/O APIC serves GSI %u\n", gsi);
        return false;
    }
    /* The local APIC must be software-enabled to accept anything. */
    *lapic_reg(LAPIC_SVR) = LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VEC;
    /* Physical destination mode: the high half's bits 31:24 name the
     * local APIC by its ID (ID register bits 31:24). */
    uint32_t apic_id = *lapic_reg(LAPIC_ID) >> 24;
    /* Mask first, so the entry never fires half-written. */
    ioapic_write(base, IOREDTBL(pin), RTE_MASKED);
    ioapic_write(base, IOREDTBL(pin) + 1, apic_id << 24);
    /* Fixed delivery (000), physical mode, active high (polarity 0). */
    ioapic_write(base, IOREDTBL(pin), vector | (level ? RTE_LEVEL : 0));
    return true;
}

void lapic_virtual_wire(void)
{
    /* While the APIC is software-disabled every LVT entry stays masked
     * (11.4.7.2 "Local APIC State After It Has Been Software Disabled"),
     * so enable it first. */
    *lapic_reg(LAPIC_SVR) = LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VEC;
    *lapic_reg(LAPIC_LVT_LINT0) = LVT_EXTINT;
}

void ioapic_mask(uint32_t gsi)
{
    uint64_t base;
    uint32_t pin;
    if (find_pin(gsi, &base, &pin))
        ioapic_write(base, IOREDTBL(pin), RTE_MASKED);
}

void pic_set_level(int irq, bool level)
{
    uint16_t port = irq < 8 ? ELCR1 : ELCR2;
    uint8_t bit = (uint8_t)(1u << (irq & 7));
    uint8_t v = inb(port);
    outb(port, level ? (uint8_t)(v | bit) : (uint8_t)(v & ~bit));
}
