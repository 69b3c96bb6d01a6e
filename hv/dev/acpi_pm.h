/*
 * acpi_pm.h - the ACPI fixed hardware a PC guest needs for a power button:
 * the PM1a event and control registers, the PM timer and the SMI command
 * port that switches the machine into ACPI mode, at the ports QEMU's PC
 * machine (PIIX4 power management) puts them, so that a guest finds them
 * where it finds them on plain QEMU, through the FADT (acpi_tables.h).
 *
 *   0x600  PM1a_STS  16 bits, write 1 to clear (ACPI 6.4 4.8.3.1.1 "PM1
 *                    Status Registers"): bit 8 PWRBTN_STS
 *   0x602  PM1a_EN   16 bits (4.8.3.1.2 "PM1 Enable Registers"): bit 8
 *                    PWRBTN_EN
 *   0x604  PM1a_CNT  16 bits (4.8.3.2.1 "PM1 Control Registers"): bit 0
 *                    SCI_EN, bits 12:10 SLP_TYP, bit 13 SLP_EN
 *   0x608  PM_TMR    32 bits read-only, a 24-bit count at 3.579545 MHz
 *                    (4.8.3.3 "Power Management Timer (PM_TMR)")
 *   0xb2   SMI_CMD   writing ACPI_ENABLE (0xf1) sets SCI_EN, ACPI_DISABLE
 *                    (0xf0) clears it (4.8.3.1 / 5.2.9 "Fixed ACPI
 *                    Description Table (FADT)"), the firmware's job on a PC
 *
 * The power button is the fixed-feature button of 4.8.3.1.1: pressing it
 * sets PWRBTN_STS, and while PWRBTN_EN and SCI_EN are set the SCI, a
 * level-triggered interrupt on ISA IRQ 9 (the FADT's SCI_INT), is raised
 * until the guest clears the status bit.  A guest that honours the button
 * then powers off (SLP_TYP 0 with SLP_EN here, QEMU's S5 value, or any
 * other way it has).  Compiled hosted too (tests/unit/test_hv_dev.c).
 */
#ifndef HV_DEV_ACPI_PM_H
#define HV_DEV_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "iobus.h"

/* The ports, as QEMU's PIIX4 has them (hv/dev/acpi_tables.c puts them in
 * the FADT). */
#define ACPI_PM_BASE     0x600
#define ACPI_PM1_EVT_LEN 4
#define ACPI_PM1_CNT_LEN 2
#define ACPI_PM_TMR_LEN  4
#define ACPI_SMI_CMD     0xb2
#define ACPI_ENABLE      0xf1
#define ACPI_DISABLE     0xf0
/* The SCI's ISA IRQ (the FADT's SCI_INT). */
#define ACPI_SCI_IRQ 9
/* The PM timer's rate in Hz. */
#define ACPI_PM_TMR_HZ 3579545u

/* PM1 register bits. */
#define ACPI_PM1_TMR_STS    (1u << 0)
#define ACPI_PM1_PWRBTN_STS (1u << 8)
#define ACPI_PM1_WAK_STS    (1u << 15)
#define ACPI_PM1_PWRBTN_EN  (1u << 8)
#define ACPI_PM1_SCI_EN     (1u << 0)
#define ACPI_PM1_SLP_TYP(c) (((c) >> 10) & 7u)
#define ACPI_PM1_SLP_EN     (1u << 13)

/* PM-timer ticks since some fixed time. */
typedef uint64_t (*acpi_pm_clock_fn)(void *ctx);

struct acpi_pm {
    uint16_t sts, en, cnt;
    /* A guest wrote SLP_EN with SLP_TYP 0 (S5): the machine is off. */
    bool poweroff;
    /* The SCI as the model drives it; the caller passes it on to the
     * interrupt controllers (core/irq.c). */
    bool sci;
    acpi_pm_clock_fn clock;
    void *clock_ctx;
    /* PM1a and the timer at 0x600..0x60b; the SMI command port. */
    struct io_device dev;
    struct io_device smi;
};

/* Power-on state: ACPI mode off (SCI_EN 0, as QEMU's firmware leaves it),
 * nothing enabled or pending; both devices ready for iobus_add(). */
void acpi_pm_init(struct acpi_pm *pm, acpi_pm_clock_fn clock, void *clock_ctx);

/* Press the power button: PWRBTN_STS, and the SCI if enabled. */
void acpi_pm_power_button(struct acpi_pm *pm);

#endif
