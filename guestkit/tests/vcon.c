/*
 * vcon: the virtio console driver against a real device (virtio 1.2, 5.3
 * "Console Device"), port 0.  It sends a known text through the device,
 * first with virtio_console_write(), then by taking printf over: the host
 * compares what arrived with the text (tests/integration/virtio-qemu.sh).
 * Verdicts go to COM1 as usual.
 *
 * The text, byte for byte:
 *     vcon: written with virtio_console_write
 *     vcon: printf line 1 of 3
 *     vcon: printf line 2 of 3
 *     vcon: printf line 3 of 3
 *     vcon: long line abcdefghijklmnopqrstuvwxyzabcdef...   (long= bytes with its newline)
 *
 * Arguments: wait=poll|ioapic|pic (default poll); long=N, the long line's
 * length with its newline (20..1000, default 300: longer than the driver's
 * 256-byte buffer, so the line leaves in two pieces); echo: then wait for
 * one line of input on the receiveq (what the host sends to the console,
 * up to its newline, at most 200 bytes) and send it back as
 *     vcon: echo: THE LINE
 * (with QEMU: the virtconsole's chardev input, e.g. file,input-path=F; under
 * hv: bin/hvrun --console-input, the outer machine's COM1).  Use a wait
 * mode with interrupts: a polling guest makes no exits for hv to bring the
 * input in at.
 */
#include "guestkit/guestkit.h"
#include "guestkit/parse.h"
#include "guestkit/virtio_console.h"

#define IRQ_VECTOR   0x51
#define LONG_DEFAULT 300
#define LONG_MIN     20
#define LONG_MAX     1000
#define ECHO_MAX     200

static struct virtio_console con;

/* echo: one line of input, read as it comes, sent back with a prefix. */
static void echo_line(void)
{
    static char in[ECHO_MAX];
    size_t n = 0;
    bool ok = true;
    while (ok && (n == 0 || in[n - 1] != '\n') && n < sizeof(in)) {
        size_t got = virtio_console_read(&con, in + n, 1);
        if (got == 0)
            ok = virtio_console_wait_input(&con);
        n += got;
    }
    if (!report(ok && n > 0 && in[n - 1] == '\n', "echo: a line came in through the receiveq"))
        return;
    static const char prefix[] = "vcon: echo: ";
    report(virtio_console_write(&con, prefix, sizeof(prefix) - 1) &&
               virtio_console_write(&con, in, n),
           "echo: the line went back out (%u bytes)", (unsigned)n);
}

/* The long line of `len` bytes: a prefix, the alphabet over and over, a
 * newline. */
static size_t long_line(char *out, size_t len)
{
    static const char prefix[] = "vcon: long line ";
    size_t n = sizeof(prefix) - 1;
    memcpy(out, prefix, n);
    for (unsigned i = 0; n < len - 1; i++)
        out[n++] = (char)('a' + i % 26);
    out[n++] = '\n';
    return n;
}

int main(int argc, char **argv)
{
    const char *wait_name = gk_arg_value(argc, argv, "wait");
    const char *long_arg = gk_arg_value(argc, argv, "long");
    bool echo = gk_arg_value(argc, argv, "echo") != NULL;
    size_t long_len = long_arg ? (size_t)kstrtoull(long_arg, NULL, 0) : LONG_DEFAULT;
    enum virtio_wait wait = VIRTIO_WAIT_POLL;
    if ((wait_name && !virtio_wait_by_name(wait_name, &wait)) || long_len < LONG_MIN ||
        long_len > LONG_MAX) {
        printf("usage: vcon [wait=poll|ioapic|pic] [long=%d..%d] [echo]\n", LONG_MIN, LONG_MAX);
        return 1;
    }
    struct virtio_dev dev;
    if (!report(virtio_find(VIRTIO_ID_CONSOLE, 0, &dev), "virtio-console device found"))
        return report_summary();
    report_info("at %#llx, irq %d, found by %s", (unsigned long long)dev.base, dev.irq,
                virtio_discovery_source());
    bool ok = virtio_console_init(&con, &dev, wait, IRQ_VECTOR);
    if (!report(ok, "device initialised"))
        report_info("%s", con.dev.error);
    if (!ok)
        return report_summary();

    static const char first[] = "vcon: written with virtio_console_write\n";
    report(virtio_console_write(&con, first, sizeof(first) - 1),
           "virtio_console_write: the device took the line");

    /* printf through the device, then back to COM1 for the verdicts. */
    uint64_t before = con.bytes_sent;
    virtio_console_take_output(&con);
    for (int i = 1; i <= 3; i++)
        printf("vcon: printf line %d of 3\n", i);
    static char line[LONG_MAX];
    size_t len = long_line(line, long_len);
    for (size_t i = 0; i < len; i++)
        putchar(line[i]);
    virtio_console_take_output(NULL);
    uint64_t expected = 3 * 25 + len;
    report(con.bytes_sent - before == expected, "printf through the device: %llu bytes sent",
           (unsigned long long)expected);
    report(!(virtio_status(&con.dev) & VIRTIO_STATUS_NEEDS_RESET),
           "device status has no NEEDS_RESET");
    if (wait != VIRTIO_WAIT_POLL)
        report(con.dev.interrupts > 0, "the device's interrupts arrived (%s)", wait_name);
    if (echo)
        echo_line();
    report_info("%llu sends, %llu notifications, %llu interrupts", (unsigned long long)con.sends,
                (unsigned long long)con.dev.notifications, (unsigned long long)con.dev.interrupts);
    virtio_reset(&con.dev);
    return report_summary();
}
