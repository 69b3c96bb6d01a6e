/*
 * saveguard.c: the guard of a front-end's save (saveguard.h).
 */
#include "saveguard.h"

#include <string.h>
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

/* What the guard of a save knows (a copy in the guard). */
static struct {
    const struct rundom *r;
    const char *twin, *state, *after;
} save;

/* The save's finishing function (guard_fn), when its front-end died
 * after STEPS. */
static void finish(void *ctx, const char *steps)
{
    (void)ctx;
    bool ran = strchr(steps, SAVEGUARD_RAN) != NULL;
    bool sent = strchr(steps, SAVEGUARD_SENT) != NULL;
    bool written = strchr(steps, SAVEGUARD_WRITTEN) != NULL;
    if (written && !strcmp(save.after, "destroy")) {
        /* The image is whole: the save's last step, the machine's end. */
        rundom_end(save.r);
    } else if (sent && !written && ran && strcmp(save.after, "continue")) {
        /* No image: the domain, paused for it, runs again as after a
         * failed save (after=continue never paused it). */
        saveguard_cont(save.r);
    } else if (sent) {
        wait_manager(save.r);
    }
    /* The twin (renamed away once the image is whole: then nothing to
     * remove) and the state, which nobody reads any more. */
    if (!written)
        unlink(save.twin);
    unlink(save.state);
}

void saveguard_start(struct guard *g, const struct rundom *r, const char *twin, const char *state,
                     const char *after)
{
    save.r = r;
    save.twin = twin;
    save.state = state;
    save.after = after;
    guard_start(g, finish, NULL);
}

/* What the guard of a restore knows (a copy in the guard). */
static struct {
    const struct rundom *r;
    const char *kernel, *state;
} restore;

/* The restore's finishing function (guard_fn), when its front-end died
 * after STEPS: a machine started for the state but never sent it is
 * ended (its record is read again: the copy the guard has is older than
 * the machine); one the state was sent to is left to the manager, which
 * carries the restore out; the kernel and state files go either way. */
static void finish_restore(void *ctx, const char *steps)
{
    struct rundom now;
    (void)ctx;
    if (strchr(steps, SAVEGUARD_STARTED) && rundom_find(restore.r->name, &now)) {
        if (strchr(steps, SAVEGUARD_SENT))
            wait_manager(&now);
        else
            rundom_end(&now);
    }
    unlink(restore.kernel);
    if (restore.state)
        unlink(restore.state);
}

void saveguard_restore(struct guard *g, const struct rundom *r, const char *kernel,
                       const char *state)
{
    restore.r = r;
    restore.kernel = kernel;
    restore.state = state;
    guard_start(g, finish_restore, NULL);
}

/* The domain a guarded pause is about (a copy in the guard). */
static const struct rundom *paused;

/* The pause's finishing function (guard_fn): its front-end died while
 * the domain stood still for it. */
static void finish_pause(void *ctx, const char *steps)
{
    (void)ctx, (void)steps;
    saveguard_cont(paused);
}

void saveguard_pause(struct guard *g, const struct rundom *r)
{
    paused = r;
    guard_start(g, finish_pause, NULL);
}
