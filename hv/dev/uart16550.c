/*
 * uart16550.c - the 16550 model (see uart16550.h).  Register numbers and
 * bits from the PC16550D datasheet, table II.
 *
 * A driver talks to a 16550 through eight ports.  Two of them mean two
 * things each: with LCR.DLAB = 1, offsets 0 and 1 reach the baud-rate
 * divisor instead of THR/RBR and IER, and offset 2 is IIR when read and
 * FCR when written.  The model keeps every register a driver may read back
 * (so a probe that writes and reads the scratch register or LCR sees a real
 * chip) and makes transmission instantaneous, so that the line status
 * always says "ready" and a polling driver never waits.
 */
#include "klib.h"

#include "uart16550.h"

/* Register offsets from the base port (datasheet table II).  Three of the
 * eight offsets are shared by two registers, chosen by DLAB or by the
 * direction of the access. */
#define REG_RBR_THR 0 /* DLAB=0: receive / transmit; DLAB=1: divisor low */
#define REG_IER     1 /* DLAB=0; DLAB=1: divisor high */
#define REG_IIR_FCR 2 /* read: interrupt identification; write: FIFO control */
#define REG_LCR     3
#define REG_MCR     4
#define REG_LSR     5
#define REG_MSR     6
#define REG_SCR     7

/* The register bits the model acts on; the rest are stored and read back
 * (or ignored) without meaning anything here. */
#define LCR_DLAB        0x80
#define MCR_LOOP        0x10
#define LSR_DR          0x01
#define LSR_THRE        0x20
#define LSR_TEMT        0x40
#define IER_ETBEI       0x02 /* enable transmitter holding register empty interrupt */
#define IER_ERBFI       0x01 /* enable received data available interrupt */
#define IIR_NONE        0x01
#define IIR_THRE        0x02
#define IIR_RDA         0x04
#define IIR_CTI         0x0c /* character timeout indication (FIFO mode only) */
#define IIR_FIFO        0xc0 /* both bits set when FCR bit 0 enabled the FIFOs */
#define FCR_FIFO_ENABLE 0x01
#define FCR_RX_RESET    0x02

/* ---- The receiver ----------------------------------------------------------
 * Datasheet section 8.4 "Line Status Register" (DR), 8.5 "FIFO Control
 * Register" and 8.11 "FIFO Interrupt Mode Operation".  In CHARACTER mode
 * (FCR bit 0 = 0, the 16450's behaviour and the state after reset) the
 * receiver holds one byte, RBR; in FIFO mode up to 16. */

/* How many bytes the receiver holds in its present mode. */
static unsigned rx_capacity(const struct uart16550 *u)
{
    return (u->fcr & FCR_FIFO_ENABLE) ? UART_RX_FIFO : 1;
}

/* One byte into the receiver, which has room for it. */
static void rx_push(struct uart16550 *u, uint8_t c)
{
    u->rx[(u->rx_head + u->rx_count) % UART_RX_FIFO] = c;
    u->rx_count++;
}

/* The oldest byte out of the receiver (a read of RBR); 0 when empty, as
 * the model has always read an empty RBR. */
static uint8_t rx_pop(struct uart16550 *u)
{
    if (!u->rx_count)
        return 0;
    uint8_t c = u->rx[u->rx_head];
    u->rx_head = (uint8_t)((u->rx_head + 1) % UART_RX_FIFO);
    u->rx_count--;
    return c;
}

/* The receiver FIFO's trigger level, FCR bits 7:6 (section 8.5): 1, 4, 8
 * or 14 bytes. */
static unsigned rx_trigger(const struct uart16550 *u)
{
    static const unsigned level[4] = {1, 4, 8, 14};
    return level[u->fcr >> 6];
}

size_t uart_receive(struct uart16550 *u, const uint8_t *buf, size_t len)
{
    /* Only what fits: a real line would overrun the FIFO (LSR bit 1, the
     * byte lost), but the host can wait, so it is told to. */
    size_t n = 0;
    while (n < len && u->rx_count < rx_capacity(u))
        rx_push(u, buf[n++]);
    return n;
}

/* Pass on what the guest printed since its last newline, as a line.  For
 * the core before anything hv prints itself (a crash report, the last
 * line): the guest's unfinished line must come out first and whole, or it
 * would be glued to the front of an "[hv] " line. */
