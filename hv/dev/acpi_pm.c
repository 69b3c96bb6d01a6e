/*
 * acpi_pm.c - the ACPI PM1a registers, PM timer and SMI command port (see
 * acpi_pm.h).  Compiled hosted too (tests/unit/test_hv_dev.c).
 */
#include "klib.h"

#include "acpi_pm.h"

/* Offsets inside the PM block at ACPI_PM_BASE. */
#define OFF_STS 0
#define OFF_EN  2
#define OFF_CNT 4
#define OFF_TMR 8

/* The SCI is raised while an enabled event is pending and the machine is
 * in ACPI mode (ACPI 6.4 4.8.3.1 "PM1 Event Grouping": a status bit with
 * its enable bit set raises the SCI; without SCI_EN the events would go to
 * the firmware's SMI handler instead, which hv does not have). */
static void update_sci(struct acpi_pm *pm)
{
    pm->sci = (pm->cnt & ACPI_PM1_SCI_EN) && (pm->sts & pm->en & ACPI_PM1_PWRBTN_STS);
}

/* A 16-bit register's bytes: `off` is the byte within the block, `size`
 * the access's width; an access may take the register in pieces. */
static uint32_t bytes_of(uint16_t reg, unsigned byte, uint8_t size)
{
    uint32_t v = (uint32_t)reg >> (8 * byte);
    return size == 1 ? v & 0xff : v & 0xffff;
}

static uint32_t pm_read(void *ctx, uint16_t off, uint8_t size)
{
    struct acpi_pm *pm = ctx;
    if (off >= OFF_TMR) {
        /* The PM timer: a free-running 24-bit count (the FADT says so:
         * TMR_VAL_EXT 0), read whole or in part. */
        uint32_t t = pm->clock ? (uint32_t)(pm->clock(pm->clock_ctx) & 0xffffff) : 0;
        t >>= 8 * (off - OFF_TMR);
        return size == 4 ? t : size == 2 ? t & 0xffff : t & 0xff;
    }
    /* Each 16-bit register at its even offset. */
    unsigned byte = off & 1;
    switch (off & ~1u) {
    case OFF_STS:
        return bytes_of(pm->sts, byte, size);
    case OFF_EN:
        return bytes_of(pm->en, byte, size);
    default:
        return bytes_of(pm->cnt, byte, size);
    }
}

/* `value` written at byte `byte` of a 16-bit register, `size` bytes wide:
 * the register's new bits and which of them the write covered. */
static void split(unsigned byte, uint8_t size, uint32_t value, uint16_t *bits, uint16_t *mask)
{
    uint16_t m = size == 1 ? 0xff : 0xffff;
    *mask = (uint16_t)(m << (8 * byte));
    *bits = (uint16_t)((value & m) << (8 * byte));
}

static void pm_write(void *ctx, uint16_t off, uint8_t size, uint32_t value)
{
    struct acpi_pm *pm = ctx;
    uint16_t bits, mask;
    /* The PM timer is read-only. */
    if (off >= OFF_TMR)
        return;
    split(off & 1, size, value, &bits, &mask);
    switch (off & ~1u) {
    case OFF_STS:
        /* Status bits clear when written with 1 (4.8.3.1.1). */
        pm->sts &= (uint16_t) ~(bits & mask);
        break;
    case OFF_EN:
        pm->en = (uint16_t)((pm->en & ~mask) | bits);
        break;
    default:
        /* SLP_EN is write-only and starts the sleep it names: SLP_TYP 0
         * is S5 (soft off) in QEMU's DSDT, the only state hv has. */
        pm->cnt = (uint16_t)((pm->cnt & ~mask) | (bits & ~ACPI_PM1_SLP_EN));
        if ((bits & mask & ACPI_PM1_SLP_EN) && ACPI_PM1_SLP_TYP(pm->cnt) == 0)
            pm->poweroff = true;
        break;
    }
    update_sci(pm);
}

/* The SMI command port: the firmware's ACPI enable and disable. */
static uint32_t smi_read(void *ctx, uint16_t off, uint8_t size)
{
    (void)ctx;
    (void)off;
    (void)size;
    return 0;
}

static void smi_write(void *ctx, uint16_t off, uint8_t size, uint32_t value)
{
    struct acpi_pm *pm = ctx;
    (void)off;
    (void)size;
    /* What a PC's SMM firmware does for these two commands (5.2.9, the
     * FADT's ACPI_ENABLE and ACPI_DISABLE): switch SCI_EN. */
    if ((value & 0xff) == ACPI_ENABLE)
        pm->cnt |= ACPI_PM1_SCI_EN;
    else if ((value & 0xff) == ACPI_DISABLE)
        pm->cnt &= (uint16_t)~ACPI_PM1_SCI_EN;
    update_sci(pm);
}

void acpi_pm_init(struct acpi_pm *pm, acpi_pm_clock_fn clock, void *clock_ctx)
{
    memset(pm, 0, sizeof(*pm));
    pm->clock = clock;
    pm->clock_ctx = clock_ctx;
    /* PM1a_EVT, PM1a_CNT and PM_TMR back to back, as on PIIX4. */
    pm->dev = (struct io_device){
        .name = "acpi-pm",
        .base = ACPI_PM_BASE,
        .count = 12,
        .wide = true,
        .read = pm_read,
        .write = pm_write,
        .ctx = pm,
    };
    pm->smi = (struct io_device){
        .name = "acpi-smi-cmd",
        .base = ACPI_SMI_CMD,
        .count = 1,
        .wide = false,
        .read = smi_read,
        .write = smi_write,
        .ctx = pm,
    };
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
    /* The button latches its status until the guest clears it. */
    pm->sts |= ACPI_PM1_PWRBTN_STS;
    update_sci(pm);
}
