/*
 * The monitor's connection (ctlconn.h) over mgmt/common/ctlc.c.  Replies
 * are awaited with a time limit, so a monitor never hangs on a machine
 * that stopped answering.
 */
#include "ctlconn.h"

#include <stdio.h>
#include <stdlib.h>

/* How long a reply may take: a stopped or busy guest still answers within
 * milliseconds; a guest that never exits delays hv until its time slice;
 * a savevm writes the guest's RAM through the outer machine's disk. */
#define REPLY_TIMEOUT_MS 30000

/* With HVMON_TRACE set in the environment, every line sent and received
 * goes to stderr too ("-> " and "<- "): the protocol behind each monitor
 * command, for students and for a test that wants to know why. */
static void trace(const char *dir, const char *line, size_t len)
{
    fprintf(stderr, "%s%.*s\n", dir, (int)len, line);
}

int ctl_connect(struct ctlc *c, const char *path, char *why, size_t len)
{
    return ctlc_open_traced(c, path, -1, getenv("HVMON_TRACE") ? trace : NULL, why, len);
}

int ctl_call(struct ctlc *c, const char *execute, const struct ctlc_arg *args, int n,
             struct hmp_err *err)
{
    struct ctlc_err e;
    int ret;
    int rc = ctlc_callv(c, execute, args, n, REPLY_TIMEOUT_MS, &ret, &e);
    if (rc == 0)
        return ret;
    /* No reply: the manager's words on hv (it may not answer at all). */
    if (ctlc_explain(c, rc, REPLY_TIMEOUT_MS, e.desc, sizeof(e.desc)) == -2)
        snprintf(e.cls, sizeof(e.cls), "%s", CTL_ERR_TIMEOUT);
    snprintf(err->cls, sizeof(err->cls), "%s", e.cls);
    snprintf(err->desc, sizeof(err->desc), "%s", e.desc);
    return -1;
}