void uart_flush(struct uart16550 *u)
{
    /* An empty partial line is not a line: print nothing. */
    if (u->len) {
        u->out(u->out_ctx, u->line, u->len);
        u->len = 0;
    }
}

/* One transmitted byte: collect into lines.  A CR is dropped (terminals
 * need "\r\n", hv's protocol is LF lines); LF ends the line. */
static void transmit(struct uart16550 *u, uint8_t c)
{
    /* MCR bit 4 (LOOP) diverts the transmitter, whatever the byte is. */
    if (u->mcr & MCR_LOOP) {
        /* Loopback: the transmitter feeds the receiver, nothing leaves.
         * Drivers use this as a self-test (Linux does at probe time), so
         * the byte must come back at RBR with LSR.DR set.  A byte that
         * finds the receiver full is an overrun (without the OE bit): in
         * CHARACTER mode it replaces RBR, in FIFO mode it is lost and the
         * FIFO's bytes stay, as section 8.4 says of OE. */
        if (u->rx_count < rx_capacity(u))
            rx_push(u, c);
        else if (!(u->fcr & FCR_FIFO_ENABLE))
            u->rx[u->rx_head] = c;
        return;
    }
    /* A guest written for a terminal sends "\r\n": dropping the CR makes
     * its lines identical to those of a guest that sends "\n" alone. */
    if (c == '\r')
        return;
    /* An empty line (two LFs in a row) is a line too: pass it on. */
    if (c == '\n') {
        /* Not uart_flush(): that one drops empty lines on purpose. */
        u->out(u->out_ctx, u->line, u->len);
        u->len = 0;
        return;
    }
    u->line[u->len++] = (char)c;
    /* A line longer than the buffer is passed on in pieces, each a line
     * of its own: nothing is lost, and hv's memory use stays fixed. */
    if (u->len == sizeof(u->line))
        uart_flush(u);
}

/* IIR: the highest-priority pending interrupt among those we model. */
static uint8_t iir(const struct uart16550 *u)
{
    /* Bits 7:6 tell a driver whether the FIFOs are on: this is how Linux
     * tells a 16550A from an 8250 (they read 11 after FCR bit 0 = 1). */
    uint8_t fifo = (u->fcr & 1) ? IIR_FIFO : 0;
    /* Received data outranks THR empty (datasheet table IV); line and
     * modem status interrupts are not modelled (they never occur). */
    if ((u->ier & IER_ERBFI) && u->rx_count) {
        /* CHARACTER mode: data available as soon as RBR is full.  FIFO
         * mode (section 8.11): "received data available" while the FIFO
         * holds at least its trigger level; below it, the character
         * timeout, which the chip raises once four character times pass
         * with no byte in or out -- the model's line takes no time, so
         * those have always passed. */
        if (!fifo || u->rx_count >= rx_trigger(u))
            return IIR_RDA | fifo;
        return IIR_CTI | fifo;
    }
    /* THR empty: only after the driver enabled the interrupt and until it
     * reads IIR or writes THR again (datasheet table IV, reset column). */
    if ((u->ier & IER_ETBEI) && u->thre_pending)
        return IIR_THRE | fifo;
    /* Bit 0 = 1: no interrupt pending. */
    return IIR_NONE | fifo;
}

bool uart_irq(const struct uart16550 *u)
{
    /* IIR bit 0 is 0 exactly when an interrupt is pending. */
    return !(iir(u) & IIR_NONE);
}

