/*
 * console.c - the domains' consoles, which the manager holds
 * (docs/control-protocol.md "Consoles").
 *
 * Output: bin/hvrun passes every guest line of the outer machine's COM1
 * (the lines it prints on its stdout, hv's "[hv] " lines left out) to the
 * manager through a pipe (--console FIFO).  Domain 0's lines come as they
 * are, another domain's with hv's "[dN] " in front; the manager gives each
 * line to its domain, keeps the last CONSOLE_HISTORY bytes of every
 * domain (a front-end that attaches sees them first, as xenconsoled
 * replays what a guest printed before anyone looked) and streams the new
 * ones to the front-end attached to that domain.
 *
 * Input: a front-end attaches its connection to one domain's console with
 * the manager's own command x-console-attach; from its reply on, that
 * connection carries the console's bytes both ways instead of JSON.  What
 * it sends is kept here, in the domain's input queue, and offered to hv a
 * few bytes at a time with x-console-write, one request in flight per
 * domain, queued among the front-ends' requests.  hv puts into the
 * guest's 16550 what its receiver has room for and says how many; the
 * rest stays queued and is offered again once the guest may have read
 * (CONSOLE_RETRY_MS later).  A full queue stops the manager reading from
 * the front-end, whose own writes then wait: no typed byte is dropped.
 *
 * One front-end per console, as with xl and virsh: a second attach is
 * refused (CTL_CONSOLE_BUSY) unless it asks to take over ("force"), which
 * closes the first one's connection.  Closing the connection detaches;
 * the domain's end (hv's SHUTDOWN or CRASHED event) closes it, a moment
 * later, unless the domain restarts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json.h>

#include "hvmgr.h"

/* The output kept per domain for a front-end that attaches later. */
#define CONSOLE_HISTORY (64u << 10)
/* Typed bytes a domain's queue holds before the manager stops reading. */
#define CONSOLE_INPUT (16u << 10)
/* The most bytes one x-console-write offers: a 16550's receiver FIFO. */
#define CONSOLE_CHUNK 16
/* How soon a receiver that was full is offered bytes again. */
#define CONSOLE_RETRY_MS 20
/* How long after a domain's end its front-end stays attached: the guest's
 * last lines come through bin/hvrun's pipe, a road apart from hv's event
 * on COM2, and may arrive a little after it. */
#define CONSOLE_END_MS 1000

/* One domain's console. */
struct console {
    /* Its recent output, the oldest byte first. */
    char hist[CONSOLE_HISTORY];
    size_t hist_len;
    /* The front-end attached, or NULL. */
    struct conn *attached;
    /* Bytes typed that hv has not taken yet, the oldest first. */
    unsigned char in[CONSOLE_INPUT];
    size_t in_len;
    /* An x-console-write is with hv (or queued for it), offering the
     * first `offered` bytes of `in`. */
    bool writing;
    size_t offered;
    /* The receiver was full: not before this time (relay_now_ms). */
    long retry_at;
    /* The domain has ended: its front-end is let go at this time (0: it
     * has not). */
    long end_at;
};

static struct {
    /* The pipe from bin/hvrun (-1: none, or it has ended). */
    int fd;
    bool given;
    /* The line being assembled from it. */
    char line[8192];
    size_t len;
    struct console dom[CTL_DOMAINS_MAX];
} cons = {.fd = -1};

static void detach(struct console *k);

int console_option(const char *path)
{
    /* Non-blocking, so that opening does not wait for hvrun to open its
     * end, and reading never stops the loop. */
    cons.fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (cons.fd < 0) {
        fprintf(stderr, "hvmgr: --console %s: %s\n", path, strerror(errno));
        return -1;
    }
    cons.given = true;
    return 0;
}

int console_fd(void)
{
    return cons.fd;
}

bool console_ended(void)
{
    return cons.fd < 0;
}

/* Keep `len` bytes in a domain's history, dropping its oldest bytes to
 * make room. */
static void keep(struct console *k, const char *s, size_t len)
{
    if (len >= CONSOLE_HISTORY) {
        s += len - CONSOLE_HISTORY;
        len = CONSOLE_HISTORY;
    }
    if (k->hist_len + len > CONSOLE_HISTORY) {
        size_t drop = k->hist_len + len - CONSOLE_HISTORY;
        memmove(k->hist, k->hist + drop, k->hist_len - drop);
        k->hist_len -= drop;
    }
    memcpy(k->hist + k->hist_len, s, len);
    k->hist_len += len;
}

/* The domain a console line belongs to: hv's "[dN] " prefix names
 * domains other than 0 (hv/core/main.c guest_line); *text is the line
 * without it. */
static unsigned line_domain(const char *s, size_t len, size_t *skip)
{
    *skip = 0;
    if (len >= 5 && s[0] == '[' && s[1] == 'd' && s[2] >= '1' && s[2] <= '9' && s[3] == ']' &&
        s[4] == ' ' && (unsigned)(s[2] - '0') < CTL_DOMAINS_MAX) {
        *skip = 5;
        return (unsigned)(s[2] - '0');
    }
    return 0;
}

