/*
 * A front-end's connection to the manager's Unix socket, speaking hvkit's
 * control protocol (docs/control-protocol.md): read the greeting, send a
 * request, wait for its reply (skipping events), hand back the reply's
 * "return" value or its error.
 */
#ifndef HVKIT_MGMT_HMP_CTLCONN_H
#define HVKIT_MGMT_HMP_CTLCONN_H

#include <stdbool.h>
#include <stdint.h>

#include "hvkit/ctl.h"
#include "json.h"

#include "hmp.h"

/* The most tokens a reply may have: x-query-registers is the largest, at
 * about 90; query-domains grows by 11 per domain. */
#define CTL_CONN_TOKENS 1024

struct ctl_conn {
    int fd;
    uint64_t next_id;
    /* Bytes received and not yet used: at most one line plus the start of
     * the next. */
    char in[CTL_LINE_MAX];
    size_t in_len;
    /* The last reply, and its tokens. */
    char line[CTL_LINE_MAX];
    struct json_tok tok[CTL_CONN_TOKENS];
    struct json_doc doc;
    /* From the greeting: how many domains hv runs. */
    int domains;
};

/* One argument of a request. */
struct ctl_arg {
    const char *key;
    enum { CTL_U64, CTL_BOOL, CTL_STR } type;
    uint64_t u;
    const char *s;
};

/* Connect to the manager at `path` and read its greeting (checking the
 * protocol number).  0, or -1 with the reason in `why`. */
int ctl_connect(struct ctl_conn *c, const char *path, char *why, size_t len);

/* Send `execute` with `n` arguments and wait for the reply.  Returns the
 * token of the "return" value in c->doc, or -1 with `err` filled (the
 * error reply, or what went wrong with the connection). */
int ctl_call(struct ctl_conn *c, const char *execute, const struct ctl_arg *args, int n,
             struct hmp_err *err);

void ctl_close(struct ctl_conn *c);

#endif