/* A read of register `reg` (offset from the base port). */
static uint32_t uart_read(void *ctx, uint16_t reg, uint8_t size)
{
    struct uart16550 *u = ctx;
    /* Always 1: the device is narrow, the bus splits wider accesses. */
    (void)size;
    /* DLAB (LCR bit 7) switches offsets 0 and 1 to the divisor latch. */
    bool dlab = u->lcr & LCR_DLAB;
    switch (reg) {
    case REG_RBR_THR:
        if (dlab)
            return u->dll;
        /* Reading RBR takes the oldest byte received (nothing received
         * reads 0). */
        return rx_pop(u);
    case REG_IER:
        /* The divisor's high byte shares this offset under DLAB. */
        return dlab ? u->dlm : u->ier;
    case REG_IIR_FCR: {
        /* Read: IIR.  FCR is write-only and cannot be read back. */
        uint8_t v = iir(u);
        /* Reading IIR when it reports THRE clears that interrupt. */
        if ((v & 0x0f) == IIR_THRE)
            u->thre_pending = false;
        return v;
    }
    /* LCR and MCR read back as written (MCR's unused top bits as 0). */
    case REG_LCR:
        return u->lcr;
    case REG_MCR:
        return u->mcr;
    case REG_LSR:
        /* Always ready to transmit; data ready while the receiver holds
         * a byte (section 8.4: DR is cleared by reading the last one). */
        return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
    case REG_MSR:
        if (u->mcr & MCR_LOOP) {
            /* Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
            return (uint32_t)(((u->mcr & 0x01) << 5) | ((u->mcr & 0x02) << 3) |
                              ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
        }
        /* A connected terminal: DCD, DSR, CTS. */
        return 0xb0;
    default: /* REG_SCR */
        /* The scratch register: plain storage, used by drivers to tell a
         * 16450/16550 (which has it) from an 8250 (which does not). */
        /* LAB 01: BEGIN uart-scratch (labs/01-trap-and-emulate, exercise 3) */
        /* LAB 01: HINT Read back the byte the guest last wrote to the
         * scratch register (keep it in struct uart16550). */
        /* LAB 01: STUB return 0; */
        return u->scr;
        /* LAB 01: END */
    }
}

/* A write of `value` to register `reg`. */
static void uart_write(void *ctx, uint16_t reg, uint8_t size, uint32_t value)
{
    struct uart16550 *u = ctx;
    (void)size;
    /* Registers are 8 bits wide. */
    uint8_t v = (uint8_t)value;
    bool dlab = u->lcr & LCR_DLAB;
    switch (reg) {
    case REG_RBR_THR:
        /* The divisor only sets a baud rate, which has no meaning for a
         * model that transmits instantly; it is kept for reading back. */
        if (dlab) {
            u->dll = v;
            return;
        }
        transmit(u, v);
        /* The byte left at once: THR is empty again.  Writing THR clears
         * a pending THRE interrupt and the emptied THR raises it anew, so
         * the net effect is "pending". */
        u->thre_pending = true;
        return;
    case REG_IER:
        /* Under DLAB: the divisor's high byte, kept for reading back. */
        if (dlab) {
            u->dlm = v;
            return;
        }
        /* Enabling ETBEI with THR empty raises the THRE interrupt. */
        if ((v & IER_ETBEI) && !(u->ier & IER_ETBEI))
            u->thre_pending = true;
        /* Only the four low bits exist in IER. */
        u->ier = v & 0x0f;
        return;
    case REG_IIR_FCR:
        /* Bit 1 clears the receiver FIFO; and a change of bit 0 between
         * FIFO and CHARACTER mode clears it too (section 8.5). */
        if ((v & FCR_RX_RESET) || ((v ^ u->fcr) & FCR_FIFO_ENABLE))
            u->rx_head = u->rx_count = 0;
        /* Bits 1 and 2 reset the FIFOs and clear themselves; keep enable
         * and the trigger level. */
        u->fcr = v & 0xc9;
        return;
    case REG_LCR:
        /* Word length, stop bits and parity change nothing in the model;
         * DLAB does, and is read from here. */
        u->lcr = v;
        return;
    case REG_MCR:
        /* DTR, RTS, OUT1, OUT2 and LOOP; bits 7:5 are always 0. */
        u->mcr = v & 0x1f;
        return;
    case REG_LSR:
    case REG_MSR:
        /* Status registers: writes have no defined effect here. */
        return;
    default:
        /* REG_SCR. */
        /* LAB 01: BEGIN uart-scratch */
        /* LAB 01: HINT Keep the byte: a driver reads it back to tell a
         * 16450/16550 from an 8250, which has no scratch register. */
        u->scr = v;
        /* LAB 01: END */
        return;
    }
}

/* Reset values (datasheet table III): every register 0 except IIR (no
 * interrupt pending, 0x01) and LSR (transmitter empty, 0x60), which the
 * read functions compute. */
void uart_init(struct uart16550 *u, uint16_t base, uart_line_fn out, void *out_ctx)
{
    /* All registers 0, no partial line, nothing received. */
    memset(u, 0, sizeof(*u));
    /* Where finished lines go (main.c: the host log). */
    u->out = out;
    u->out_ctx = out_ctx;
    /* Eight consecutive ports from `base`, byte-wide like the real chip. */
    u->dev = (struct io_device){
        .name = "uart16550",
        .base = base,
        .count = 8,
        .wide = false,
        .read = uart_read,
        .write = uart_write,
        .ctx = u,
    };
}
