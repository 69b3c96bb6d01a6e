/*
 * com2.c - the control channel: the outer machine's second serial port
 * (COM2, CTL_COM2_PORT), which the host-side manager (mgmt/hvmgr) holds the
 * other end of (docs/control-protocol.md "Channels").
 *
 * hv runs with interrupts off, so the channel is polled: the run loop calls
 * com2_poll() between exits (host->poll, run.c), which takes the bytes that
 * have arrived, hands every complete line to the dispatcher (ctl.c), sends
 * the reply back, and then reports domain state changes as events
 * (ctl_event.c).  Bytes that arrive while hv is in a guest wait in the
 * UART's FIFO; QEMU and Bochs hold the rest back until hv reads, so
 * nothing is lost, only delayed by the length of a guest's run between
 * exits.
 *
 * A line longer than CTL_LINE_MAX is dropped whole -- up to its newline --
 * and answered with one GenericError: carrying out its start would do half
 * of something nobody asked for.
 */
#include "klib.h"

#include "ctl.h"
#include "hv.h"
#include "log.h"

#define COM2 CTL_COM2_PORT

/* At most this many bytes per poll, so that a front-end sending without
 * pause cannot keep the guests from running. */
#define POLL_BYTES 4096
/* How long a poll waits, in empty looks at the UART, for the rest of a
 * line it has begun: the manager sends only whole lines, so the rest is on
 * its way, and waiting for it here answers at once rather than a byte
 * per guest exit.  The bound keeps a stalled sender from holding hv. */
#define LINE_WAIT 200000

/* The channel's state: one line being assembled, the reply buffer, what
 * the events last reported. */
static struct {
    bool on;
    struct host *host;
    size_t len;
    bool too_long;
    char line[CTL_LINE_MAX];
    char reply[3 * CTL_READ_MAX];
    struct ctl_events ev;
} chan;

/* Send `len` bytes and a newline. */
static void send_line(void *ctx, const char *s, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++)
        serial_port_putc(COM2, s[i]);
    serial_port_putc(COM2, '\n');
}

/* The greeting (docs/control-protocol.md "Greeting"). */
static void greet(const struct host *h)
{
    char buf[200];
    struct json_out o;
    json_out_init(&o, buf, sizeof(buf));
    json_obj_begin(&o);
    json_key(&o, CTL_KEY_GREETING);
    json_obj_begin(&o);
    json_key(&o, "version");
    json_obj_begin(&o);
    json_key(&o, "major");
    json_put_u64(&o, CTL_VERSION_MAJOR);
    json_key(&o, "minor");
    json_put_u64(&o, CTL_VERSION_MINOR);
    json_obj_end(&o);
    json_key(&o, "package");
    json_put_str(&o, CTL_PACKAGE);
    json_key(&o, "protocol");
    json_put_u64(&o, CTL_PROTOCOL);
    json_key(&o, "domains");
    json_put_u64(&o, h->nr_domains);
    json_obj_end(&o);
    json_obj_end(&o);
    send_line(NULL, buf, o.len);
}

/* One complete line: carry it out and answer. */
static void handle_line(struct host *h, const char *line, size_t len)
{
    struct ctl_after after;
    size_t n = ctl_handle(h, line, len, chan.reply, sizeof(chan.reply), &after);
    send_line(NULL, chan.reply, n);
    if (after.event && after.event_dom)
        ctl_event_emit(after.event, after.event_dom, send_line, NULL);
    if (after.quit) {
        chan.ev.quitting = true;
        hv_log("ctl: quit");
    }
    /* The state change a command made now (stop, cont, quit), before the
     * next request of the same poll could undo it unseen. */
    ctl_events_poll(&chan.ev, h, send_line, NULL);
}

/* A line over the limit has ended: one error for all of it. */
static void refuse_long_line(void)
{
    static const char msg[] = "{\"error\": {\"class\": \"" CTL_ERR_GENERIC
                              "\", \"desc\": \"request longer than the limit of "
                              "65536 bytes\"}}";
    _Static_assert(CTL_LINE_MAX == 65536, "the message names the limit");
    send_line(NULL, msg, sizeof(msg) - 1);
}

/* Take one received byte into the line being assembled. */
static void take_byte(struct host *h, char c)
{
    if (c == '\n') {
        if (chan.too_long)
            refuse_long_line();
        else {
            /* A '\r' before the newline is not part of the request. */
            size_t n = chan.len;
            if (n && chan.line[n - 1] == '\r')
                n--;
            /* An empty line is no request: ignored, as QMP ignores it. */
            if (n)
                handle_line(h, chan.line, n);
        }
        chan.len = 0;
        chan.too_long = false;
        return;
    }
    /* Leave room for the newline the limit counts. */
    if (chan.len + 1 >= CTL_LINE_MAX) {
        chan.too_long = true;
        return;
    }
    chan.line[chan.len++] = c;
}

/* host->poll: requests first, then the events their effects and the
 * guests' own doings caused. */
static bool com2_poll(struct host *h)
{
    int idle = 0;
    bool took = false;
    for (int i = 0; i < POLL_BYTES;) {
        int c = serial_port_getc(COM2);
        if (c >= 0) {
            take_byte(h, (char)c);
            took = true;
            i++;
            idle = 0;
            continue;
        }
        /* Nothing now: done, unless a line has begun and may still come. */
        if ((chan.len == 0 && !chan.too_long) || ++idle >= LINE_WAIT)
            break;
    }
    ctl_events_poll(&chan.ev, h, send_line, NULL);
    return took;
}

void com2_ctl_init(struct host *h)
{
    if (!serial_port_present(COM2)) {
        hv_log("ctl: the outer machine has no COM2 at 0x%x: no control channel", COM2);
        return;
    }
    serial_port_init(COM2, true);
    chan.on = true;
    chan.host = h;
    /* Remember the domains' states as they start, then say hello. */
    ctl_events_poll(&chan.ev, h, send_line, NULL);
    greet(h);
    h->poll = com2_poll;
    h->reachable = true;
    hv_log("ctl: control channel on COM2 (0x%x)", COM2);
}
