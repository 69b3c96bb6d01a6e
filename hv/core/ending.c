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

/* End the outer machine with `code` for its exit status, by whichever of
 * the three means works here; the common tail of the three endings below. */
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

/* The guest ended itself (port 0xf4 or HC_EXIT) with `code`: the outer
 * status carries the guest's code, so bin/hvrun can return it as its own. */
void end_guest_exit(uint32_t code)
{
    hv_print_stats();
    hv_log("exit: guest code=%u", code);
    outer_exit(code);
}

/* The guest cannot go on (triple fault, HLT with IF=0, access outside
 * RAM): the last line says why and the status is hv's failure value. */
void end_guest_crashed(const char *why)
{
    hv_print_stats();
    hv_log("exit: guest crashed (%s)", why);
    outer_exit(HVKIT_OUTER_EXIT_FAILURE);
}

/* hv itself cannot go on (bad option or image, no SVM/VMX, failed entry,
 * fault in hv): a printf-style reason on the last line.  The message is
 * formatted into a buffer first because it goes inside the parentheses
 * of one protocol line. */
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
