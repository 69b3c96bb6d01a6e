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
 *   stagesave.c  domain-save and domain-restore: the state between the
 *            front-end's file and the staging disk's save region
 *   console.c the domains' consoles: their output from bin/hvrun, kept
 *            and streamed to the front-end attached; its typed bytes to
 *            hv (x-console-write)
 *   stage_media.c  a new medium of the CD-ROM drive into the staging
 *            disk's media region, into the slot the drive is not reading
 *   stagemem.c  pmemsave and memsave: guest memory from the save region
 *            into the front-end's file
 *   stageout.c  a file written from the save region whole or not at all
 *   stage_disk.c  disks attached at run time: the image into a disk slot
 *            of the staging disk, and back over its file on detach or at
 *            its domain's end
 *   stage_commit.c  x-commit: the backing file's copy hv committed into,
 *            written back over the user's file before hv empties the disk
 *   machine.c the outer machine's process: found from COM2's peer, ended
 *            when hv does not answer a quit
 *   main.c   options, the listening sockets, the loop
 */
#ifndef MGMT_HVMGR_H
#define MGMT_HVMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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
    /* The domain whose console this front-end is attached to (its bytes
     * are the console's, no longer JSON lines), or -1. */
    int console;
};

/* conn.c */
struct conn *conn_new(int fd);
void conn_free(struct conn *c);
/* Queue `len` bytes and a newline for writing; a peer whose backlog grows
 * beyond what a slow reader could excuse (1 MiB) is dropped. */
void conn_send_line(struct conn *c, const char *s, size_t len);
/* Queue `len` bytes as they are (an attached console's output). */
void conn_send(struct conn *c, const char *s, size_t len);
/* Write what is queued, as much as the peer takes now. */
void conn_flush(struct conn *c);
/* Read what has arrived and call `line` for each complete line (without
 * its newline or a '\r' before it), or `overlong` once for a line over
 * CTL_LINE_MAX; once the connection is attached to a console, its bytes
 * go to console_input() instead, as far as console_room() allows.  Sets
 * c->dead at the end of the stream. */
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
/* A front-end's quit hv has not answered within `limit_ms` (with hv or
 * queued): 0 when one is due, else the milliseconds until the first is,
 * or -1 when none waits.  Once the manager has ended the machine for
 * them, relay_quit_answered(NULL) gives each its {"return": {}}; with
 * `why`, when it could not, that error. */
long relay_quit_due(long now_ms, long limit_ms);
void relay_quit_answered(const char *why);
/* The manager's own reply to request `line` (its id copied): an error of
 * class `cls` with `desc`, or, with cls NULL, {"return": {}}. */
void relay_reply(struct conn *c, const char *line, size_t len, const char *cls, const char *desc);
/* Queue a request of the manager's own among the front-ends': `done`
 * gets hv's reply line, or NULL when hv has gone.  0, or -1 (no memory). */
int relay_internal(const char *line, size_t len, void (*done)(void *ctx, const char *s, size_t len),
                   void *ctx);

/* stage.c: --staging FILE:DISK:BYTES (0, or -1 when malformed); and,
 * just before a request goes to hv, a domain-create naming a kernel path
 * gets the kernel copied to the staging disk and its place added to the
 * request (*line replaced), and a domain-save or domain-restore naming a
 * file gets stagesave.c's treatment (*watch set: stage_reply() must see
 * hv's reply).  0 to send the line, -1 with the reason in why to refuse it
 * instead. */
int stage_option(const char *arg);
int stage_request(char **line, size_t *len, bool *watch, char *why, size_t why_len);
/* Copy `len` bytes from fd `in` at `in_off` to fd `out` at `out_off`:
 * 0, or -1 with errno. */
int stage_copy_range(int in, off_t in_off, int out, off_t out_off, unsigned long long len);
/* The host file `path` (a regular file of 1 to `max` bytes; `what` names
 * it in messages: "kernel", "file") into the staging disk at byte `at`;
 * its length in *len.  0, or -1 with the reason in why. */
int stage_copy_in(const char *what, const char *path, off_t at, unsigned long long max,
                  unsigned long long *len, char *why, size_t why_len);
/* The staging disk's host file and outer disk number, or NULL: none; and
 * its length in bytes (0: none). */
const char *stage_disk(unsigned *disk);
unsigned long long stage_bytes(void);
/* A string member `key` of object `obj` into buf ("" when absent or not
 * a string that fits). */
struct json_doc;
void stage_str_arg(const struct json_doc *doc, int obj, const char *key, char *buf, size_t size);
/* A member stage_rewrite() adds: a string, or (str NULL) an integer. */
struct stage_arg {
    const char *key;
    const char *str;
    unsigned long long num;
};
/* The request `doc` again as command `execute`, its arguments but those
 * named in `drop` (NULL-ended) and those `add` replaces, then `add`'s
 * (ended by a NULL key), its id kept: into *line (replaced).  0 or -1. */
struct json_doc;
int stage_rewrite(const struct json_doc *doc, int args, const char *execute,
                  const char *const *drop, const struct stage_arg *add, char **line,
                  size_t *line_len);

/* stagesave.c: what the manager does once hv has answered a watched
 * request: tell the front-end `why` instead of hv's reply (failed), and
 * have hv carry out `follow` first (NULL: nothing), the front-end's reply
 * held until hv has answered it. */
struct stage_after {
    bool failed;
    char why[4200];
    char *follow;
    size_t follow_len;
    /* The front-end gets hv's reply to `follow` (which carries its id)
     * instead of the one to its own request. */
    bool follow_answers;
};
int stage_save_request(const struct json_doc *doc, int ex, int args, char **line, size_t *len,
                       bool *watch, char *why, size_t why_len);
