/*
 * uart16550.h - a model of the National Semiconductor PC16550D UART on the
 * guest's COM1, as far as a driver uses it (datasheet, "Register
 * Description" and table II).  The transmitter is infinitely fast: the
 * holding register is always empty (LSR.THRE and TEMT set), and every byte
 * written goes to the host console, one whole line at a time.  The
 * receiver takes bytes from the host (uart_receive: typed at a console
 * the manager holds, docs/control-protocol.md "Consoles") or, in loopback
 * mode (MCR bit 4), from the transmitter, as drivers use to probe the
 * chip.  It holds one byte in RBR (CHARACTER mode) or 16 in the receiver
 * FIFO (FIFO mode, FCR bit 0), and never more: the host offers bytes and
 * the model takes only what fits, so nothing is overrun and the rest waits
 * on the host's side.  The interrupt output follows IIR (received data,
 * character timeout and THR empty, as far as the driver enabled them in
 * IER): irq.c wires it to IRQ 4.  Compiled hosted too.
 */
#ifndef HV_DEV_UART16550_H
#define HV_DEV_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iobus.h"

/* Longest guest line kept; a longer one is passed on in pieces. */
#define UART_LINE_MAX 256
/* The receiver FIFO's depth (datasheet, "General Description": 16 bytes
 * in FIFO mode; RBR alone, one byte, in CHARACTER mode). */
#define UART_RX_FIFO 16

/* Receives each complete line of guest output (without the newline). */
typedef void (*uart_line_fn)(void *ctx, const char *line, size_t len);

struct uart16550 {
    /* Registers (offsets from the base port). */
    uint8_t ier;      /* +1: interrupt enable, bits 0-3 */
    uint8_t lcr;      /* +3: line control; bit 7 = DLAB */
    uint8_t mcr;      /* +4: modem control, bits 0-4 */
    uint8_t scr;      /* +7: scratch */
    uint8_t fcr;      /* +2 on write: FIFO control (bit 0 kept) */
    uint8_t dll, dlm; /* divisor latch, reached with DLAB = 1 */
    /* A pending "transmitter holding register empty" interrupt (IIR 0x2),
     * raised when THRE is enabled or a byte is sent, cleared by reading IIR
     * or writing THR (datasheet table IV). */
    bool thre_pending;
    /* The receiver: RBR, or the receiver FIFO in FIFO mode -- a ring of
     * rx_count bytes from rx_head, the oldest first. */
    uint8_t rx[UART_RX_FIFO];
    uint8_t rx_head, rx_count;
    /* The output line being collected. */
    char line[UART_LINE_MAX];
    size_t len;
    uart_line_fn out;
    void *out_ctx;
    /* The bus device for this UART. */
    struct io_device dev;
};

/* Reset state (datasheet table III "UART reset configuration") at `base`. */
void uart_init(struct uart16550 *u, uint16_t base, uart_line_fn out, void *out_ctx);
/* Pass on a partial last line (when the guest ends). */
void uart_flush(struct uart16550 *u);

/* Bytes that arrived on the serial input (SIN), as far as the receiver
 * has room for them now: returns how many of `len` it took, the first
 * ones; 0 while the guest has not read what is there.  Room is one byte
 * in CHARACTER mode, UART_RX_FIFO in FIFO mode. */
size_t uart_receive(struct uart16550 *u, const uint8_t *buf, size_t len);

/* The UART's interrupt output (the 16550's INTRPT pin): high while IIR
 * reports a pending interrupt, i.e. one the driver enabled in IER is due.
 * On a PC it reaches IRQ 4 (COM1); hv, like QEMU, does not gate it with
 * MCR.OUT2. */
bool uart_irq(const struct uart16550 *u);

#endif
