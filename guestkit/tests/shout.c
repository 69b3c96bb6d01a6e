/*
 * shout: a guest that reads its console.  It prints a greeting, then reads
 * lines from COM1 -- echoing each key as a terminal's line discipline
 * would, since the other end does not -- and answers each line with
 * "shout: " and the line in capitals, until the line "quit"; then a
 * SUMMARY and exit 0.  A line ends at CR (what Enter sends on a raw
 * terminal) or LF (a line of a file); LF after CR is the same end.
 *
 * Plain QEMU reads it from -serial stdio; under hv, the manager's
 * x-console-write puts what a front-end types (hvctl --console, xl
 * console, virsh console) into the 16550 model's receiver.
 * tests/integration/console.sh compares the two transcripts.
 *
 * Arguments: "irq" waits for each key with HLT until the UART's
 * received-data interrupt (IER bit 0, IRQ 4 through the 8259) instead of
 * polling LSR, so that the interrupt path is proven too.
 */
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"

#define LINE_MAX 200

/* Set by the IRQ 4 handler. */
static volatile bool rx_irq;

/* The runtime sends the 8259 its end of interrupt afterwards; the UART
 * drops its line when RBR is read. */
static void on_com1(int irq)
{
    (void)irq;
    rx_irq = true;
}

/* The next key: polled (LSR.DR), or after the UART's interrupt. */
static char next_key(bool irq)
{
    if (!irq)
        return serial_getc();
    for (;;) {
        /* DR may already be set: a byte that came before IER was looked
         * at, or a second one in the FIFO. */
        if (inb(HVKIT_PORT_COM1 + UART_LSR) & UART_LSR_DR)
            return (char)inb(HVKIT_PORT_COM1 + UART_RBR_THR);
        rx_irq = false;
        /* STI; HLT: the interrupt cannot slip in between the two. */
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    }
}

/* One line, echoed key by key, into buf (NUL-terminated); its length.
 * A serial line has no end of input: a quiet one is just quiet. */
static size_t read_line(char *buf, size_t size, bool irq)
{
    static bool after_cr;
    size_t n = 0;
    for (;;) {
        char c = next_key(irq);
        /* CR LF is one end of line. */
        if (c == '\n' && after_cr) {
            after_cr = false;
            continue;
        }
        after_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            putchar('\n');
            buf[n] = 0;
            return n;
        }
        /* Backspace and DEL rub out the last key, as a terminal would. */
        if (c == '\b' || c == 0x7f) {
            if (n)
                n--;
            continue;
        }
        if (n + 1 < size && c >= ' ' && c < 0x7f) {
            buf[n++] = c;
            putchar(c);
        }
    }
}

int main(int argc, char **argv)
{
    bool irq = argc > 1 && !strcmp(argv[1], "irq");
    char line[LINE_MAX];
    int lines = 0;
    if (irq) {
        /* The 8259 delivers IRQ 4 once IER asks the UART for it (and
         * MCR.OUT2, set by serial_init, lets it out on a PC).  The PIT
         * stopped first, so that only the UART wakes HLT. */
        set_irq_handler(4, on_com1);
        pit_stop();
        pic_init();
        pic_unmask(4);
        outb(HVKIT_PORT_COM1 + UART_IER, 0x01);
    }
    printf("shout: ready (%s); type lines, \"quit\" ends\n", irq ? "interrupts" : "polling");
    for (;;) {
        read_line(line, sizeof(line), irq);
        if (!strcmp(line, "quit"))
            break;
        for (char *p = line; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        printf("shout: %s\n", line);
        lines++;
    }
    if (irq)
        outb(HVKIT_PORT_COM1 + UART_IER, 0x00);
    printf("shout: %d lines, bye\n", lines);
    report(lines > 0, "read %d lines before quit", lines);
    return report_summary();
}
