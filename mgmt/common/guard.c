/*
 * guard.c: the guard of a front-end's command of several steps (guard.h).
 */
#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The step guard_end sends: the front-end finished. */
#define GUARD_DONE '\0'
/* What the guard sends once it is out of the front-end's session. */
#define GUARD_READY 'r'

/* The guard's life: read the steps until the socket ends; call fn only
 * when it ends without GUARD_DONE. */
static void guard_run(int in, guard_fn *fn, void *ctx)
{
    char steps[GUARD_STEPS_MAX + 1], c;
    size_t n = 0;
    while (read(in, &c, 1) == 1) {
        if (c == GUARD_DONE)
            return;
        if (n < GUARD_STEPS_MAX)
            steps[n++] = c;
    }
    steps[n] = '\0';
    fn(ctx, steps);
}

void guard_start(struct guard *g, guard_fn *fn, void *ctx)
{
    int p[2];
    char ready = GUARD_READY;
    g->fd = -1;
    g->pid = -1;
    /* A socket pair rather than a pipe: a step sent to a guard that is
     * gone fails (MSG_NOSIGNAL) instead of killing the front-end with
     * SIGPIPE. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        /* Out of the front-end's session and away from its output, which
         * a caller may be waiting to see closed. */
        close(p[1]);
        setsid();
        int null = open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3 && null >= 0; fd++)
            dup2(null, fd);
        /* Out of the session now: tell the front-end it is guarded. */
        if (send(p[0], &ready, 1, MSG_NOSIGNAL) != 1) {
            /* The front-end is gone already: its end of the socket is
             * closed, which guard_run reads as its death. */
        }
        guard_run(p[0], fn, ctx);
        _exit(0);
    }
    close(p[0]);
    /* Until the child has left the front-end's session, a kill of the
     * front-end's process group (the terminal's ^C, `timeout`, a test's
     * kill -KILL -PGID) ends the guard with it, and nothing would finish
     * the command.  So the command's first step waits for the child's
     * word that it is out.  A child that died before it (EOF) leaves the
     * command unguarded, as if it had never started. */
    ssize_t got = -1;
    while (pid > 0 && (got = recv(p[1], &ready, 1, 0)) < 0 && errno == EINTR) {
        /* A signal the front-end handles: wait on. */
    }
    if (got != 1) {
        close(p[1]);
        if (pid > 0)
            waitpid(pid, NULL, 0);
        return;
    }
    g->fd = p[1];
    g->pid = pid;
}

void guard_step(struct guard *g, char step)
{
    if (g->fd >= 0 && send(g->fd, &step, 1, MSG_NOSIGNAL) != 1) {
        /* A guard that is gone cannot be told: the command goes on. */
    }
}

void guard_end(struct guard *g)
{
    if (g->fd < 0)
        return;
    guard_step(g, GUARD_DONE);
    close(g->fd);
    waitpid(g->pid, NULL, 0);
    g->fd = -1;
}
