/*
 * The connection to the manager (ctlconn.h).  Requests carry an id the
 * connection counts up, so a reply is matched to its request even when
 * events arrive in between; replies are read with a time limit, so a
 * monitor never hangs on a machine that stopped answering.
 */
#include "ctlconn.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* How long a reply may take: a stopped or busy guest still answers within
 * milliseconds; a guest that never exits delays hv until its time slice. */
#define REPLY_TIMEOUT_MS 30000

static void set_err(struct hmp_err *err, const char *cls, const char *desc)
{
    snprintf(err->cls, sizeof(err->cls), "%s", cls);
    snprintf(err->desc, sizeof(err->desc), "%s", desc);
}

/* With HVMON_TRACE set in the environment, every line sent and received
 * goes to stderr too ("-> " and "<- "): the protocol behind each monitor
 * command, for students and for a test that wants to know why. */
static void trace(const char *dir, const char *line, size_t len)
{
    static int on = -1;
    if (on < 0)
        on = getenv("HVMON_TRACE") != NULL;
    if (on)
        fprintf(stderr, "%s%.*s\n", dir, (int)len, line);
}

/* The next line from the socket into c->line (without its '\n' and a '\r'
 * before it), waiting at most `ms` milliseconds (-1: as long as it takes).
 * 0, or -1 with the reason in `why`. */
static int read_line(struct ctl_conn *c, int ms, char *why, size_t len)
{
    for (;;) {
        char *nl = memchr(c->in, '\n', c->in_len);
        if (nl) {
            size_t n = (size_t)(nl - c->in);
            size_t keep = n > 0 && c->in[n - 1] == '\r' ? n - 1 : n;
            memcpy(c->line, c->in, keep);
            c->line[keep] = '\0';
            trace("<- ", c->line, keep);
            memmove(c->in, nl + 1, c->in_len - n - 1);
            c->in_len -= n + 1;
            return 0;
        }
        if (c->in_len == sizeof(c->in)) {
            snprintf(why, len, "the manager sent a line longer than %d bytes", CTL_LINE_MAX);
            return -1;
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int rc = poll(&p, 1, ms);
        if (rc == 0) {
            snprintf(why, len, "hv did not answer within %d s", REPLY_TIMEOUT_MS / 1000);
            return -1;
        }
        ssize_t got = rc < 0 ? -1 : read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
        if (got <= 0) {
            snprintf(why, len, "the connection to the manager is closed%s%s", got < 0 ? ": " : "",
                     got < 0 ? strerror(errno) : "");
            return -1;
        }
        c->in_len += (size_t)got;
    }
}

/* Read the next line as JSON into c->doc: 0, or -1 with `why`. */
static int read_doc(struct ctl_conn *c, int ms, char *why, size_t len)
{
    if (read_line(c, ms, why, len) < 0)
        return -1;
    char perr[128];
    if (json_parse(&c->doc, c->line, strlen(c->line), c->tok, CTL_CONN_TOKENS, CTL_DEPTH_MAX, perr,
                   sizeof(perr)) < 0 ||
        c->doc.tok[0].type != JSON_OBJECT) {
        snprintf(why, len, "the manager sent a line that is no JSON object (%s)", perr);
        return -1;
    }
    return 0;
}

int ctl_connect(struct ctl_conn *c, const char *path, char *why, size_t len)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    c->in_len = 0;
    c->next_id = 1;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(why, len, "socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        snprintf(why, len, "cannot connect to %s: %s", path, strerror(errno));
        if (c->fd >= 0)
            close(c->fd);
        return -1;
    }
    /* The manager greets once hv has greeted it: as long as the outer
     * machine takes to boot hv (it closes the socket if hv never comes). */
    if (read_doc(c, -1, why, len) < 0)
        return -1;
    int g = json_get(&c->doc, 0, CTL_KEY_GREETING);
    int p = g < 0 ? -1 : json_get(&c->doc, g, "protocol");
    int d = g < 0 ? -1 : json_get(&c->doc, g, "domains");
    uint64_t proto = 0, doms = 1;
    if (p < 0 || json_u64(&c->doc, p, &proto) < 0 || proto != CTL_PROTOCOL) {
        snprintf(why, len, "%s does not greet with hvkit's control protocol %d", path,
                 CTL_PROTOCOL);
        close(c->fd);
        return -1;
    }
    if (d >= 0)
        json_u64(&c->doc, d, &doms);
    c->domains = (int)doms;
    return 0;
}

