/*
 * The monitor's connection to the manager: the front-ends' shared client
 * (mgmt/common/ctlc.h), with the monitor's time limit, its HVMON_TRACE
 * lines and its errors as struct hmp_err.
 */
#ifndef HVKIT_MGMT_HMP_CTLCONN_H
#define HVKIT_MGMT_HMP_CTLCONN_H

#include "../common/ctlc.h"
#include "hmp.h"

/* Connect to the manager at `path`, waiting for its greeting as long as
 * the outer machine takes to boot hv.  0, or -1 with the reason in `why`. */
int ctl_connect(struct ctlc *c, const char *path, char *why, size_t len);

/* Send `execute` with `n` arguments and wait for the reply.  Returns the
 * token of the "return" value in c->doc, or -1 with `err` filled (the
 * error reply, or what went wrong with the connection). */
int ctl_call(struct ctlc *c, const char *execute, const struct ctlc_arg *args, int n,
             struct hmp_err *err);

#endif
