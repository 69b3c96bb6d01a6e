/*
 * hvmgr's entry point: the two listening sockets and the loop.
 *
 *   hvmgr --socket PATH --com2 unix:PATH|tcp:127.0.0.1:PORT [--ready FILE]
 *         [--staging FILE:DISK:BYTES] [--console FIFO] [--commit-copy DISK:COPY:FILE]...
 *         [--ended FILE]
 *
 * --socket: where front-ends connect (a Unix socket, created here, removed
 *   when the manager ends).
 * --com2: where the outer machine's COM2 connects: a Unix socket for QEMU
 *   (-chardev socket,path=...), a loopback TCP port for Bochs, whose serial
 *   socket modes are TCP only (port 0: any free port).
 * --ready: written once both sockets listen (with the TCP port, for
 *   --com2 tcp:...:0), so that bin/hvrun starts the outer machine only
 *   then.
 * --staging: the staging disk for domain-create's kernels (stage.c): the
 *   host file, its number among the outer machine's disks, and the bytes
 *   of it hv reads.
 * --console: the pipe on which bin/hvrun passes on the guests' console
 *   lines (console.c).
 * --commit-copy: a backing file's private copy, outer disk DISK, that hv
 *   may commit into, and the user's FILE the manager writes it back over
 *   (stage_commit.c); one for each such copy.
 * --ended: written (with the reason) when the manager ends the outer
 *   machine itself because hv did not answer a quit (machine.c), so that
 *   bin/hvrun can tell that end from a crash.
 *
 * The manager ends when the outer machine's end of COM2 closes (hv has
 * ended, the emulator has stopped), after telling every front-end still
 * waiting and, with --console, once the last console lines have reached
 * the attached front-ends (the pipe's end, at most DRAIN_MS later); or on
 * SIGINT/SIGTERM.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "hvmgr.h"

struct conn *clients[CTL_CLIENTS_MAX];

/* After hv has gone, how long the console pipe may take to end. */
#define DRAIN_MS 5000

static volatile sig_atomic_t stop_signal;
static const char *socket_path, *com2_unix_path;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void die(const char *what)
{
    fprintf(stderr, "hvmgr: %s: %s\n", what, strerror(errno));
    if (socket_path)
        unlink(socket_path);
    if (com2_unix_path)
        unlink(com2_unix_path);
    exit(1);
}

static void nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        die("fcntl");
}

/* A listening Unix socket at `path` (an old socket file there is replaced:
 * a path that is something else is refused). */
static int listen_unix(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(a.sun_path)) {
        fprintf(stderr, "hvmgr: socket path '%s' is too long (at most %zu bytes)\n", path,
                sizeof(a.sun_path) - 1);
        exit(1);
    }
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (errno != EADDRINUSE)
            die(path);
        /* Left behind by a manager that was killed: only a socket is
         * removed, and only when nobody answers on it. */
        int probe = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(probe, (struct sockaddr *)&a, sizeof(a)) == 0) {
            fprintf(stderr, "hvmgr: %s is in use by another manager\n", path);
            exit(1);
        }
        close(probe);
        if (unlink(path) < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
            die(path);
    }
    if (listen(fd, 8) < 0)
        die("listen");
    nonblocking(fd);
    return fd;
}

/* A listening TCP socket on 127.0.0.1:port (0: any); its port in *bound. */
static int listen_tcp(unsigned port, unsigned *bound)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0)
        die("127.0.0.1");
    socklen_t len = sizeof(a);
    if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        die("getsockname");
    *bound = ntohs(a.sin_port);
    nonblocking(fd);
    return fd;
}

static void usage(void)
{
    fprintf(stderr, "Usage: hvmgr --socket PATH --com2 unix:PATH|tcp:127.0.0.1:PORT "
                    "[--ready FILE] [--staging FILE:DISK:BYTES] [--console FIFO] "
                    "[--commit-copy DISK:COPY:FILE]... [--ended FILE]\n");
    exit(2);
}