/* Write the request line for `execute`; false if it does not fit. */
static bool write_request(struct ctl_conn *c, char *buf, size_t size, const char *execute,
                          const struct ctl_arg *args, int n, uint64_t id)
{
    struct json_out o;
    json_out_init(&o, buf, size - 1);
    json_obj_begin(&o);
    json_key(&o, CTL_KEY_EXECUTE);
    json_put_str(&o, execute);
    if (n > 0) {
        json_key(&o, CTL_KEY_ARGUMENTS);
        json_obj_begin(&o);
        for (int i = 0; i < n; i++) {
            json_key(&o, args[i].key);
            if (args[i].type == CTL_U64)
                json_put_u64(&o, args[i].u);
            else if (args[i].type == CTL_BOOL)
                json_put_bool(&o, args[i].u != 0);
            else
                json_put_str(&o, args[i].s);
        }
        json_obj_end(&o);
    }
    json_key(&o, CTL_KEY_ID);
    json_put_u64(&o, id);
    json_obj_end(&o);
    (void)c;
    return json_out_ok(&o);
}

/* Write all of buf; false on a closed connection. */
static bool send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* The reply to request `id`: skip events and anything answering another
 * id; fill `err` from an error reply. */
static int await_reply(struct ctl_conn *c, uint64_t id, struct hmp_err *err)
{
    for (;;) {
        char why[256];
        if (read_doc(c, REPLY_TIMEOUT_MS, why, sizeof(why)) < 0) {
            set_err(err, CTL_ERR_GENERIC, why);
            return -1;
        }
        uint64_t got = 0;
        int i = json_get(&c->doc, 0, CTL_KEY_ID);
        if (json_get(&c->doc, 0, CTL_KEY_EVENT) >= 0 || i < 0 || json_u64(&c->doc, i, &got) < 0 ||
            got != id)
            continue;
        int r = json_get(&c->doc, 0, CTL_KEY_RETURN);
        if (r >= 0)
            return r;
        int e = json_get(&c->doc, 0, CTL_KEY_ERROR);
        int cls = e < 0 ? -1 : json_get(&c->doc, e, CTL_KEY_CLASS);
        int desc = e < 0 ? -1 : json_get(&c->doc, e, CTL_KEY_DESC);
        set_err(err, CTL_ERR_GENERIC, "the manager's reply has neither return nor error");
        if (cls >= 0)
            json_str_copy(&c->doc, cls, err->cls, sizeof(err->cls));
        if (desc >= 0)
            json_str_copy(&c->doc, desc, err->desc, sizeof(err->desc));
        return -1;
    }
}

int ctl_call(struct ctl_conn *c, const char *execute, const struct ctl_arg *args, int n,
             struct hmp_err *err)
{
    static char req[4096];
    uint64_t id = c->next_id++;
    if (c->fd < 0) {
        set_err(err, CTL_ERR_GENERIC, "not connected to the manager");
        return -1;
    }
    if (!write_request(c, req, sizeof(req), execute, args, n, id)) {
        set_err(err, CTL_ERR_GENERIC, "request too long");
        return -1;
    }
    size_t len = strlen(req);
    trace("-> ", req, len);
    req[len++] = '\n';
    if (!send_all(c->fd, req, len)) {
        set_err(err, CTL_ERR_GENERIC, "the connection to the manager is closed");
        return -1;
    }
    return await_reply(c, id, err);
}

void ctl_close(struct ctl_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}
