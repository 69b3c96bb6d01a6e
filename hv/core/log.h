/*
 * log.h - hv's console: the outer machine's COM1, and the line protocol that
 * bin/hvrun reads (include/hvkit/abi.h).
 *
 * Every message hv prints is one whole line starting with "[hv] ".  Guest
 * console output (from the virtual UART or HC_PUTS) is passed through line
 * by line with log_guest_line(), so hv and guest text never share a line.
 */
#ifndef HV_CORE_LOG_H
#define HV_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Print one "[hv] " line; fmt is klib's printf format, no trailing newline. */
void hv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hv_vlog(const char *fmt, va_list ap);

/* Pass one line of guest console output through unchanged (a newline is
 * added).  len bytes from s, which need not be NUL-terminated. */
void log_guest_line(const char *s, size_t len);

/* Set up the host serial port, COM1 (hv/core/serial.c). */
void serial_init(void);
/* One byte the outer machine's COM1 received, if it has one (bin/hvrun
 * --console-input feeds it from hvrun's standard input): true with *c. */
bool serial_getc(uint8_t *c);

/* Any of the outer machine's 16550 UARTs by its base port (serial.c):
 * set up (with its FIFOs or not), there at all, send a byte, the next
 * received byte or -1. */
void serial_port_init(uint16_t port, bool fifo);
bool serial_port_present(uint16_t port);
void serial_port_putc(uint16_t port, char c);
int serial_port_getc(uint16_t port);

#endif
