/*
 * serial.c - the host console: the outer machine's COM1, a 16550 UART driven
 * by polling (hv runs with interrupts off).
 *
 * Register map (National Semiconductor PC16550D datasheet, "Register
 * Description"): base+0 THR (or the divisor latch low byte when LCR.DLAB=1),
 * +1 IER (divisor high), +2 FCR, +3 LCR, +4 MCR, +5 LSR.
 */
#include "hvkit/abi.h"

#include "benchcount.h"
#include "cpu.h"
#include "log.h"

/* The outer machine's COM1 is at the same port as the guest's (0x3f8):
 * hv uses the real one with IN/OUT, the guest's are intercepted and go to
 * the model in dev/uart16550.c, so the two never meet. */
#define COM1 HVKIT_PORT_COM1

/*
 * Program the host's COM1 for 115200 8N1, for hv_main() before
 * anything is logged.  QEMU and Bochs ignore the speed (their serial goes
 * to a file or pipe), but real hardware and a terminal on the other end
 * need a defined setting.
 */
void serial_init(void)
{
    /* No UART interrupts: hv polls. */
    outb(COM1 + 1, 0x00);
    /* LCR.DLAB = 1 to reach the divisor latch. */
    outb(COM1 + 3, 0x80);
    /* Divisor 1 = 115200 baud (1.8432 MHz clock / 16 / 1). */
    outb(COM1 + 0, 0x01);
    /* Divisor high byte 0 (port +1 is DLM while DLAB = 1). */
    outb(COM1 + 1, 0x00);
    /* LCR: 8 data bits, no parity, 1 stop bit, DLAB back to 0. */
    outb(COM1 + 3, 0x03);
    /* FCR: the FIFOs stay off, as after reset.  Turning them on clears
     * both (PC16550D datasheet, "FIFO Control Register": a change of bit
     * 0 resets them; QEMU does the same), and the receiver may already
     * hold input (bin/hvrun --console-input feeds COM1 from the start): a
     * byte would be lost.  Polled, one byte at a time is enough. */
    outb(COM1 + 2, 0x00);
    /* MCR: DTR and RTS asserted, as a terminal expects. */
    outb(COM1 + 4, 0x03);
}

/* A received byte waits when LSR bit 0 (DR, data ready) is set; reading
 * port +0 with DLAB = 0 (the receiver buffer register) takes it, and the
 * emulator puts the next one there.  A missing UART reads 0xff everywhere, which would look like an
 * endless stream of 0xff bytes: that is no input. */
bool serial_getc(uint8_t *c)
{
    BENCH_COUNT(outer_io);
    uint8_t lsr = inb(COM1 + 5);
    if (lsr == 0xff || !(lsr & 0x01))
        return false;
    BENCH_COUNT(outer_io);
    *c = inb(COM1);
    return true;
}

/* Send one byte once the transmitter holding register is empty (LSR bit 5). */
void serial_putc(char c)
{
    /* Bounded wait: a missing UART reads 0xff, which has THRE set, so this
     * never spins forever on a machine without COM1. */
    for (int i = 0; i < 100000 && (BENCH_COUNT(outer_io), !(inb(COM1 + 5) & 0x20)); i++)
        ;
    /* Port +0 with DLAB = 0 is the transmitter holding register. */
    BENCH_COUNT(outer_io);
    outb(COM1, (uint8_t)c);
}
