/*
 * portio: port I/O the way a 16550 UART and an empty ISA bus answer it.
 * Under hv every access here is an I/O exit (SDM vol 3C 26.1.3 "Instructions That Cause VM Exits
 * Conditionally" / AMD APM vol. 2, 15.10.2 "IN and OUT Behavior") that hv must emulate or forward
 * exactly like the hardware: sizes, string forms and the value of an unbacked port.
 */
#include "guestkit/guestkit.h"

#define COM1 HVKIT_PORT_COM1
/* No device answers here on a PC (QEMU pc, -nodefaults: checked with
 * "info mtree"; the real machine's 0x2f0-0x2f7 is unassigned too).  Reads
 * from an unbacked port float to all ones on the ISA bus. */
#define UNBACKED_PORT 0x2f0

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;

    /* The scratch register (PC16550D, SCR at offset 7) keeps any byte. */
    outb(COM1 + UART_SCR, 0x5a);
    uint8_t a = inb(COM1 + UART_SCR);
    outb(COM1 + UART_SCR, 0xa5);
    uint8_t b = inb(COM1 + UART_SCR);
    report(a == 0x5a && b == 0xa5, "UART scratch register keeps 0x5a and 0xa5 (read %#x, %#x)", a,
           b);

    /* LCR reads back what the runtime wrote: 8N1, DLAB clear. */
    uint8_t lcr = inb(COM1 + UART_LCR);
    report(lcr == UART_LCR_8N1, "LCR reads 0x03 (8N1) as programmed (%#x)", lcr);
    /* With DLAB set, offsets 0 and 1 are the divisor latch (1 = 115200). */
    outb(COM1 + UART_LCR, UART_LCR_DLAB | UART_LCR_8N1);
    uint8_t dll = inb(COM1 + UART_DLL), dlm = inb(COM1 + UART_DLM);
    outb(COM1 + UART_LCR, UART_LCR_8N1);
    report(dll == 1 && dlm == 0, "divisor latch reads 1 with DLAB set (DLL %#x, DLM %#x)", dll,
           dlm);
    /* With DLAB clear again, offset 1 is IER, which we left at 0. */
    report(inb(COM1 + UART_IER) == 0, "IER reads 0 again after DLAB is cleared");
    /* IIR bits 7:6 = 11 when the FIFOs are enabled (16550A, not 16450). */
    uint8_t iir = inb(COM1 + UART_IIR_FCR);
    report_info("IIR = %#x", iir);
    report((iir & 0xc0) == 0xc0, "IIR shows FIFOs enabled");
    /* Once idle, LSR reports transmitter empty (THRE and TEMT). */
    serial_flush();
    uint8_t lsr = inb(COM1 + UART_LSR);
    report_info("LSR = %#x", lsr);
    report((lsr & (UART_LSR_THRE | UART_LSR_TEMT)) == (UART_LSR_THRE | UART_LSR_TEMT),
           "LSR shows THRE and TEMT when idle");

    /* An unbacked port reads as all ones in every size. */
    uint8_t ub = inb(UNBACKED_PORT);
    uint16_t uw = inw(UNBACKED_PORT);
    uint32_t ul = inl(UNBACKED_PORT);
    report(ub == 0xff, "inb from unbacked port %#x reads 0xff (%#x)", UNBACKED_PORT, ub);
    report(uw == 0xffff, "inw from unbacked port %#x reads 0xffff (%#x)", UNBACKED_PORT, uw);
    report(ul == 0xffffffffu, "inl from unbacked port %#x reads 0xffffffff (%#x)", UNBACKED_PORT,
           ul);

    /* String output: REP OUTSB sends RCX bytes from [RSI] to port DX and
     * advances RSI (SDM vol. 2B, "OUTS").  The line is under 16 bytes, the
     * FIFO size, and the transmitter is idle, so no byte can be lost even on
     * a real UART that is not polled in between. */
    static const char line[] = "[rep outsb ok]";
    const char *src = line;
    uint64_t count = sizeof(line) - 1;
    serial_flush();
    __asm__ volatile("rep outsb" : "+S"(src), "+c"(count) : "d"((uint16_t)COM1) : "memory");
    /* A single OUTSB moves one byte and RSI by one: the newline that ends
     * the line above. */
    static const char nl = '\n';
    const char *src1 = &nl;
    serial_flush();
    __asm__ volatile("outsb" : "+S"(src1) : "d"((uint16_t)COM1) : "memory");
    report(count == 0 && src == line + sizeof(line) - 1,
           "rep outsb wrote %zu bytes to COM1 and advanced RSI", sizeof(line) - 1);
    report(src1 == &nl + 1, "outsb advanced RSI by one");

    /* String input: REP INSB reads the scratch register into memory. */
    uint8_t buf[8];
    memset(buf, 0, sizeof(buf));
    outb(COM1 + UART_SCR, 0x3c);
    uint8_t *dst = buf;
    count = sizeof(buf);
    __asm__ volatile("rep insb"
                     : "+D"(dst), "+c"(count)
                     : "d"((uint16_t)(COM1 + UART_SCR))
                     : "memory");
    bool all = true;
    for (size_t i = 0; i < sizeof(buf); i++)
        all = all && buf[i] == 0x3c;
    report(count == 0 && dst == buf + sizeof(buf) && all,
           "rep insb read the scratch register 8 times into memory");
    return report_summary();
}
