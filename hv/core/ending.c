/*
 * ending.c - ending the outer machine.
 *
 * Under QEMU with `-device isa-debug-exit,iobase=0xf4,iosize=4`, writing N to
 * port 0xf4 ends QEMU with status (N << 1) | 1, so hv passes the guest's own
 * code on and hv's status equals the guest's alone.  Bochs and real hardware
 * have no such port: the write is ignored and we fall back to the Bochs
 * shutdown port 0x8900 (writing the string "Shutdown" there makes Bochs
 * quit), and finally halt.
 */
#include "hvkit/abi.h"
#include "klib.h"

#include "cpu.h"
#include "ending.h"
#include "log.h"

/* Provided by the core: print the exit statistics before the last line. */
void hv_print_stats(void);

static __attribute__((noreturn)) void outer_exit(uint32_t code)
{
    /* Let COM1 finish sending the last line first (LSR bit 6, TEMT: FIFO and
     * shift register empty): Bochs's shutdown port ends the emulator at once
     * and drops what the UART still holds.  Bounded, like serial_putc(). */
    for (int i = 0; i < 1000000 && !(inb(HVKIT_PORT_COM1 + 5) & 0x40); i++)
        ;
    /* QEMU isa-debug-exit: a 32-bit write ends the emulator. */
    outl(HVKIT_PORT_DEBUG_EXIT, code);
    /* Still here: no isa-debug-exit.  Try Bochs's shutdown port. */
    for (const char *s = "Shutdown"; *s; s++)
        outb(0x8900, (uint8_t)*s);
    /* Real hardware: nothing more we can do; the log says how it ended. */
    cpu_halt_forever();
}

void end_guest_exit(uint32_t code)
{
    hv_print_stats();
    hv_log("exit: guest code=%u", code);
    outer_exit(code);
}

void end_guest_crashed(const char *why)
{
    hv_print_stats();
    hv_log("exit: guest crashed (%s)", why);
    outer_exit(HVKIT_OUTER_EXIT_FAILURE);
}

void end_error(const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    /* Statistics only exist once the guest ran (e.g. a failed VMRUN). */
    hv_print_stats();
    hv_log("exit: error (%s)", why);
    outer_exit(HVKIT_OUTER_EXIT_FAILURE);
}
