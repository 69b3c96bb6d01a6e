/*
 * acpi_tables.c - the RSDP, RSDT, FADT, DSDT and FACS hv gives a guest
 * (see acpi_tables.h for what each holds and why).  Compiled hosted too
 * (tests/unit/test_hv_dev.c).
 */
#include "klib.h"

#include "acpi_pm.h"
#include "acpi_tables.h"

/* Offsets of each table in the buffer (and from `gpa` for the guest).
 * The FACS must be 64-byte aligned (5.2.10). */
#define AT_RSDP 0x00
#define AT_RSDT 0x20
#define AT_FADT 0x50
#define AT_DSDT 0xd0
#define AT_FACS 0x100
#define AT_MADT 0x140

/* The header every table but the RSDP and FACS starts with (5.2.6 "System
 * Description Table Header"). */
#define HDR_LEN  36
#define FADT_LEN 116
#define RSDT_LEN (HDR_LEN + 8)
/* The MADT: header, local APIC address and flags, then the entries
 * (5.2.12, table 5.43 "Multiple APIC Description Table (MADT) Format"). */
#define MADT_LAPIC_LEN  8  /* 5.2.12.2 "Processor Local APIC Structure" */
#define MADT_IOAPIC_LEN 12 /* 5.2.12.3 "I/O APIC Structure" */
#define MADT_ISO_LEN    10 /* 5.2.12.5 "Interrupt Source Override Structure" */
#define MADT_LEN(n)     (HDR_LEN + 8 + (n)*MADT_LAPIC_LEN + MADT_IOAPIC_LEN + MADT_ISO_LEN)
#define FACS_LEN        64
#define RSDP_LEN        20
#define OEM_ID          "HVKIT "
#define OEM_TABLE       "HVKITPC "

/* Little-endian stores into the buffer. */
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

/* The byte that makes `len` bytes sum to zero (5.2.6: "the entire table,
 * including the checksum field, must add to zero"). */
static uint8_t checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)-sum;
}

/* A table header: signature, length, revision, the OEM's names; the
 * checksum is filled when the table is complete (finish()). */
static void header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, OEM_ID, 6);
    memcpy(t + 16, OEM_TABLE, 8);
    /* OEM revision, creator ID and creator revision. */
    put32(t + 24, 1);
    memcpy(t + 28, "HVKT", 4);
    put32(t + 32, 1);
}

/* Byte 9 of the header: the table's checksum. */
static void finish(uint8_t *t, uint32_t len)
{
    t[9] = 0;
    t[9] = checksum(t, len);
}

/* The FADT's fields (5.2.9, table 5.9 "FADT Format"), by byte offset. */
static void fadt(uint8_t *t, uint32_t gpa)
{
    header(t, "FACP", FADT_LEN, 1);
    put32(t + 36, gpa + AT_FACS); /* FIRMWARE_CTRL */
    put32(t + 40, gpa + AT_DSDT); /* DSDT */
    put16(t + 46, ACPI_SCI_IRQ);  /* SCI_INT */
    put32(t + 48, ACPI_SMI_CMD);  /* SMI_CMD */
    t[52] = ACPI_ENABLE;
    t[53] = ACPI_DISABLE;
    put32(t + 56, ACPI_PM_BASE);     /* PM1a_EVT_BLK */
    put32(t + 64, ACPI_PM_BASE + 4); /* PM1a_CNT_BLK */
    put32(t + 76, ACPI_PM_BASE + 8); /* PM_TMR_BLK */
    t[88] = ACPI_PM1_EVT_LEN;
    t[89] = ACPI_PM1_CNT_LEN;
    t[91] = ACPI_PM_TMR_LEN;
    /* No C2/C3 states: latencies above the limits (100 and 1000 us) say
     * so, as QEMU's FADT does. */
    put16(t + 96, 0xfff);
    put16(t + 98, 0xffff);
    /* Flags at 112: WBINVD (bit 0) and PROC_C1 (bit 2); PWR_BUTTON (bit
     * 4) clear: the power button is the fixed-feature one of acpi_pm.h;
     * TMR_VAL_EXT (bit 8) clear: a 24-bit PM timer. */
    put32(t + 112, (1u << 0) | (1u << 2));
    finish(t, FADT_LEN);
}

