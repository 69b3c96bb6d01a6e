/*
 * serial.c - the outer machine's 16550 UARTs, driven by polling (hv runs
 * with interrupts off): COM1 is the host console (hv's log and the guests'
 * lines, and with bin/hvrun --console-input the guest's console input),
 * COM2 the control channel (com2.c, include/hvkit/ctl.h).
 *
 * Register map (National Semiconductor PC16550D datasheet, "Register
 * Description"): base+0 THR/RBR (or the divisor latch low byte when
 * LCR.DLAB=1), +1 IER (divisor high), +2 FCR, +3 LCR, +4 MCR, +5 LSR,
 * +7 SCR (scratch).
 */
#include "hvkit/abi.h"

#include "benchcount.h"
#include "cpu.h"
#include "log.h"

/* The outer machine's COM1 is at the same port as the guest's (0x3f8):
 * hv uses the real one with IN/OUT, the guest's are intercepted and go to
 * the model in dev/uart16550.c, so the two never meet. */
#define COM1 HVKIT_PORT_COM1

/* LSR bits: receiver data ready (bit 0), transmitter holding register
 * empty (bit 5). */
#define LSR_DR   0x01
#define LSR_THRE 0x20

/*
 * Program the UART at `port` for 115200 8N1, with its 16-byte FIFOs when
 * `fifo`.  QEMU and Bochs ignore the speed (their serial goes to a file,
 * pipe or socket), but real hardware and a terminal on the other end need
 * a defined setting.
 */
void serial_port_init(uint16_t port, bool fifo)
{
    /* No UART interrupts: hv polls. */
    outb(port + 1, 0x00);
    /* LCR.DLAB = 1 to reach the divisor latch. */
    outb(port + 3, 0x80);
    /* Divisor 1 = 115200 baud (1.8432 MHz clock / 16 / 1). */
    outb(port + 0, 0x01);
    /* Divisor high byte 0 (port +1 is DLM while DLAB = 1). */
    outb(port + 1, 0x00);
    /* LCR: 8 data bits, no parity, 1 stop bit, DLAB back to 0. */
    outb(port + 3, 0x03);
    /* FCR: for COM1 the FIFOs stay off, as after reset.  Turning them on
     * clears both (PC16550D datasheet, "FIFO Control Register": a change
     * of bit 0 resets them; QEMU does the same), and COM1's receiver may
     * already hold input (bin/hvrun --console-input feeds it from the
     * start): a byte would be lost.  COM2 has received nothing yet (the
     * manager sends only after hv's greeting) and wants them: with one
     * byte held, the emulator passes one request byte per poll. */
    outb(port + 2, fifo ? 0x07 : 0x00);
    /* MCR: DTR and RTS asserted, as a terminal expects. */
    outb(port + 4, 0x03);
}

/* Is there a UART at `port`?  A missing one reads all ones everywhere, so
 * a value written to the scratch register does not come back. */
bool serial_port_present(uint16_t port)
{
    outb(port + 7, 0x5a);
    if (inb(port + 7) != 0x5a)
        return false;
    outb(port + 7, 0xa5);
    return inb(port + 7) == 0xa5;
}

/* How often serial_port_putc reads LSR before it gives up waiting. */
#define SERIAL_THRE_POLLS (1u << 28)

/* Send one byte once the transmitter holding register is empty. */
void serial_port_putc(uint16_t port, char c)
{
    /* A missing UART reads 0xff, which has THRE set, so this never waits
     * on a machine without the port.  A present one keeps THRE clear for
     * as long as the emulator cannot pass the byte on: QEMU holds it while
     * the program on the other end of COM1's pipe or COM2's socket is not
     * reading, which on a loaded host can last a second or more.  Writing
     * anyway would overwrite the byte still waiting, so the wait is long
     * (hundreds of millions of polls, seconds even on fast hardware) and
     * bounded only so that an emulator that never drains cannot hang hv
     * for good. */
    for (uint32_t i = 0;
         i < SERIAL_THRE_POLLS && (BENCH_COUNT(outer_io), !(inb(port + 5) & LSR_THRE)); i++)
        ;
    /* Port +0 with DLAB = 0 is the transmitter holding register. */
    BENCH_COUNT(outer_io);
    outb(port, (uint8_t)c);
}

/* A received byte waits when LSR.DR is set; reading port +0 with DLAB = 0
 * (the receiver buffer register) takes it, and the emulator puts the next
 * one there.  A missing UART reads 0xff everywhere, which would look like
 * an endless stream of 0xff bytes: that is no input.  The byte, or -1. */
int serial_port_getc(uint16_t port)
{
    BENCH_COUNT(outer_io);
    uint8_t lsr = inb(port + 5);
    if (lsr == 0xff || !(lsr & LSR_DR))
        return -1;
    BENCH_COUNT(outer_io);
    return inb(port);
}

/* COM1, the host console, set up by hv_main() before anything is logged. */
void serial_init(void)
{
    serial_port_init(COM1, false);
}

bool serial_getc(uint8_t *c)
{
    int b = serial_port_getc(COM1);
    if (b < 0)
        return false;
    *c = (uint8_t)b;
    return true;
}

void serial_putc(char c)
{
    serial_port_putc(COM1, c);
}
