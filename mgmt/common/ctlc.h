/*
 * ctlc: one front-end connection to a manager of hvkit's control protocol
 * (docs/control-protocol.md), shared by the front-ends (xl, virsh):
 * connect, check the greeting, send a request, wait for its reply (events
 * that arrive meanwhile are skipped).
 */
#ifndef HVKIT_MGMT_COMMON_CTLC_H
#define HVKIT_MGMT_COMMON_CTLC_H

#include <stdbool.h>
#include <stddef.h>

#include <json.h>

#include "hvkit/ctl.h"

struct ctlc {
    int fd;
    size_t len;
    char in[CTL_LINE_MAX + 1];
    char line[CTL_LINE_MAX + 1]; /* the last reply, which `doc` points into */
    struct json_tok tok[4096];
    struct json_doc doc;
    long next_id;
};

/* Connect to the manager at `path` and read its greeting, waiting at most
 * `ms` milliseconds.  -1 with the reason in `why`. */
int ctlc_open(struct ctlc *c, const char *path, int ms, char *why, size_t whylen);

/* Run `execute` with `args` (a JSON object's text, or NULL) and wait at
 * most `ms` for the reply: 0 when it is a "return" (its token is in
 * *ret), 1 when it is an "error" (its "desc" in `why`), -1 when there was
 * no reply (the reason in `why`). */
int ctlc_call(struct ctlc *c, const char *execute, const char *args, int ms, int *ret, char *why,
              size_t whylen);

void ctlc_close(struct ctlc *c);

#endif
