/*
 * ctlc.c: a front-end's side of the control protocol (ctlc.h), shared by xl and virsh.
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

/* The next line from the manager into c->line, parsed into c->doc; -1 at
 * the deadline, at the end of the connection or for a line that is not a
 * JSON object. */
static int read_line(struct ctlc *c, long deadline, char *why, size_t whylen)
{
    for (;;) {
        char *nl = memchr(c->in, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->in);
            memcpy(c->line, c->in, n);
            c->line[n] = 0;
            memmove(c->in, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            char err[128];
            if (json_parse(&c->doc, c->line, n, c->tok, sizeof(c->tok) / sizeof(c->tok[0]),
                           CTL_DEPTH_MAX, err, sizeof(err)) < 0 ||
                c->doc.tok[0].type != JSON_OBJECT) {
                snprintf(why, whylen, "the manager sent a line that is not a JSON object");
                return -1;
            }
            return 0;
        }
        long left = deadline - now_ms();
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (c->len >= CTL_LINE_MAX || left <= 0 || poll(&p, 1, (int)left) == 0) {
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
    }
}

int ctlc_open(struct ctlc *c, const char *path, int ms, char *why, size_t whylen)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    c->len = 0;
    c->next_id = 1;
    if (strlen(path) >= sizeof(a.sun_path)) {
        snprintf(why, whylen, "socket path '%s' is too long", path);
        return -1;
    }
    strcpy(a.sun_path, path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        snprintf(why, whylen, "cannot connect to %s: %s", path, strerror(errno));
        if (c->fd >= 0)
            close(c->fd);
        return -1;
    }
    uint64_t proto;
    if (read_line(c, now_ms() + ms, why, whylen) < 0)
        goto fail;
    int g = json_get(&c->doc, 0, CTL_KEY_GREETING);
    if (g < 0 || json_u64(&c->doc, json_get(&c->doc, g, "protocol"), &proto) < 0 ||
        proto != CTL_PROTOCOL) {
        snprintf(why, whylen, "the manager refused or speaks another protocol: %s", c->line);
        goto fail;
    }
    return 0;
fail:
    close(c->fd);
    return -1;
}

int ctlc_call(struct ctlc *c, const char *execute, const char *args, int ms, int *ret, char *why,
              size_t whylen)
{
    char req[1024];
    long id = c->next_id++;
    int n =
        snprintf(req, sizeof(req), "{\"%s\": \"%s\", \"%s\": %s, \"%s\": %ld}\n", CTL_KEY_EXECUTE,
                 execute, CTL_KEY_ARGUMENTS, args ? args : "{}", CTL_KEY_ID, id);
    if (n >= (int)sizeof(req) || send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        snprintf(why, whylen, "cannot send to the manager");
        return -1;
    }
    long deadline = now_ms() + ms;
    for (;;) {
        if (read_line(c, deadline, why, whylen) < 0)
            return -1;
        uint64_t got;
        if (json_u64(&c->doc, json_get(&c->doc, 0, CTL_KEY_ID), &got) < 0 || got != (uint64_t)id)
            continue; /* an event, or another request's reply */
        *ret = json_get(&c->doc, 0, CTL_KEY_RETURN);
        if (*ret >= 0)
            return 0;
        int e = json_get(&c->doc, 0, CTL_KEY_ERROR);
        if (json_str_copy(&c->doc, json_get(&c->doc, e, CTL_KEY_DESC), why, whylen) < 0)
            snprintf(why, whylen, "%s", c->line);
        return 1;
    }
}

void ctlc_close(struct ctlc *c)
{
    close(c->fd);
}
