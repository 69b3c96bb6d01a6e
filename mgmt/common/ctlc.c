/*
 * ctlc.c: a front-end's side of the control protocol (ctlc.h), shared by
 * xl, virsh, hvmon and hvctl.  Requests carry an id the connection counts
 * up, so a reply is matched to its request even when events (or a late
 * reply to an earlier request) arrive in between.
 */
#include "ctlc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Take one complete line out of c->in into c->line (no '\n', no '\r'
 * before it); false when there is none yet. */
static bool take_line(struct ctlc *c)
{
    char *nl = memchr(c->in, '\n', c->len);
    if (!nl)
        return false;
    size_t n = (size_t)(nl - c->in);
    size_t keep = n > 0 && c->in[n - 1] == '\r' ? n - 1 : n;
    memcpy(c->line, c->in, keep);
    c->line[keep] = 0;
    memmove(c->in, nl + 1, c->len - n - 1);
    c->len -= n + 1;
    if (c->trace)
        c->trace("<- ", c->line, keep);
    return true;
}

/* Wait for more bytes until `deadline` (< 0: none); -1 with `why`. */
static int fill(struct ctlc *c, long deadline, char *why, size_t whylen)
{
    for (;;) {
        if (c->len >= CTL_LINE_MAX) {
            snprintf(why, whylen, "the manager sent a line longer than %d bytes", CTL_LINE_MAX);
            return -1;
        }
        long left = deadline < 0 ? -1 : deadline - now_ms();
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (deadline >= 0 && (left <= 0 || poll(&p, 1, (int)left) == 0)) {
            snprintf(why, whylen, "no answer from the manager in time");
            return -1;
        }
        ssize_t r = read(c->fd, c->in + c->len, CTL_LINE_MAX - c->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(why, whylen, "the manager closed the connection");
            return -1;
        }
        c->len += (size_t)r;
        return 0;
    }
}

/* The next line from the manager, parsed, before `deadline`. */
static int read_until(struct ctlc *c, long deadline, char *why, size_t whylen)
{
    while (!take_line(c))
        if (fill(c, deadline, why, whylen) < 0)
            return -1;
    char err[128];
    if (json_parse(&c->doc, c->line, strlen(c->line), c->tok, sizeof(c->tok) / sizeof(c->tok[0]),
                   CTL_DEPTH_MAX, err, sizeof(err)) < 0 ||
        c->doc.tok[0].type != JSON_OBJECT) {
        snprintf(why, whylen, "the manager sent a line that is not a JSON object");
        return -1;
    }
    return 0;
}

int ctlc_read(struct ctlc *c, int ms, char *why, size_t whylen)
{
    return read_until(c, ms < 0 ? -1 : now_ms() + ms, why, whylen);
}

/* The greeting: hvkit's, of the protocol this program speaks; its number
 * of domains. */
static int greeting(struct ctlc *c, char *why, size_t whylen)
{
    uint64_t proto, doms = 1;
    int g = json_get(&c->doc, 0, CTL_KEY_GREETING);
    if (g < 0) {
        /* E.g. too many front-ends: the manager says why. */
        snprintf(why, whylen, "the manager refused the connection: %s", c->line);
        return -1;
    }
    if (json_u64(&c->doc, json_get(&c->doc, g, "protocol"), &proto) < 0 || proto != CTL_PROTOCOL) {
        snprintf(why, whylen, "the manager speaks another protocol version: %s", c->line);
        return -1;
    }
    json_u64(&c->doc, json_get(&c->doc, g, "domains"), &doms);
    c->domains = (int)doms;
    return 0;
}

int ctlc_open(struct ctlc *c, const char *path, int ms, char *why, size_t whylen)
{
    return ctlc_open_traced(c, path, ms, NULL, why, whylen);
}

/* ctlc's copy of the path must hold any path a socket address can. */
_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == CTLC_PATH_MAX + 1,
               "CTLC_PATH_MAX is sun_path's size less one");

int ctlc_reopen(struct ctlc *to, const struct ctlc *from, int ms, char *why, size_t whylen)
{
    /* Copied first: `to` and `from` may be the same struct. */
    char path[sizeof(from->path)];
    snprintf(path, sizeof(path), "%s", from->path);
    return ctlc_open_traced(to, path, ms, from->trace, why, whylen);
}