void stage_save_reply(const char *reply, size_t len, struct stage_after *after);
/* stagemem.c: the same for pmemsave and memsave ("filename"). */
int stage_mem_request(const struct json_doc *doc, int ex, int args, char **line, size_t *len,
                      bool *watch, char *why, size_t why_len);
void stage_mem_reply(const char *reply, size_t len, struct stage_after *after);
/* stage.c: hv's reply to a watched request, to the one of the two above
 * that watches it (`after` cleared first). */
void stage_reply(const char *reply, size_t len, struct stage_after *after);
/* stage.c: the front-end of the watched request in flight was told it
 * timed out: a pmemsave's or memsave's file is then not written when hv's
 * late reply comes (stage_mem_timed_out).  A domain-save's is, as before:
 * its domain's fate hangs on it. */
void stage_timed_out(void);
void stage_mem_timed_out(void);
/* hv ended before it answered a watched request: the save's temporary
 * file goes. */
void stage_save_abort(void);
/* stage_commit.c: --commit-copy DISK:COPY:FILE, a backing file's copy that
 * hv may commit into and the user's file it belongs to (0, or -1 when
 * malformed); an x-commit from a front-end (watched: 0 to send, -1 with
 * the reason to refuse); hv's reply to it (the copy written back over the
 * user's file, and hv's second half to follow); hv gone before it
 * answered. */
int commit_option(const char *arg);
int stage_commit_request(const struct json_doc *doc, int args, const char *line, size_t len,
                         bool *watch, char *why, size_t why_len);
void stage_commit_reply(const char *reply, size_t len, struct stage_after *after);
void stage_commit_abort(void);

/* console.c: --console FIFO (0, or -1 after a message); its descriptor
 * (-1 when there is none or it has ended), read what it has; output bytes
 * routed to the domains (for the tests: what console_read() does with
 * what it reads). */
int console_option(const char *path);
int console_fd(void);
bool console_ended(void);
void console_read(void);
void console_output(const char *buf, size_t len);
/* A front-end's request line: true when it was x-console-attach, which
 * the manager has answered itself. */
bool console_request(struct conn *c, const char *s, size_t len);
void console_client_gone(struct conn *c);
/* How many typed bytes an attached front-end may send now; take them. */
size_t console_room(const struct conn *c);
void console_input(struct conn *c, const char *buf, size_t len);
/* hv's event `event` (CTL_EV_*) about domain `d`: its end lets its
 * front-end go (a moment later), a new domain there starts a new console. */
void console_event(const char *event, unsigned d);
/* Offer queued typed bytes to hv, let go the front-ends of domains that
 * ended; the milliseconds until the next such thing is due, or -1. */
long console_pump(long now_ms);

/* stage_media.c: just before a request goes to hv, a
 * blockdev-change-medium naming a host file gets the file copied into the
 * staging disk's media region (the slot the drive is not reading) and its
 * place added (*line replaced); 0 to send, -1 with the reason to refuse.
 * media_reply() sees hv's reply to the request in flight: a change hv
 * carried out makes its slot the one in use. */
int media_request(char **line, size_t *len, char *why, size_t why_len);
void media_reply(const char *reply, size_t len);
/* stage_disk.c: x-blockdev-attach naming a host file gets the image
 * copied into a free disk slot and its place added (*line replaced; 0 to
 * send, -1 with the reason to refuse); x-blockdev-detach is noted.
 * disk_reply() sees hv's reply to the request in flight: a refused
 * attach frees its slot, a detach writes the image back over its file
 * (-1 with the reason when that failed: the front-end gets it instead of
 * hv's reply).  disk_event(): a domain's end writes its disks back, a new
 * domain of its number frees them.  disk_end(): hv has ended, or the
 * manager is stopped: every disk back into its file. */
int disk_request(char **line, size_t *len, char *why, size_t why_len);
int disk_reply(const char *reply, size_t len, char *why, size_t why_len);
void disk_event(const char *event, unsigned domain);
void disk_end(void);

/* stageout.c: the front-end's file `path`, written whole or not at all
 * from the save region.  open: the temporary file beside it (0, or -1
 * with errno: 0 for an existing file that is not a regular one, EISDIR
 * for a directory); commit: the region's first `size` bytes into it,
 * synced (file and directory) when `sync`, and renamed over `path` (0, or
 * -1 with errno, the temporary file gone); drop: the temporary file gone. */
struct stage_out {
    char path[4096];
    char tmp[4200];
    int fd;
};
int stage_out_open(struct stage_out *o, const char *path);
int stage_out_commit(struct stage_out *o, unsigned long long size, bool sync);
/* commit's last step for a temporary file its caller filled: synced when
 * `sync`, renamed over `path` (0, or -1 with errno, the file gone). */
int stage_out_close(struct stage_out *o, bool sync);
void stage_out_drop(struct stage_out *o);

/* machine.c: the outer machine's process, found from COM2's connection
 * `fd` once it is accepted (0 while unknown); --ended FILE, written when
 * the manager ends the machine; ending it (SIGINT, SIGTERM and SIGCONT,
 * `why` on stderr and in the file; false when its process is unknown) and
 * the SIGKILL that follows if it lingers (machine_pump: the milliseconds
 * until that is due, or -1). */
void machine_found(int fd);
pid_t machine_pid(void);
void machine_note_option(const char *path);
bool machine_end(long now_ms, const char *why);
long machine_pump(long now_ms);

/* main.c: the connections relay.c writes to. */
extern struct conn *clients[CTL_CLIENTS_MAX];

#endif
