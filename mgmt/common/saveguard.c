/*
 * saveguard.c: the guard of a front-end's save (saveguard.h).
 */
#include "saveguard.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/hvkit/ctl.h"

bool saveguard_running(const struct rundom *r)
{
    static struct ctlc c;
    char why[256];
    int ret;
    bool running = false;
    if (rundom_connect(r, &c, 10000, why, sizeof(why)) < 0)
        return false;
    if (ctlc_call(&c, CTL_CMD_QUERY_STATUS, NULL, 30000, &ret, why, sizeof(why)) == 0) {
        int st = json_get(&c.doc, ret, "status");
        running = st >= 0 && json_str_eq(&c.doc, st, CTL_RUNSTATE_RUNNING);
    }
    ctlc_close(&c);
    return running;
}

void saveguard_cont(const struct rundom *r)
{
    static struct ctlc c;
    char why[256];
    int ret;
    if (rundom_connect(r, &c, 10000, why, sizeof(why)) == 0) {
        ctlc_call(&c, CTL_CMD_CONT, NULL, 30000, &ret, why, sizeof(why));
        ctlc_close(&c);
    }
}

/* Wait until the manager has answered everything sent before: it hands
 * hv one request at a time, in order, so the answer to this query-status
 * comes after the dead front-end's domain-save is done (the state file
 * written, or refused). */
static void wait_manager(const struct rundom *r)
{
    (void)saveguard_running(r);
}

/* The guard's work: read the steps until the socket ends; act only when it
 * ends without SAVEGUARD_DONE. */
static void guard(int in, const struct rundom *r, const char *twin, const char *state,
                  const char *after)
{
    char c, step = 0;
    bool ran = false;
    while (read(in, &c, 1) == 1) {
        if (c == SAVEGUARD_RAN)
            ran = true;
        else
            step = c;
    }
    if (step == SAVEGUARD_DONE)
        return;
    if (step == SAVEGUARD_WRITTEN && !strcmp(after, "destroy")) {
        /* The image is whole: the save's last step, the machine's end. */
        rundom_end(r);
    } else if (step == SAVEGUARD_SENT && ran && strcmp(after, "continue")) {
        /* No image: the domain, paused for it, runs again as after a
         * failed save (after=continue never paused it). */
        saveguard_cont(r);
    } else if (step == SAVEGUARD_SENT) {
        wait_manager(r);
    }
    /* The twin (renamed away once the image is whole: then nothing to
     * remove) and the state, which nobody reads any more. */
    if (step != SAVEGUARD_WRITTEN)
        unlink(twin);
    unlink(state);
}

void saveguard_start(struct saveguard *g, const struct rundom *r, const char *twin,
                     const char *state, const char *after)
{
    int p[2];
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
        guard(p[0], r, twin, state, after);
        _exit(0);
    }
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        return;
    }
    g->fd = p[1];
    g->pid = pid;
}

void saveguard_step(struct saveguard *g, char step)
{
    if (g->fd >= 0 && send(g->fd, &step, 1, MSG_NOSIGNAL) != 1) {
        /* A guard that is gone cannot be told: the save goes on without. */
    }
}

void saveguard_end(struct saveguard *g)
{
    if (g->fd < 0)
        return;
    saveguard_step(g, SAVEGUARD_DONE);
    close(g->fd);
    waitpid(g->pid, NULL, 0);
    g->fd = -1;
}