int ctlc_open_traced(struct ctlc *c, const char *path, int ms,
                     void (*trace)(const char *dir, const char *line, size_t len), char *why,
                     size_t whylen)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    c->len = 0;
    c->next_id = 1;
    c->domains = 1;
    c->trace = trace;
    if (strlen(path) >= sizeof(a.sun_path)) {
        snprintf(why, whylen, "socket path '%s' is too long", path);
        return -1;
    }
    strcpy(a.sun_path, path);
    snprintf(c->path, sizeof(c->path), "%s", path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        snprintf(why, whylen, "cannot connect to %s: %s", path, strerror(errno));
        if (c->fd >= 0)
            close(c->fd);
        c->fd = -1;
        return -1;
    }
    if (ctlc_read(c, ms, why, whylen) < 0 || greeting(c, why, whylen) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

int ctlc_send(struct ctlc *c, const char *s, size_t len, bool newline, char *why, size_t whylen)
{
    if (c->trace)
        c->trace("-> ", s, len);
    while (len > 0 || newline) {
        const char *p = len > 0 ? s : "\n";
        size_t n = len > 0 ? len : 1;
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(why, whylen, "cannot send to the manager: the connection is closed");
            return -1;
        }
        if (len > 0)
            s += w, len -= (size_t)w;
        else
            newline = false;
    }
    return 0;
}

/* Send request line `req` (id `id`) and wait for its reply: 0 "return"
 * (*ret), 1 "error", -1 none; `err` for 1 and -1. */
static int exchange(struct ctlc *c, const char *req, size_t n, long id, int ms, int *ret,
                    struct ctlc_err *err)
{
    snprintf(err->cls, sizeof(err->cls), "%s", CTL_ERR_GENERIC);
    if (ctlc_send(c, req, n, true, err->desc, sizeof(err->desc)) < 0)
        return -1;
    long deadline = ms < 0 ? -1 : now_ms() + ms;
    for (;;) {
        if (read_until(c, deadline, err->desc, sizeof(err->desc)) < 0)
            return -1;
        uint64_t got;
        if (json_get(&c->doc, 0, CTL_KEY_EVENT) >= 0 ||
            json_u64(&c->doc, json_get(&c->doc, 0, CTL_KEY_ID), &got) < 0 || got != (uint64_t)id)
            continue; /* an event, or another request's reply */
        *ret = json_get(&c->doc, 0, CTL_KEY_RETURN);
        if (*ret >= 0)
            return 0;
        int e = json_get(&c->doc, 0, CTL_KEY_ERROR);
        json_str_copy(&c->doc, json_get(&c->doc, e, CTL_KEY_CLASS), err->cls, sizeof(err->cls));
        if (json_str_copy(&c->doc, json_get(&c->doc, e, CTL_KEY_DESC), err->desc,
                          sizeof(err->desc)) < 0)
            snprintf(err->desc, sizeof(err->desc), "%.*s", (int)sizeof(err->desc) - 1, c->line);
        return 1;
    }
}

int ctlc_call(struct ctlc *c, const char *execute, const char *args, int ms, int *ret, char *why,
              size_t whylen)
{
    char req[1024];
    struct ctlc_err err;
    long id = c->next_id++;
    int n = snprintf(req, sizeof(req), "{\"%s\": \"%s\", \"%s\": %s, \"%s\": %ld}", CTL_KEY_EXECUTE,
                     execute, CTL_KEY_ARGUMENTS, args ? args : "{}", CTL_KEY_ID, id);
    if (n >= (int)sizeof(req)) {
        snprintf(why, whylen, "the request is too long");
        return -1;
    }
    int rc = exchange(c, req, (size_t)n, id, ms, ret, &err);
    if (rc != 0)
        snprintf(why, whylen, "%s", err.desc);
    return rc;
}

/* The request line for ctlc_callv; false if it does not fit. */
static bool write_request(char *buf, size_t size, const char *execute, const struct ctlc_arg *args,
                          int n, long id, size_t *len)
{
    struct json_out o;
    json_out_init(&o, buf, size);
    json_obj_begin(&o);
    json_key(&o, CTL_KEY_EXECUTE);
    json_put_str(&o, execute);
    if (n > 0) {
        json_key(&o, CTL_KEY_ARGUMENTS);
        json_obj_begin(&o);
        for (int i = 0; i < n; i++) {
            json_key(&o, args[i].key);
            if (args[i].type == CTLC_U64)
                json_put_u64(&o, args[i].u);
            else if (args[i].type == CTLC_BOOL)
                json_put_bool(&o, args[i].u != 0);
            else
                json_put_str(&o, args[i].s);
        }
        json_obj_end(&o);
    }
    json_key(&o, CTL_KEY_ID);
    json_put_u64(&o, (uint64_t)id);
    json_obj_end(&o);
    *len = o.len;
    return json_out_ok(&o);
}

int ctlc_callv(struct ctlc *c, const char *execute, const struct ctlc_arg *args, int n, int ms,
               int *ret, struct ctlc_err *err)
{
    char req[4096];
    size_t len;
    long id = c->next_id++;
    if (c->fd < 0 || !write_request(req, sizeof(req), execute, args, n, id, &len)) {
        snprintf(err->cls, sizeof(err->cls), "%s", CTL_ERR_GENERIC);
        snprintf(err->desc, sizeof(err->desc),
                 c->fd < 0 ? "not connected to the manager" : "the request is too long");
        return -1;
    }
    return exchange(c, req, len, id, ms, ret, err);
}

