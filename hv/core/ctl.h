/*
 * ctl.h - hv's side of the control protocol (include/hvkit/ctl.h,
 * docs/control-protocol.md): the dispatcher that turns one request line
 * into one reply line, the table of commands it dispatches to, the events
 * that report domain state changes, and the channel that carries them on
 * the outer machine's COM2.
 *
 *   com2.c         the channel: bytes from COM2 into lines, the greeting,
 *                  replies and events back, polled by the run loop
 *   ctl.c          one line -> one reply: JSON, "execute", "id", the
 *                  arguments checked against the command's row, errors
 *   ctl_cmds.c     the table, and the lifecycle and query commands
 *   ctl_inspect.c  x-query-registers and x-read-memory
 *   ctl_event.c    STOP, RESUME, SHUTDOWN, RESET, CRASHED, CREATED from state
 *                  changes
 *   ctl_snap.c     x-savevm, x-loadvm, x-delvm, query-snapshots
 *   ctl_dev.c      balloon, query-balloon, x-commit, eject,
 *                  blockdev-change-medium
 *   ctl_domain.c   query-host, domain-create and domain-destroy
 *   ctl_mem.c      pmemsave and memsave: guest memory into the staging disk
 *
 * Everything but com2.c is plain code over struct host, compiled hosted
 * too (tests/unit/test_hv_ctl.c).
 *
 * Adding a command: write a handler (below: how it reads its arguments and
 * writes its reply) and add a row to ctl_commands[] in ctl_cmds.c with the
 * command's name, the arguments it takes and the handler.  Nothing else
 * changes.
 */
#ifndef HV_CORE_CTL_H
#define HV_CORE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json.h>

#include "hvkit/ctl.h"

struct host;
struct domain;
struct vcpu;

/* What follows a reply, set by the command (the channel does it). */
struct ctl_after {
    /* `quit`: hv ends once every domain has been destroyed. */
    bool quit;
    /* An event to announce after the reply (NULL: none), for a command
     * whose effect is no state change (system_powerdown's POWERDOWN). */
    const char *event;
    struct domain *event_dom;
};

/* One request being carried out: what a handler reads and writes. */
struct ctl_req {
    struct host *host;
    /* The request and the token of its "arguments" object (-1: none). */
    const struct json_doc *doc;
    int args;
    /* The command's reply value goes here, written with json.h's writer:
     * the dispatcher has already written `{"return": ` before it. */
    struct json_out *out;
    /* An error the handler raised with ctl_error(): its class and words. */
    const char *err_class;
    char err[256];
    /* What the channel does once the reply has gone. */
    struct ctl_after *after;
};

/* A command: return 0 with the reply value written to r->out, or the
 * result of ctl_error(). */
typedef int (*ctl_handler)(struct ctl_req *r);

/* One row of the command table. */
struct ctl_cmd {
    const char *name;
    /* The arguments it takes, NULL-terminated (NULL itself: none); any
     * other argument is refused before the handler runs. */
    const char *const *args;
    ctl_handler fn;
};

/* The table (ctl_cmds.c), ended by a row with name NULL. */
extern const struct ctl_cmd ctl_commands[];
/* The snapshot commands' rows (ctl_snap.c), the same way.  Weak: the
 * hosted builds of the dispatcher (its unit test, its fuzzer) leave hv's
 * snapshot code out, and there the table is absent (NULL) and the
 * commands unknown. */
extern const struct ctl_cmd ctl_snapshot_commands[] __attribute__((weak));
/* The device commands' rows (ctl_dev.c: the balloon, commit, the CD's
 * medium), weak for the
 * same reason. */
extern const struct ctl_cmd ctl_device_commands[] __attribute__((weak));
/* x-blockdev-attach and x-blockdev-detach (ctl_hot.c), rows of
 * ctl_device_commands. */
int ctl_blockdev_attach(struct ctl_req *r);
int ctl_blockdev_detach(struct ctl_req *r);
/* The commands that make and destroy domains (ctl_domain.c), weak for the
 * same reason: they need hv's outer disks and its domain builder. */
extern const struct ctl_cmd ctl_domain_commands[] __attribute__((weak));
/* The console commands (ctl_console.c: input for a domain's COM1), weak
 * for the same reason. */
extern const struct ctl_cmd ctl_console_commands[] __attribute__((weak));
/* pmemsave and memsave (ctl_mem.c), weak for the same reason: they write
 * to hv's outer disks. */
extern const struct ctl_cmd ctl_memory_commands[] __attribute__((weak));

/* Carry out one request line (`len` bytes, no newline) against host `h`
 * and write the reply line (no newline) into buf.  Returns the reply's
 * length; *after says what the channel does once it has sent it. */
size_t ctl_handle(struct host *h, const char *line, size_t len, char *buf, size_t size,
                  struct ctl_after *after);

/* ---- For handlers --------------------------------------------------------- */

/* Raise an error of `cls` (CTL_ERR_*) with a printf-style message; returns
 * -1 for the handler to return. */
int ctl_error(struct ctl_req *r, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The domain named by the "domain" argument (default 0): 0, or a
 * DeviceNotFound / InvalidParameter error. */
int ctl_arg_domain(struct ctl_req *r, struct domain **d);
/* The vCPU named by "domain" and "cpu" (default 0), of a domain that still
 * has its vCPUs (not torn down): 0, or an error. */
int ctl_arg_vcpu(struct ctl_req *r, struct vcpu **v);
/* An integer argument `name`: absent gives `def` (or, when `required`, an
 * InvalidParameter error); present, it must be a non-negative integer. */
int ctl_arg_u64(struct ctl_req *r, const char *name, bool required, uint64_t def, uint64_t *v);
/* A string argument `name`, required, not empty, at most size - 1 bytes,
 * into buf. */
int ctl_arg_str(struct ctl_req *r, const char *name, char *buf, size_t size);
/* A boolean argument `name`, `def` when absent. */
int ctl_arg_bool(struct ctl_req *r, const char *name, bool def, bool *v);

/* ---- Events (ctl_event.c) --------------------------------------------------- */

/* What the channel last reported of each domain, to tell changes. */
#define CTL_EVENT_DOMAINS 16
struct ctl_seen {
    bool valid;
    unsigned id;
    /* The domain's serial (domain.h): a new domain with a number seen
     * before has another. */
    unsigned serial;
    int state;
    unsigned restarts;
};
struct ctl_events {
    struct ctl_seen seen[CTL_EVENT_DOMAINS];
    /* The first poll has remembered the domains of the boot: a domain
     * first seen after it was made at run time (CREATED). */
    bool primed;
    /* Set by `quit`, for the reason of the SHUTDOWN events that follow. */
    bool quitting;
};

/* Where an event line goes (com2.c: COM2). */
typedef void (*ctl_emit_fn)(void *ctx, const char *line, size_t len);

/* Compare every domain of `h` with what `ev` last saw and emit one event
 * line for each change (CREATED for a domain not seen before); remember
 * the new states.  The first call only remembers. */
void ctl_events_poll(struct ctl_events *ev, struct host *h, ctl_emit_fn emit, void *ctx);

/* Emit one event `name` for domain `d` now (POWERDOWN: a press is no state
 * change, so the command reports it itself). */
void ctl_event_emit(const char *name, const struct domain *d, ctl_emit_fn emit, void *ctx);

/* ---- The channel (com2.c) --------------------------------------------------- */

/* With hv's `ctl` option: find COM2, send the greeting and hook the poll
 * into the run loop (h->poll).  Logs and does nothing when there is no
 * COM2. */
void com2_ctl_init(struct host *h);

#endif
