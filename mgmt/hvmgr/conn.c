/*
 * conn.c - one connection of the manager: COM2's stream from the outer
 * machine, or a front-end's Unix socket.  Both are byte streams carrying
 * one JSON object per line (docs/control-protocol.md "Framing").
 *
 * Every descriptor is non-blocking: a front-end that stops reading, or an
 * outer machine whose hv is busy in a guest, must not stop the manager
 * from serving everyone else.  Output waits in a buffer per connection;
 * input is cut into lines here, so the rest of the manager only ever sees
 * whole lines -- which is what makes a front-end that dies in the middle
 * of a line harmless: its half line is never a request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvmgr.h"

/* A reader that does not take its bytes is dropped at this backlog. */
#define OUT_LIMIT (1u << 20)

struct conn *conn_new(int fd)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->in = malloc(CTL_LINE_MAX);
    if (!c->in) {
        free(c);
        return NULL;
    }
    c->fd = fd;
    c->console = -1;
    return c;
}

void conn_free(struct conn *c)
{
    if (!c)
        return;
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

/* Append bytes to the output buffer, growing it; false when the backlog
 * is beyond the limit or memory runs out. */
static bool append(struct conn *c, const char *s, size_t len)
{
    if (c->out_len + len > OUT_LIMIT)
        return false;
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p)
            return false;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, s, len);
    c->out_len += len;
    return true;
}

void conn_send_line(struct conn *c, const char *s, size_t len)
{
    if (c->dead)
        return;
    if (!append(c, s, len) || !append(c, "\n", 1)) {
        c->dead = true;
        return;
    }
    conn_flush(c);
}

void conn_send(struct conn *c, const char *s, size_t len)
{
    if (c->dead)
        return;
    if (!append(c, s, len)) {
        c->dead = true;
        return;
    }
    conn_flush(c);
}

void conn_flush(struct conn *c)
{
    while (c->out_len && !c->dead) {
        ssize_t n = write(c->fd, c->out, c->out_len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                c->dead = true;
            return;
        }
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
    }
}

/* One byte of input into the line being assembled. */
static void take(struct conn *c, char ch, void (*line)(struct conn *, const char *, size_t),
                 void (*overlong)(struct conn *))
{
    if (ch == '\n') {
        size_t n = c->in_len;
        c->in_len = 0;
        if (c->too_long) {
            c->too_long = false;
            overlong(c);
            return;
        }
        if (n && c->in[n - 1] == '\r')
            n--;
        /* An empty line is no request (as QMP ignores one). */
        if (n)
            line(c, c->in, n);
        return;
    }
    /* CTL_LINE_MAX counts the newline. */
    if (c->in_len + 1 >= CTL_LINE_MAX) {
        c->too_long = true;
        return;
    }
    c->in[c->in_len++] = ch;
}

void conn_read(struct conn *c, void (*line)(struct conn *c, const char *s, size_t len),
               void (*overlong)(struct conn *c))
{
    char buf[8192];
    for (;;) {
        /* An attached console's bytes: only as many as its queue takes,
         * the rest waits in the socket (and then in the front-end). */
        size_t want = sizeof(buf);
        if (c->console >= 0 && (want = console_room(c)) > sizeof(buf))
            want = sizeof(buf);
        if (!want)
            return;
        ssize_t n = read(c->fd, buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            /* The end of the stream: a line without its newline is
             * dropped, never carried out. */
            c->dead = true;
            return;
        }
        for (ssize_t i = 0; i < n && !c->dead; i++) {
            /* Attached by the line just taken (or before): the rest is
             * the console's.  A front-end waits for the attach reply
             * before it types, so this is at most what fits. */
            if (c->console >= 0) {
                console_input(c, buf + i, (size_t)(n - i));
                break;
            }
            take(c, buf[i], line, overlong);
        }
    }
}
