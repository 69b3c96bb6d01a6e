/*
 * ctl_console.c - console input through the control protocol
 * (docs/control-protocol.md "Consoles"): x-console-write gives a domain's
 * COM1 the bytes a user typed at the console the manager holds for it.
 *
 * The bytes go into the 16550 model's receiver (dev/uart16550.c:
 * uart_receive), where the guest finds them as a real UART's received
 * data: LSR's data-ready bit and, when the guest enabled it in IER, the
 * received-data interrupt on IRQ 4.  The receiver takes only what it has
 * room for -- one byte in CHARACTER mode, 16 in FIFO mode -- and the reply
 * says how many that was; the manager keeps the rest and offers it again
 * once the guest has read (flow control: no typed byte is ever overrun).
 *
 * Its row is in a table of its own, ctl_console_commands (ctl.h), which
 * the dispatcher looks at after the others.
 */
#include "klib.h"

#include "ctl.h"
#include "domain.h"

/* The value of one hex digit, or -1. */
static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The "data" argument: hex digits, two per byte (x-read-memory's form, so
 * that any byte, ^C or a NUL, travels in plain JSON), 1 to
 * CTL_CONSOLE_WRITE_MAX bytes.  The count in *len, or an error. */
static int arg_data(struct ctl_req *r, uint8_t *buf, size_t *len)
{
    char hex[2 * CTL_CONSOLE_WRITE_MAX + 1];
    if (ctl_arg_str(r, CTL_ARG_DATA, hex, sizeof(hex)) < 0)
        return -1;
    size_t n = strlen(hex);
    /* Odd, or a character that is no hex digit anywhere: refused whole,
     * before a byte reaches the guest. */
    bool ok = n % 2 == 0;
    for (size_t i = 0; i < n && ok; i++)
        ok = hex_digit(hex[i]) >= 0;
    if (!ok)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "argument 'data' must be hex digits, two per byte");
    for (size_t i = 0; i < n / 2; i++)
        buf[i] = (uint8_t)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
    *len = n / 2;
    return 0;
}

static int console_write(struct ctl_req *r)
{
    static uint8_t buf[CTL_CONSOLE_WRITE_MAX];
    struct domain *d;
    size_t len;
    if (ctl_arg_domain(r, &d) < 0 || arg_data(r, buf, &len) < 0)
        return -1;
    /* An ended domain reads nothing more: say so rather than take bytes
     * into a receiver nobody will empty. */
    if (domain_stopped(d))
        return ctl_error(r, CTL_ERR_GENERIC, "domain %u has ended: its console takes no input",
                         d->id);
    /* A paused domain takes them: they wait in its receiver, as bytes
     * arriving at a stopped machine's UART would. */
    size_t n = uart_receive(&d->com1, buf, len);
    /* The UART's interrupt line may have risen: irq.c must look again even
     * if its last look found nothing to do (domain.h irq_epoch). */
    if (n)
        d->irq_epoch++;
    json_obj_begin(r->out);
    json_key(r->out, "written");
    json_put_u64(r->out, n);
    json_obj_end(r->out);
    return 0;
}

static const char *const write_args[] = {CTL_ARG_DOMAIN, CTL_ARG_DATA, NULL};

const struct ctl_cmd ctl_console_commands[] = {
    {CTL_CMD_CONSOLE_WRITE, write_args, console_write},
    {NULL, NULL, NULL},
};