/* Options: the front-ends' socket, COM2's, the ready file. */
static int open_listeners(int argc, char **argv, int *com2_listen, const char **ready)
{
    const char *com2 = NULL;
    unsigned port = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--socket"))
            socket_path = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--com2"))
            com2 = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--ready"))
            *ready = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--staging")) {
            if (stage_option(argv[++i]) < 0)
                usage();
        } else if (i + 1 < argc && !strcmp(argv[i], "--commit-copy")) {
            if (commit_option(argv[++i]) < 0)
                usage();
        } else if (i + 1 < argc && !strcmp(argv[i], "--ended")) {
            machine_note_option(argv[++i]);
        } else if (i + 1 < argc && !strcmp(argv[i], "--console")) {
            if (console_option(argv[++i]) < 0)
                exit(1);
        } else
            usage();
    }
    if (!socket_path || !com2)
        usage();
    if (!strncmp(com2, "unix:", 5)) {
        com2_unix_path = com2 + 5;
        *com2_listen = listen_unix(com2_unix_path);
    } else if (!strncmp(com2, "tcp:127.0.0.1:", 14)) {
        char *end;
        unsigned long p = strtoul(com2 + 14, &end, 10);
        if (*end || p > 65535)
            usage();
        *com2_listen = listen_tcp((unsigned)p, &port);
    } else {
        usage();
    }
    int fd = listen_unix(socket_path);
    if (*ready) {
        FILE *f = fopen(*ready, "w");
        if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0)
            die(*ready);
    }
    return fd;
}

/* A front-end connects: it gets a slot, or a reason and the door. */
static void accept_client(int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
        if (!clients[i]) {
            clients[i] = conn_new(fd);
            if (!clients[i]) {
                close(fd);
                return;
            }
            relay_client_added(clients[i]);
            return;
        }
    }
    static const char full[] = "{\"error\": {\"class\": \"GenericError\", \"desc\": \"too many "
                               "front-ends connected (at most 16)\"}}\n";
    _Static_assert(CTL_CLIENTS_MAX == 16, "the message names the limit");
    if (write(fd, full, sizeof(full) - 1) < 0) {
        /* Nothing more to do for a front-end that is not listening. */
    }
    close(fd);
}

/* A time limit in milliseconds: $NAME seconds, `dflt` when it is not
 * set. */
static long env_seconds_ms(const char *name, long dflt)
{
    const char *v = getenv(name);
    char *end;
    long s = v ? strtol(v, &end, 10) : dflt;
    if (v && (*end || end == v || s < 1 || s > 86400)) {
        fprintf(stderr, "hvmgr: %s='%s' is not 1..86400 seconds\n", name, v);
        exit(2);
    }
    return s * 1000;
}

/* The reply time limit (relay_expire): $HVMGR_REPLY_TIMEOUT seconds, 60 by
 * default -- a savevm writes the guest's RAM through the outer machine's
 * disk, which takes seconds on a busy host, while an hv that is stuck
 * never answers at all. */
static long reply_timeout_ms(void)
{
    return env_seconds_ms("HVMGR_REPLY_TIMEOUT", 60);
}

/* How long a quit may wait for hv before the manager ends the outer
 * machine itself: $HVMGR_QUIT_TIMEOUT seconds, 10 by default.  hv answers
 * a quit at once when it answers at all (it ends its domains after the
 * reply), so 10 s is ample on a busy host and short for someone waiting
 * on `xl destroy`; a quit queued behind a long request (a savevm) is not
 * worth more than that either: destroying a domain is ending it now. */
static long quit_timeout_ms(void)
{
    return env_seconds_ms("HVMGR_QUIT_TIMEOUT", 10);
}

/* A quit hv has not answered in time: the manager ends the machine and
 * answers the quit itself (machine.c); the milliseconds until the next
 * such check is due, or -1. */
static long end_unanswered_quit(long now, long limit)
{
    long due = relay_quit_due(now, limit);
    if (due != 0)
        return due;
    char why[96];
    snprintf(why, sizeof(why), "hv has not answered quit within %ld s", limit / 1000);
    if (machine_end(now, why))
        relay_quit_answered(NULL);
    else
        relay_quit_answered("hv has not answered quit, and the manager does not know the outer "
                            "machine's process: it was not ended");
    return -1;
}

/* The front-ends' events: an attached console reads only while its
 * queue has room (console.c), so that a fast typist waits rather than
 * loses bytes. */
static short client_events(const struct conn *c)
{
    short ev = c->out_len ? POLLOUT : 0;
    if (c->console < 0 || console_room(c))
        ev |= POLLIN;
    return ev;
}

