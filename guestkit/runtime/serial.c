/*
 * COM1 driver for a 16550A UART, written as for real hardware (PC16550D data
 * sheet, National Semiconductor, section 8 "Registers").  QEMU and hv model
 * the same chip, so the same code works everywhere.
 */
#include "guestkit/console.h"
#include "guestkit/x86.h"
#include "hvkit/abi.h"

#define COM1 HVKIT_PORT_COM1

void serial_init(void)
{
    /* No UART interrupts: we poll (IER = 0). */
    outb(COM1 + UART_IER, 0x00);
    /* Baud rate: set DLAB to reach the divisor latch, then divisor 1 =
     * 115200 baud from the 1.8432 MHz clock (data sheet table 3). */
    outb(COM1 + UART_LCR, UART_LCR_DLAB);
    outb(COM1 + UART_DLL, 0x01);
    outb(COM1 + UART_DLM, 0x00);
    /* Clearing DLAB again and choosing 8 data bits, no parity, 1 stop bit. */
    outb(COM1 + UART_LCR, UART_LCR_8N1);
    /* FCR: enable the FIFOs (bit 0), clear both (bits 1, 2), receive
     * trigger level 14 bytes (bits 7:6 = 11). */
    outb(COM1 + UART_IIR_FCR, 0xc7);
    /* MCR: DTR and RTS on (a listening terminal sees us), OUT2 on (it gates
     * the interrupt line on PCs; harmless while IER = 0). */
    outb(COM1 + UART_MCR, 0x0b);
}

void serial_putc(char c)
{
    /* Wait until the transmit holding register (or FIFO) can take a byte.
     * A real UART empties it at the baud rate; an emulated one at once. */
    while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
        ;
    outb(COM1 + UART_RBR_THR, (uint8_t)c);
}

void serial_flush(void)
{
    /* TEMT: both the holding register and the shift register are empty, so
     * the last byte has left the chip. */
    while (!(inb(COM1 + UART_LSR) & UART_LSR_TEMT))
        ;
}

char serial_getc(void)
{
    /* DR: the receiver (RBR, or the FIFO in FIFO mode) holds a byte.  A
     * real UART sets it when a character has arrived on the line; QEMU's
     * when its character device gave one, hv's when the manager's
     * x-console-write put one there. */
    while (!(inb(COM1 + UART_LSR) & UART_LSR_DR))
        ;
    return (char)inb(COM1 + UART_RBR_THR);
}
