/*
 * ACPI's fixed-feature power button, as a PC (QEMU's, or hv) offers it: the
 * host's "press the power button" (QEMU's system_powerdown, hv's
 * domain_request_powerdown) sets PWRBTN_STS and raises the SCI, which an
 * OS takes as the request to shut down (ACPI 6.4 4.8.2.2.1.1 "Power Button
 * Override" and 4.8.3.1 "PM1 Event Grouping").  runtime/acpi.c.
 */
#ifndef GUESTKIT_ACPI_H
#define GUESTKIT_ACPI_H

#include <stdbool.h>

/* Find the FADT, switch the machine into ACPI mode, route the SCI through
 * the 8259 to a handler and enable the power button's event: from then on
 * `pressed` is called (in the interrupt handler, so it should only set a
 * flag) each time the button is pressed, once interrupts are on.  The
 * 8259s must be set up first (pic_init(), pic.h): the SCI is unmasked on
 * them.  False when there is no FADT or the switch to ACPI mode fails. */
bool acpi_power_button_init(void (*pressed)(void));

/* Has the power button been pressed since the last look?  Reads and clears
 * PWRBTN_STS itself, for code that waits with interrupts off (an NMI
 * handler); after acpi_power_button_init(), which may get NULL then. */
bool acpi_power_button_poll(void);

#endif
