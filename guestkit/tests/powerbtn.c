/*
 * powerbtn: a guest that honours the power button, as an OS does when the
 * host asks it to shut down (QEMU's system_powerdown, hv's
 * domain_request_powerdown, xl shutdown): it takes the machine into ACPI
 * mode, enables the fixed-feature power button's event and waits in HLT;
 * the button raises the SCI, and the guest says so and powers off.
 *
 * It then ends with code 0 through isa-debug-exit, as a guestkit guest
 * does.
 *
 * Without a FADT (no ACPI) it says so and exits 3.  Nothing ends the wait
 * but the button: a test presses it from outside (tests/integration/
 * powerdown.sh), or the run's time limit stops the machine.
 */
#include "guestkit/acpi.h"
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"

static volatile bool pressed;

static void on_press(void)
{
    pressed = true;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* The 8259s on vectors 32..47 with every line masked (the BIOS left
     * its timer on IRQ 0 at vector 8), and the timer stopped. */
    pit_stop();
    pic_init();
    if (!acpi_power_button_init(on_press)) {
        printf("powerbtn: no ACPI power button (no FADT, or ACPI mode refused)\n");
        return 3;
    }
    printf("powerbtn: waiting for the power button\n");
    /* HLT with interrupts on until the SCI's handler has seen the press. */
    while (!pressed)
        safe_halt();
    cli();
    printf("powerbtn: the power button was pressed: powering off\n");
    return 0;
}