/* One whole line of output (its newline included). */
static void route_line(const char *s, size_t len)
{
    size_t skip;
    struct console *k = &cons.dom[line_domain(s, len, &skip)];
    keep(k, s + skip, len - skip);
    if (k->attached)
        conn_send(k->attached, s + skip, len - skip);
}

void console_output(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        /* A line longer than the buffer goes out in pieces (hv's own
         * lines are at most 256 bytes: dev/uart16550.h). */
        if (cons.len == sizeof(cons.line) - 1) {
            route_line(cons.line, cons.len);
            cons.len = 0;
        }
        cons.line[cons.len++] = buf[i];
        if (buf[i] == '\n') {
            route_line(cons.line, cons.len);
            cons.len = 0;
        }
    }
}

/* The pipe has ended (hvrun's reader of COM1 is done): every attached
 * front-end has seen everything and is let go. */
static void output_ended(void)
{
    close(cons.fd);
    cons.fd = -1;
    for (unsigned d = 0; d < CTL_DOMAINS_MAX; d++)
        detach(&cons.dom[d]);
}

void console_read(void)
{
    char buf[8192];
    for (;;) {
        ssize_t n = read(cons.fd, buf, sizeof(buf));
        if (n > 0) {
            console_output(buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        /* 0: every writer has closed the pipe (poll said POLLHUP, which
         * Linux reports only after a writer came and went). */
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            output_ended();
        return;
    }
}

/* ---- Attaching --------------------------------------------------------- */

/* x-console-attach's arguments: the domain and "force". */
/* One member of x-console-attach's arguments, key token `k`, into *d or
 * *force: 0, or -1 with the reason in *why. */
static int attach_arg(const struct json_doc *doc, int k, uint64_t *d, bool *force, const char **why)
{
    _Static_assert(CTL_DOMAINS_MAX == 4, "the message names the limit");
    if (json_str_eq(doc, k, CTL_ARG_DOMAIN)) {
        if (json_u64(doc, k + 1, d) < 0 || *d >= CTL_DOMAINS_MAX) {
            *why = "argument 'domain' must be a domain number from 0 to 3";
            return -1;
        }
        return 0;
    }
    if (json_str_eq(doc, k, CTL_ARG_FORCE)) {
        if (json_bool(doc, k + 1, force) < 0) {
            *why = "argument 'force' must be true or false";
            return -1;
        }
        return 0;
    }
    *why = "x-console-attach takes 'domain' and 'force' only";
    return -1;
}

/* x-console-attach's arguments: the domain (default 0) and "force"
 * (default false). */
static int attach_args(const struct json_doc *doc, unsigned *dom, bool *force, const char **why)
{
    int args = json_get(doc, 0, CTL_KEY_ARGUMENTS);
    uint64_t d = 0;
    *force = false;
    if (args >= 0 && doc->tok[args].type != JSON_OBJECT) {
        *why = "'arguments' must be an object";
        return -1;
    }
    for (int k = json_first(doc, args); k >= 0; k = json_member_next(doc, args, k))
        if (attach_arg(doc, k, &d, force, why) < 0)
            return -1;
    *dom = (unsigned)d;
    return 0;
}

/* Attach `c` to domain `d`'s console: the reply, then what the domain
 * printed so far; from now on its bytes are the console's. */
static void attach(struct conn *c, unsigned d, bool force, const char *s, size_t len)
{
    struct console *k = &cons.dom[d];
    if (!cons.given || (cons.fd < 0 && !k->hist_len)) {
        relay_reply(c, s, len, CTL_ERR_GENERIC,
                    "this manager holds no consoles (bin/hvrun --control gives it them)");
        return;
    }
    if (k->attached && !force) {
        relay_reply(c, s, len, CTL_ERR_GENERIC, CTL_CONSOLE_BUSY);
        return;
    }
    /* Taking over: the first front-end's connection ends, as virsh
     * console --force disconnects the session that was there. */
    if (k->attached) {
        k->attached->dead = true;
        k->attached->console = -1;
    }
    relay_reply(c, s, len, NULL, NULL);
    c->console = (int)d;
    k->attached = c;
    conn_send(c, k->hist, k->hist_len);
    /* After the end of the output there is nothing more to stream. */
    if (cons.fd < 0) {
        conn_flush(c);
        c->dead = true;
        k->attached = NULL;
    }
}

bool console_request(struct conn *c, const char *s, size_t len)
{
    static struct json_tok tok[256];
    struct json_doc doc;
    char err[8];
    if (json_parse(&doc, s, len, tok, 256, CTL_DEPTH_MAX, err, sizeof(err)) < 0 ||
        doc.tok[0].type != JSON_OBJECT)
        return false;
    int ex = json_get(&doc, 0, CTL_KEY_EXECUTE);
    if (ex < 0 || !json_str_eq(&doc, ex, CTL_CMD_CONSOLE_ATTACH))
        return false;
    unsigned d;
    bool force;
    const char *why;
    if (attach_args(&doc, &d, &force, &why) < 0)
        relay_reply(c, s, len, CTL_ERR_INVALID_PARAMETER, why);
    else
        attach(c, d, force, s, len);
    return true;
}

void console_client_gone(struct conn *c)
{
    /* Detached; what it typed and hv has not taken yet still goes to the
     * guest, as keys typed before a disconnect would. */
    if (c->console >= 0 && cons.dom[c->console].attached == c)
        cons.dom[c->console].attached = NULL;
    c->console = -1;
}

/* Let domain `d`'s front-end go, after what it has not yet been sent. */
static void detach(struct console *k)
{
    struct conn *c = k->attached;
    if (!c)
        return;
    conn_flush(c);
    c->dead = true;
    c->console = -1;
    k->attached = NULL;
}

void console_event(const char *event, unsigned d)
{
    if (d >= CTL_DOMAINS_MAX)
        return;
    struct console *k = &cons.dom[d];
    if (!strcmp(event, CTL_EV_SHUTDOWN) || !strcmp(event, CTL_EV_CRASHED)) {
        /* As xl console and virsh console end with their domain. */
        k->end_at = relay_now_ms() + CONSOLE_END_MS;
    } else if (!strcmp(event, CTL_EV_RESET)) {
        /* Restarted (its on_reboot or on_crash action): the same console
         * goes on. */
        k->end_at = 0;
    } else if (!strcmp(event, CTL_EV_CREATED)) {
        /* A new domain under the number of one destroyed before: its
         * console starts empty. */
        detach(k);
        k->hist_len = 0;
        k->in_len = 0;
        k->end_at = 0;
    }
}

/* ---- Input --------------------------------------------------------------- */

size_t console_room(const struct conn *c)
{
    if (c->console < 0)
        return 0;
    return CONSOLE_INPUT - cons.dom[c->console].in_len;
}

void console_input(struct conn *c, const char *buf, size_t len)
{
    struct console *k = &cons.dom[c->console];
    /* The caller read no more than console_room() bytes. */
    size_t n = len < CONSOLE_INPUT - k->in_len ? len : CONSOLE_INPUT - k->in_len;
    memcpy(k->in + k->in_len, buf, n);
    k->in_len += n;
}

/* hv's reply to a domain's x-console-write (NULL: hv has gone). */
static void written(void *ctx, const char *s, size_t len)
{
    struct console *k = ctx;
    static struct json_tok tok[64];
    struct json_doc doc;
    char err[8];
    uint64_t n = 0;
    k->writing = false;
    int ret = -1;
    if (s && json_parse(&doc, s, len, tok, 64, CTL_DEPTH_MAX, err, sizeof(err)) == 0)
        ret = json_get(&doc, 0, CTL_KEY_RETURN);
    if (ret < 0) {
        /* The domain has ended, or hv: nobody will read these bytes. */
        k->in_len = 0;
        return;
    }
    int w = json_get(&doc, ret, "written");
    if (w < 0 || json_u64(&doc, w, &n) < 0 || n > k->offered)
        n = 0;
    memmove(k->in, k->in + n, k->in_len - n);
    k->in_len -= n;
    /* The receiver is full: the guest has not read yet. */
    if (n < k->offered)
        k->retry_at = relay_now_ms() + CONSOLE_RETRY_MS;
}

/* Offer domain `d`'s first bytes to hv. */
static void offer(unsigned d)
{
    struct console *k = &cons.dom[d];
    char line[200];
    size_t n = k->in_len < CONSOLE_CHUNK ? k->in_len : CONSOLE_CHUNK;
    int len =
        snprintf(line, sizeof(line),
                 "{\"" CTL_KEY_EXECUTE "\": \"" CTL_CMD_CONSOLE_WRITE "\", \"" CTL_KEY_ARGUMENTS
                 "\": {\"" CTL_ARG_DOMAIN "\": %u, \"" CTL_ARG_DATA "\": \"",
                 d);
    for (size_t i = 0; i < n; i++)
        len += snprintf(line + len, sizeof(line) - (size_t)len, "%02x", k->in[i]);
    len += snprintf(line + len, sizeof(line) - (size_t)len, "\"}}");
    if (relay_internal(line, (size_t)len, written, k) == 0) {
        k->writing = true;
        k->offered = n;
    }
}

long console_pump(long now_ms)
{
    long next = -1;
    for (unsigned d = 0; d < CTL_DOMAINS_MAX; d++) {
        struct console *k = &cons.dom[d];
        if (k->end_at) {
            long left = k->end_at - now_ms;
            if (left <= 0) {
                detach(k);
                k->end_at = 0;
            } else {
                next = next < 0 || left < next ? left : next;
            }
        }
        if (!k->in_len || k->writing)
            continue;
        long left = k->retry_at - now_ms;
        if (left > 0) {
            next = next < 0 || left < next ? left : next;
            continue;
        }
        offer(d);
    }
    return next;
}
