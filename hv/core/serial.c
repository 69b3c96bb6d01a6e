/*
 * serial.c - the host console: the outer machine's COM1, a 16550 UART driven
 * by polling (hv runs with interrupts off).
 *
 * Register map (National Semiconductor PC16550D datasheet, "Register
 * Description"): base+0 THR (or the divisor latch low byte when LCR.DLAB=1),
 * +1 IER (divisor high), +2 FCR, +3 LCR, +4 MCR, +5 LSR.
 */
#include "hvkit/abi.h"

#include "cpu.h"
#include "log.h"

#define COM1 HVKIT_PORT_COM1

void serial_init(void)
{
    /* No UART interrupts: hv polls. */
    outb(COM1 + 1, 0x00);
    /* LCR.DLAB = 1 to reach the divisor latch. */
    outb(COM1 + 3, 0x80);
    /* Divisor 1 = 115200 baud (1.8432 MHz clock / 16 / 1). */
    outb(COM1 + 0, 0x01);
    outb(COM1 + 1, 0x00);
    /* LCR: 8 data bits, no parity, 1 stop bit, DLAB back to 0. */
    outb(COM1 + 3, 0x03);
    /* FCR: enable and clear both FIFOs. */
    outb(COM1 + 2, 0x07);
    /* MCR: DTR and RTS asserted, as a terminal expects. */
    outb(COM1 + 4, 0x03);
}

/* Send one byte once the transmitter holding register is empty (LSR bit 5). */
void serial_putc(char c)
{
    /* Bounded wait: a missing UART reads 0xff, which has THRE set, so this
     * never spins forever on a machine without COM1. */
    for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
        ;
    outb(COM1, (uint8_t)c);
}