/* Serve one front-end whose descriptor poll() reported. */
static void serve_client(struct conn *c, short revents)
{
    if (revents & POLLOUT)
        conn_flush(c);
    if (revents & (POLLIN | POLLHUP | POLLERR))
        conn_read(c, relay_client_line, relay_client_overlong);
}

/* Close the front-ends that have gone or were let go. */
static void reap_clients(void)
{
    for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
        if (clients[i] && clients[i]->dead) {
            relay_client_gone(clients[i]);
            conn_free(clients[i]);
            clients[i] = NULL;
        }
    }
}

/* The soonest of two waits in milliseconds (-1: none). */
static long sooner(long a, long b)
{
    return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

int main(int argc, char **argv)
{
    int com2_listen = -1;
    const char *ready = NULL;
    int lfd = open_listeners(argc, argv, &com2_listen, &ready);
    struct conn *hv = NULL;
    /* hv's end of COM2 has closed: since when (the console may still
     * bring its last lines). */
    bool hv_ended = false;
    long ended_at = 0;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    long limit = reply_timeout_ms(), quit_limit = quit_timeout_ms();
    while (!stop_signal) {
        long now = relay_now_ms();
        if (hv_ended && (console_ended() || now - ended_at >= DRAIN_MS))
            break;
        /* Front-ends that waited too long get their error first; poll
         * wakes up for the next one's limit, and for a console's retry;
         * an unanswered quit ends the machine. */
        long wait = sooner(relay_expire(now, limit), console_pump(now));
        wait = sooner(wait, sooner(end_unanswered_quit(now, quit_limit), machine_pump(now)));
        /* Those the consoles just let go, before poll() waits on them. */
        reap_clients();
        relay_pump(hv);
        if (hv_ended)
            wait = sooner(wait, 100);
        struct pollfd p[CTL_CLIENTS_MAX + 3];
        int n = 0;
        p[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
        p[n++] = (struct pollfd){.fd = hv         ? hv->fd
                                       : hv_ended ? -1
                                                  : com2_listen,
                                 .events = POLLIN | (hv && hv->out_len ? POLLOUT : 0)};
        p[n++] = (struct pollfd){.fd = console_fd(), .events = POLLIN};
        for (int i = 0; i < CTL_CLIENTS_MAX; i++)
            p[n++] = (struct pollfd){.fd = clients[i] ? clients[i]->fd : -1,
                                     .events = clients[i] ? client_events(clients[i]) : 0};
        if (poll(p, (nfds_t)n, wait < 0 ? -1 : (int)wait) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        if (p[0].revents & POLLIN)
            accept_client(lfd);
        if (!hv && !hv_ended && (p[1].revents & POLLIN)) {
            int fd = accept4(com2_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                /* One outer machine: nobody else may take COM2's place. */
                hv = conn_new(fd);
                machine_found(fd);
                close(com2_listen);
                if (com2_unix_path)
                    unlink(com2_unix_path);
            }
        } else if (hv && p[1].revents) {
            if (p[1].revents & POLLOUT)
                conn_flush(hv);
            if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
                conn_read(hv, relay_hv_line, relay_hv_overlong);
        }
        if (p[2].revents)
            console_read();
        for (int i = 0; i < CTL_CLIENTS_MAX; i++)
            if (clients[i] && p[3 + i].revents)
                serve_client(clients[i], p[3 + i].revents);
        if (hv && hv->dead) {
            relay_hv_gone();
            conn_free(hv);
            hv = NULL;
            hv_ended = true;
            ended_at = relay_now_ms();
        }
        reap_clients();
        relay_pump(hv);
    }
    /* Stopped (bin/hvrun's end) or hv gone: the disks attached at run
     * time back into their files, if that has not happened yet. */
    disk_end();
    /* Last words to the front-ends (errors for what waited), as far as
     * they take them now -- a few short lines, which a socket's buffer
     * holds -- then the sockets go. */
    for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
        if (clients[i]) {
            conn_flush(clients[i]);
            conn_free(clients[i]);
        }
    }
    conn_free(hv);
    unlink(socket_path);
    if (!hv && !hv_ended && com2_unix_path)
        unlink(com2_unix_path);
    return 0;
}
