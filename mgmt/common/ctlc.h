/*
 * ctlc: one front-end connection to a manager of hvkit's control protocol
 * (docs/control-protocol.md), shared by every front-end (xl, virsh, the
 * QEMU monitor hvmon, hvctl): connect, check the greeting, send a
 * request, wait for its reply (events that arrive meanwhile are skipped).
 *
 * Three levels, each built on the one below:
 *   ctlc_call   arguments as a JSON object's text, the error's words
 *   ctlc_callv  arguments as a list, the error's class and words
 *   ctlc_send, ctlc_read   one line out, one line in, for a front-end
 *               that writes its own requests (hvctl sends lines as given)
 */
#ifndef HVKIT_MGMT_COMMON_CTLC_H
#define HVKIT_MGMT_COMMON_CTLC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json.h>

#include "hvkit/ctl.h"

/* The longest socket path a connection takes: sun_path's size on Linux
 * (unix(7)), less its terminating zero. */
#define CTLC_PATH_MAX 107

struct ctlc {
    int fd;
    /* The manager's socket, which ctlc_reopen connects to again. */
    char path[CTLC_PATH_MAX + 1];
    size_t len;
    char in[CTL_LINE_MAX + 1];
    char line[CTL_LINE_MAX + 1]; /* the last line read, which `doc` points into */
    struct json_tok tok[4096];
    struct json_doc doc;
    long next_id;
    /* From the greeting: how many domains hv runs (1 when it does not say). */
    int domains;
    /* NULL, or (ctlc_open_traced) called with each line sent ("-> ") and
     * received ("<- "), without its newline. */
    void (*trace)(const char *dir, const char *line, size_t len);
};

/* Connect to the manager at `path` and read its greeting, waiting at most
 * `ms` milliseconds (ms < 0: as long as it takes -- the manager greets
 * only once hv has, which takes as long as the outer machine takes to
 * boot).  -1 with the reason in `why`. */
int ctlc_open(struct ctlc *c, const char *path, int ms, char *why, size_t whylen);
/* A second connection `to` to the manager `from` is connected to (or
 * was), for a request that must not wait behind `from`'s unanswered one:
 * the guard of a front-end that died mid-request (guard.h) sends on a
 * connection of its own.  Its greeting is waited for `ms` milliseconds;
 * -1 with the reason in `why`. */
int ctlc_reopen(struct ctlc *to, const struct ctlc *from, int ms, char *why, size_t whylen);
/* The same with c->trace set from the start, so the greeting is traced
 * too. */
int ctlc_open_traced(struct ctlc *c, const char *path, int ms,
                     void (*trace)(const char *dir, const char *line, size_t len), char *why,
                     size_t whylen);

/* Run `execute` with `args` (a JSON object's text, or NULL) and wait at
 * most `ms` for the reply: 0 when it is a "return" (its token is in
 * *ret), 1 when it is an "error" (its "desc" in `why`), -1 when there was
 * no reply (the reason in `why`). */
int ctlc_call(struct ctlc *c, const char *execute, const char *args, int ms, int *ret, char *why,
              size_t whylen);

/* An error: the reply's class and words, or what went wrong with the
 * connection (class GenericError). */
struct ctlc_err {
    char cls[32];
    char desc[256];
};

/* One argument of a request in list form. */
struct ctlc_arg {
    const char *key;
    enum { CTLC_U64, CTLC_BOOL, CTLC_STR } type;
    uint64_t u; /* CTLC_U64, CTLC_BOOL (non-zero: true) */
    const char *s;
};

/* ctlc_call with the `n` arguments as a list, and the error's class:
 * returns the same (0, 1, -1), with `err` filled for 1 and -1. */
int ctlc_callv(struct ctlc *c, const char *execute, const struct ctlc_arg *args, int n, int ms,
               int *ret, struct ctlc_err *err);

/*
 * The arguments object of a request that puts the image `filename` (an
 * absolute path; format `format`) into drive `device` of domain 0:
 * x-blockdev-attach with its `read-only` (read_only 0 or 1), or
 * blockdev-change-medium (read_only < 0: not sent).  JSON text in buf;
 * false when it does not fit in `size` bytes.
 */
bool ctlc_image_args(char *buf, size_t size, const char *device, const char *filename,
                     const char *format, int read_only);

/* Send `len` bytes as they are, and a newline after them when `newline`.
 * 0, or -1 with the reason in `why`. */
int ctlc_send(struct ctlc *c, const char *s, size_t len, bool newline, char *why, size_t whylen);

/* The next line from the manager into c->line (without its newline or a
 * '\r' before it) and parsed into c->doc, waiting at most `ms` (< 0: as
 * long as it takes).  0, or -1 with the reason in `why`: the time limit,
 * the end of the connection, a line that is not a JSON object. */
int ctlc_read(struct ctlc *c, int ms, char *why, size_t whylen);

void ctlc_close(struct ctlc *c);

/* What the manager says of hv (x-hv-status, docs/control-protocol.md
 * "When hv does not answer"): whether hv is there and answers, how long
 * the request it has now has waited, the manager's reply time limit; the
 * token of the domains as hv last described them (its last query-domains
 * reply, [] when none) in c->doc, and how old that is (-1: never). */
struct ctlc_hv {
    bool connected, answering;
    uint64_t waiting_ms, limit_ms;
    int domains;
    long domains_age_ms;
};
/* 0, or -1 with the reason in `why` (a manager that does not answer, or
 * one from before x-hv-status). */
int ctlc_hv_status(struct ctlc *c, struct ctlc_hv *h, char *why, size_t whylen);
/* The words for an hv that does not answer, from what the manager said. */
void ctlc_no_answer(const struct ctlc_hv *h, char *why, size_t whylen);

/* ctlc_call for a front-end that must not wait on an hv that does not
 * answer, nor take "no reply" for an answer: asks x-hv-status first, and
 * again when the call gets no reply (the manager's Timeout, or none
 * within `ms`); returns -2 with ctlc_no_answer()'s words in `why` when hv
 * does not answer, else ctlc_call()'s 0, 1 or -1. */
int ctlc_call_hv(struct ctlc *c, const char *execute, const char *args, int ms, int *ret, char *why,
                 size_t whylen);
/* After a call that waited `ms` and returned `rc`: when it got no reply
 * from hv (none in time, or the manager's Timeout), -2 with
 * ctlc_no_answer()'s words in `why` (what the manager says of hv), else
 * rc. */
int ctlc_explain(struct ctlc *c, int rc, int ms, char *why, size_t whylen);

/* query-domains for a listing, which must not wait long on an hv that does
 * not answer: asked of hv, waiting at most `ms`, unless the manager knows
 * hv does not answer; then, or when hv does not answer in time, the
 * domains as hv last described them (x-hv-status), *stale set and the
 * words in `why`.  The array's token in c->doc (it may be empty when
 * stale), or -1 with `why` (no answer and nothing known). */
int ctlc_domains(struct ctlc *c, int ms, bool *stale, char *why, size_t whylen);

#endif
