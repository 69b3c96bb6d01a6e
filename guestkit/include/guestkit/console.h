/*
 * The guest's console: the first serial port (COM1, a 16550 UART) and the
 * printf family built on klib's kvformat.  Output lines end in a bare '\n'
 * (no '\r') so that logs captured from QEMU's -serial stdio or from hv
 * compare cleanly with grep.
 */
#ifndef GUESTKIT_CONSOLE_H
#define GUESTKIT_CONSOLE_H

#include <stdint.h>

/* COM1 register offsets from the base port (PC16550D data sheet, table 2). */
#define UART_RBR_THR 0 /* receive buffer (read) / transmit holding (write) */
#define UART_IER     1 /* interrupt enable */
#define UART_IIR_FCR 2 /* interrupt identification (read) / FIFO control (write) */
#define UART_LCR     3 /* line control; bit 7 = DLAB selects the divisor latch */
#define UART_MCR     4 /* modem control */
#define UART_LSR     5 /* line status */
#define UART_MSR     6 /* modem status */
#define UART_SCR     7 /* scratch register: no function, just a byte of storage */
#define UART_DLL     0 /* divisor latch low (when LCR.DLAB = 1) */
#define UART_DLM     1 /* divisor latch high (when LCR.DLAB = 1) */

#define UART_LCR_8N1  0x03 /* 8 data bits, no parity, 1 stop bit */
#define UART_LCR_DLAB 0x80 /* divisor latch access */
#define UART_LSR_DR   0x01 /* data ready */
#define UART_LSR_THRE 0x20 /* transmit holding register empty */
#define UART_LSR_TEMT 0x40 /* transmitter empty (holding and shift register) */

/* Program COM1 for 115200 baud 8N1 with FIFOs on.  Called by the runtime
 * before main; calling it again is harmless. */
void serial_init(void);
/* Send one byte, waiting for LSR.THRE first. */
void serial_putc(char c);
/* Wait until everything sent has left the transmitter (LSR.TEMT). */
void serial_flush(void);
/* Wait for a byte on COM1's receiver (LSR.DR, data sheet 8.4 "Line
 * Status Register") and read it from RBR. */
char serial_getc(void);

/* Send what printf, puts and putchar print to out(c) instead of COM1 (NULL:
 * COM1 again).  A console driver such as virtio_console.h uses it. */
void console_set_output(void (*out)(char c));

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, __builtin_va_list ap);
/* Like libc: the string followed by a newline. */
int puts(const char *s);
int putchar(int c);

#endif