bool ctlc_image_args(char *buf, size_t size, const char *device, const char *filename,
                     const char *format, int read_only)
{
    /* The writer escapes what JSON needs: a path may hold quotes. */
    struct json_out o;
    json_out_init(&o, buf, size);
    json_obj_begin(&o);
    json_key(&o, CTL_ARG_DOMAIN);
    json_put_u64(&o, 0);
    json_key(&o, CTL_ARG_DEVICE);
    json_put_str(&o, device);
    json_key(&o, CTL_ARG_FILENAME);
    json_put_str(&o, filename);
    json_key(&o, CTL_ARG_FORMAT);
    json_put_str(&o, format);
    if (read_only >= 0) {
        json_key(&o, CTL_ARG_READ_ONLY);
        json_put_bool(&o, read_only);
    }
    json_obj_end(&o);
    return json_out_ok(&o);
}

void ctlc_close(struct ctlc *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

int ctlc_hv_status(struct ctlc *c, struct ctlc_hv *h, char *why, size_t whylen)
{
    int ret;
    *h = (struct ctlc_hv){.answering = true, .domains = -1, .domains_age_ms = -1};
    /* The manager answers it itself, at once: a short wait is plenty. */
    if (ctlc_call(c, CTL_CMD_HV_STATUS, NULL, 5000, &ret, why, whylen) != 0)
        return -1;
    const struct json_doc *d = &c->doc;
    json_bool(d, json_get(d, ret, "connected"), &h->connected);
    json_bool(d, json_get(d, ret, "answering"), &h->answering);
    json_u64(d, json_get(d, ret, "waiting-ms"), &h->waiting_ms);
    json_u64(d, json_get(d, ret, "limit-ms"), &h->limit_ms);
    h->domains = json_get(d, ret, "domains");
    uint64_t age;
    if (json_u64(d, json_get(d, ret, "domains-age-ms"), &age) == 0)
        h->domains_age_ms = (long)age;
    return 0;
}

void ctlc_no_answer(const struct ctlc_hv *h, char *why, size_t whylen)
{
    if (!h->connected)
        snprintf(why, whylen,
                 "hv in the domain's machine is not running (it has ended or not "
                 "started)");
    else
        snprintf(why, whylen,
                 "hv in the domain's machine does not answer (a request has waited %llu s for "
                 "it; the machine may be stopped or hung)",
                 (unsigned long long)(h->waiting_ms / 1000));
}

/* Did the call that returned `rc` get no reply from hv: none within its
 * wait, or the manager's Timeout error (in c->doc)? */
static bool no_reply(struct ctlc *c, int rc)
{
    if (rc < 0)
        return true;
    if (rc != 1)
        return false;
    int e = json_get(&c->doc, 0, CTL_KEY_ERROR);
    return json_str_eq(&c->doc, json_get(&c->doc, e, CTL_KEY_CLASS), CTL_ERR_TIMEOUT);
}

int ctlc_explain(struct ctlc *c, int rc, int ms, char *why, size_t whylen)
{
    struct ctlc_hv h;
    char again[64];
    /* A manager that closed the connection keeps its reason. */
    if (!no_reply(c, rc) || c->fd < 0 || ctlc_hv_status(c, &h, again, sizeof(again)) < 0)
        return rc;
    /* No reply within `ms` at all: the request has waited that long at
     * least (the manager may not have sent it yet). */
    if (rc < 0 && h.waiting_ms < (uint64_t)ms)
        h.waiting_ms = (uint64_t)ms;
    ctlc_no_answer(&h, why, whylen);
    return -2;
}

int ctlc_call_hv(struct ctlc *c, const char *execute, const char *args, int ms, int *ret, char *why,
                 size_t whylen)
{
    struct ctlc_hv h;
    if (ctlc_hv_status(c, &h, why, whylen) == 0 && (!h.connected || !h.answering)) {
        ctlc_no_answer(&h, why, whylen);
        return -2;
    }
    int rc = ctlc_call(c, execute, args, ms, ret, why, whylen);
    return ctlc_explain(c, rc, ms, why, whylen);
}

int ctlc_domains(struct ctlc *c, int ms, bool *stale, char *why, size_t whylen)
{
    struct ctlc_hv h;
    char again[64];
    int ret, rc;
    *stale = false;
    if (ctlc_hv_status(c, &h, why, whylen) == 0 && (!h.connected || !h.answering)) {
        ctlc_no_answer(&h, why, whylen);
    } else if ((rc = ctlc_call(c, CTL_CMD_QUERY_DOMAINS, NULL, ms, &ret, why, whylen)) == 0) {
        return ret;
    } else if (ctlc_explain(c, rc, ms, why, whylen) != -2 ||
               ctlc_hv_status(c, &h, again, sizeof(again)) < 0) {
        return -1;
    }
    *stale = true;
    return h.domains;
}
