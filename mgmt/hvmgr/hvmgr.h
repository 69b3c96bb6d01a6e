/*
 * hvmgr.h - the host-side manager of a running hv (docs/control-protocol.md).
 *
 * bin/hvrun starts it with --control PATH before the outer machine; it
 * holds the other end of the outer machine's COM2 (hv's control channel)
 * and serves any number of front-ends (bin/hvctl, the QEMU monitor...) on
 * the Unix socket PATH.  One process, one poll() loop, no threads:
 *
 *   conn.c   a connection: its descriptor, the line being read, the bytes
 *            waiting to be written (nothing ever blocks the loop)
 *   relay.c  the protocol's routing: hv's greeting, the queue of requests
 *            (one at a time to hv), each reply to the front-end that asked,
 *            events to every front-end
 *   stage.c  domain-create's kernel: from its host path to the staging
 *            disk, and the request told where it lies
 *   main.c   options, the listening sockets, the loop
 */
#ifndef MGMT_HVMGR_H
#define MGMT_HVMGR_H

#include <stdbool.h>
#include <stddef.h>

#include "hvkit/ctl.h"

/* A byte stream with line framing in and buffered output. */
struct conn {
    int fd;
    /* The line being read; too_long while a line over the limit is being
     * skipped up to its newline. */
    char *in;
    size_t in_len;
    bool too_long;
    /* Bytes not yet written. */
    char *out;
    size_t out_len, out_cap;
    /* The peer has gone (read end or write error): to be closed. */
    bool dead;
    /* A front-end: it has had the greeting. */
    bool greeted;
};

/* conn.c */
struct conn *conn_new(int fd);
void conn_free(struct conn *c);
/* Queue `len` bytes and a newline for writing; a peer whose backlog grows
 * beyond what a slow reader could excuse (1 MiB) is dropped. */
void conn_send_line(struct conn *c, const char *s, size_t len);
/* Write what is queued, as much as the peer takes now. */
void conn_flush(struct conn *c);
/* Read what has arrived and call `line` for each complete line (without
 * its newline or a '\r' before it), or `overlong` once for a line over
 * CTL_LINE_MAX.  Sets c->dead at the end of the stream. */
void conn_read(struct conn *c, void (*line)(struct conn *c, const char *s, size_t len),
               void (*overlong)(struct conn *c));

/* relay.c */
void relay_client_added(struct conn *c);
void relay_client_gone(struct conn *c);
void relay_client_line(struct conn *c, const char *s, size_t len);
void relay_client_overlong(struct conn *c);
void relay_hv_line(struct conn *hv, const char *s, size_t len);
void relay_hv_overlong(struct conn *hv);
/* hv's end of COM2 has gone: every front-end waiting gets an error. */
void relay_hv_gone(void);
/* Send the next queued request if none is in flight and hv is there. */
void relay_pump(struct conn *hv);
/* Does any front-end still wait for a reply? */
bool relay_busy(void);
/* The reply time limit: answer a Timeout error to every front-end whose
 * request has waited `limit_ms` (with hv or in the queue) at `now_ms`
 * (relay_now_ms()'s clock); the milliseconds until the next limit, or -1. */
long relay_expire(long now_ms, long limit_ms);
long relay_now_ms(void);

/* stage.c: --staging FILE:DISK:BYTES (0, or -1 when malformed); and,
 * just before a request goes to hv, a domain-create naming a kernel path
 * gets the kernel copied to the staging disk and its place added to the
 * request (*line replaced).  0 to send the line, -1 with the reason in why
 * to refuse it instead. */
int stage_option(const char *arg);
int stage_request(char **line, size_t *len, char *why, size_t why_len);

/* main.c: the connections relay.c writes to. */
extern struct conn *clients[CTL_CLIENTS_MAX];

#endif