/* The MADT for `n` CPUs, those in `enabled` running (acpi_tables.h says
 * what it lists). */
static void madt(uint8_t *t, unsigned n, uint32_t enabled)
{
    uint32_t len = MADT_LEN(n);
    header(t, "APIC", len, 1);
    /* The local APICs' physical address, and flags bit 0 PCAT_COMPAT: the
     * system also has a PC-AT-compatible dual 8259 (table 5.43). */
    put32(t + 36, 0xfee00000u);
    put32(t + 40, 1);
    uint8_t *e = t + HDR_LEN + 8;
    for (unsigned i = 0; i < n; i++, e += MADT_LAPIC_LEN) {
        /* Type 0, length, ACPI processor UID, APIC ID, flags (table 5.45
         * "Local APIC Flags"): bit 0 Enabled for a CPU that runs, else
         * bit 1 Online Capable, "the system supports enabling this
         * processor during OS runtime" (vCPU hot-plug). */
        e[0] = 0;
        e[1] = MADT_LAPIC_LEN;
        e[2] = (uint8_t)i;
        e[3] = (uint8_t)i;
        put32(e + 4, (enabled >> i) & 1 ? 1 : 2);
    }
    /* Type 1: I/O APIC ID, reserved, address, global system interrupt
     * base. */
    e[0] = 1;
    e[1] = MADT_IOAPIC_LEN;
    e[2] = 0;
    put32(e + 4, 0xfec00000u);
    put32(e + 8, 0);
    e += MADT_IOAPIC_LEN;
    /* Type 2: bus 0 (ISA), source IRQ 0 arrives on GSI 2, flags 0
     * (conforming polarity and trigger): the PIT's wiring (irq.c). */
    e[0] = 2;
    e[1] = MADT_ISO_LEN;
    e[2] = 0;
    e[3] = 0;
    put32(e + 4, 2);
    put16(e + 8, 0);
    finish(t, len);
}

size_t acpi_tables_build(uint8_t *buf, uint32_t gpa, unsigned ncpus, uint32_t enabled)
{
    if (ncpus < 1)
        ncpus = 1;
    if (ncpus > ACPI_MADT_MAX_CPUS)
        ncpus = ACPI_MADT_MAX_CPUS;
    memset(buf, 0, ACPI_TABLES_SIZE);
    /* RSDP: signature, checksum over its 20 bytes, OEM, revision 0, the
     * RSDT's address. */
    uint8_t *r = buf + AT_RSDP;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, OEM_ID, 6);
    put32(r + 16, gpa + AT_RSDT);
    r[8] = checksum(r, RSDP_LEN);
    /* RSDT: two entries, the FADT and the MADT. */
    header(buf + AT_RSDT, "RSDT", RSDT_LEN, 1);
    put32(buf + AT_RSDT + HDR_LEN, gpa + AT_FADT);
    put32(buf + AT_RSDT + HDR_LEN + 4, gpa + AT_MADT);
    finish(buf + AT_RSDT, RSDT_LEN);
    fadt(buf + AT_FADT, gpa);
    /* DSDT: no AML; revision 1 (32-bit integers in AML). */
    header(buf + AT_DSDT, "DSDT", HDR_LEN, 1);
    finish(buf + AT_DSDT, HDR_LEN);
    /* FACS: signature and length; the rest (waking vector, global lock)
     * zero, version 0. */
    memcpy(buf + AT_FACS, "FACS", 4);
    put32(buf + AT_FACS + 4, FACS_LEN);
    madt(buf + AT_MADT, ncpus, enabled | 1u);
    return AT_MADT + MADT_LEN(ncpus);
}

/* The tables must fit their room with the most CPUs. */
_Static_assert(AT_MADT + MADT_LEN(ACPI_MADT_MAX_CPUS) <= ACPI_TABLES_SIZE, "ACPI tables too big");
_Static_assert(AT_RSDT + RSDT_LEN <= AT_FADT, "RSDT overlaps the FADT");
