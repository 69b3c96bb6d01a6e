/*
 * conclient.c - a front-end's side of a domain's console (conclient.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "conclient.h"

int conclient_attach(struct ctlc *c, unsigned dom, bool force, char *why, size_t whylen)
{
    struct ctlc_arg args[] = {
        {CTL_ARG_DOMAIN, CTLC_U64, dom, NULL},
        {CTL_ARG_FORCE, CTLC_BOOL, force, NULL},
    };
    struct ctlc_err err;
    int ret;
    int rc = ctlc_callv(c, CTL_CMD_CONSOLE_ATTACH, args, 2, 30000, &ret, &err);
    if (rc == 0)
        return 0;
    snprintf(why, whylen, "%s", err.desc);
    return rc == 1 && !strcmp(err.desc, CTL_CONSOLE_BUSY) ? 1 : -1;
}

/* Write all of buf to `fd`; false when it cannot take it. */
static bool write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* Keys read from stdin: to the console, up to an escape character on a
 * terminal.  1 when the escape was typed, -1 when the console has gone. */
static int typed(struct ctlc *c, const char *buf, size_t len, bool tty)
{
    const char *esc = tty ? memchr(buf, CONCLIENT_ESCAPE, len) : NULL;
    size_t n = esc ? (size_t)(esc - buf) : len;
    if (!write_all(c->fd, buf, n))
        return -1;
    return esc ? 1 : 0;
}

/* The copying loop of conclient_run(). */
static int copy(struct ctlc *c, bool tty)
{
    char buf[4096];
    bool input = true;
    for (;;) {
        struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
                              {.fd = input ? STDIN_FILENO : -1, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (p[0].revents) {
            ssize_t n = read(c->fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            /* The manager closed it: the machine has ended, or another
             * front-end took the console over (--force). */
            if (n <= 0 || !write_all(STDOUT_FILENO, buf, (size_t)n))
                return 1;
        }
        if (p[1].revents) {
            ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                input = false;
                continue;
            }
            int t = typed(c, buf, (size_t)n, tty);
            if (t)
                return t > 0 ? 0 : 1;
        }
    }
}

int conclient_run(struct ctlc *c)
{
    /* What came after the attach reply in the same read: the first of the
     * console's output. */
    if (c->len && !write_all(STDOUT_FILENO, c->in, c->len))
        return 1;
    c->len = 0;
    bool tty = isatty(STDIN_FILENO);
    struct termios saved, raw;
    if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
        /* Raw: every key goes to the guest as typed (no line editing, no
         * signals from ^C), as on a serial line; output keeps its
         * newline-to-CR-LF translation, since hv's console lines end in a
         * bare newline. */
        raw = saved;
        cfmakeraw(&raw);
        raw.c_oflag |= OPOST;
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    } else {
        tty = false;
    }
    int rc = copy(c, tty);
    if (tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    return rc;
}
