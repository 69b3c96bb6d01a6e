/*
 * relay.c - the manager's routing between front-ends and hv
 * (docs/control-protocol.md "Several front-ends, and a front-end that
 * dies").
 *
 * hv carries out one request at a time and answers in order, on one
 * serial line.  So the manager keeps the front-ends' complete request
 * lines in one queue, in the order they were complete, sends the first to
 * hv only when the previous one has been answered, and gives the reply to
 * the front-end it remembered for it.  The request line goes to hv exactly
 * as the front-end wrote it (hv judges it, with the same JSON code), and
 * the reply comes back exactly as hv wrote it; only events get the host's
 * timestamp added, as QMP's have one and hv has no wall clock.
 *
 * A front-end that goes away leaves its complete requests to be carried
 * out whole, queued or already with hv, and their replies are dropped; a
 * line it did not finish was never a request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <json.h>

#include "hvmgr.h"

/* One request waiting for its turn, and when it came (relay_expire).
 * `watch`: stagesave.c sees hv's reply first (stage_reply).  `held`: a
 * request of the manager's own that finishes a front-end's (the destroy
 * after a save): the front-end gets `held` once hv has answered it. */
struct request {
    struct conn *client;
    char *line;
    size_t len;
    struct request *next;
    long since_ms;
    bool watch;
    char *held;
    size_t held_len;
    /* A request of the manager's own (console.c): who takes the reply. */
    void (*done)(void *ctx, const char *s, size_t len);
    void *ctx;
    /* A front-end's quit: the manager ends the machine itself if hv has
     * not answered it in time (relay_quit_due). */
    bool quit;
};

static struct {
    /* hv's greeting, once it has come (the front-ends get it too). */
    char *greeting;
    size_t greeting_len;
    /* hv's end of COM2 has closed. */
    bool hv_gone;
    /* The queue, and the request hv is carrying out (its front-end NULL
     * once that has gone). */
    struct request *head, *tail;
    bool in_flight;
    struct conn *in_flight_client;
    /* That request's line, for its id in an error should hv not answer. */
    struct request *in_flight_req;
    /* When hv was given it. */
    long in_flight_ms;
    /* The reply time limit relay_expire() was last given, and whether the
     * request in flight has outlived it (hv "does not answer"). */
    long limit_ms;
    bool overdue;
    /* hv's last reply to a query-domains (the whole line) and when it
     * came: the domains' last known state, for x-hv-status. */
    char *domains;
    size_t domains_len;
    long domains_ms;
} relay;

/* The monotonic clock in milliseconds, for the reply time limit. */
long relay_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Is `line` a request to carry out command `name`? */
static bool request_is(const char *line, size_t len, const char *name)
{
    static struct json_tok tok[256];
    struct json_doc doc;
    char err[8];
    return json_parse(&doc, line, len, tok, 256, CTL_DEPTH_MAX, err, sizeof(err)) == 0 &&
           doc.tok[0].type == JSON_OBJECT &&
           json_str_eq(&doc, json_get(&doc, 0, CTL_KEY_EXECUTE), name);
}

/* The id of a request line, if it is an object with one, written into
 * `o` as the id member.  A line that is not JSON may still show its id
 * (a plain integer, as the front-ends write it): that one is given back. */
static void put_request_id(struct json_out *o, const char *line, size_t len)
{
    static struct json_tok tok[256];
    struct json_doc doc;
    char err[8];
    uint64_t salvaged;
    if (json_parse(&doc, line, len, tok, 256, CTL_DEPTH_MAX, err, sizeof(err)) < 0) {
        if (json_scan_u64(line, len, CTL_KEY_ID, &salvaged) == 0) {
            json_key(o, CTL_KEY_ID);
            json_put_u64(o, salvaged);
        }
        return;
    }
    int id = json_get(&doc, 0, CTL_KEY_ID);
    if (id >= 0) {
        json_key(o, CTL_KEY_ID);
        json_put_tok(o, &doc, id);
    }
}

/* The manager's own error reply of class `cls` to request `line`, into
 * buf: its length, or 0 when it does not fit. */
static size_t error_line(char *buf, size_t size, const char *cls, const char *line, size_t len,
                         const char *desc)
{
    struct json_out o;
    json_out_init(&o, buf, size);
    json_obj_begin(&o);
    json_key(&o, CTL_KEY_ERROR);
    json_obj_begin(&o);
    json_key(&o, CTL_KEY_CLASS);
    json_put_str(&o, cls);
    json_key(&o, CTL_KEY_DESC);
    json_put_str(&o, desc);
    json_obj_end(&o);
    if (line)
        put_request_id(&o, line, len);
    json_obj_end(&o);
    return json_out_ok(&o) ? o.len : 0;
}

/* That error reply, sent to front-end c. */
static void reply_error_class(struct conn *c, const char *cls, const char *line, size_t len,
                              const char *desc)
{
    static char buf[CTL_LINE_MAX + 256];
    size_t n = error_line(buf, sizeof(buf), cls, line, len, desc);
    if (n)
        conn_send_line(c, buf, n);
}

/* The manager's own error reply to a request it cannot pass on. */
static void reply_error(struct conn *c, const char *line, size_t len, const char *desc)
{
    reply_error_class(c, CTL_ERR_GENERIC, line, len, desc);
}

void relay_reply(struct conn *c, const char *line, size_t len, const char *cls, const char *desc)
{
    if (cls) {
        reply_error_class(c, cls, line, len, desc);
        return;
    }
    char buf[CTL_LINE_MAX + 64];
    struct json_out o;
    json_out_init(&o, buf, sizeof(buf));
    json_obj_begin(&o);
    json_key(&o, CTL_KEY_RETURN);
    json_obj_begin(&o);
    json_obj_end(&o);
    put_request_id(&o, line, len);
    json_obj_end(&o);
    if (json_out_ok(&o))
        conn_send_line(c, buf, o.len);
}

void relay_client_added(struct conn *c)
{
    if (relay.greeting) {
        conn_send_line(c, relay.greeting, relay.greeting_len);
        c->greeted = true;
    }
}

void relay_client_gone(struct conn *c)
{
    /* Its complete requests are carried out all the same, queued or with
     * hv already (a front-end may send and leave, as with QMP); only their
     * replies go nowhere. */
    for (struct request *r = relay.head; r; r = r->next)
        if (r->client == c)
            r->client = NULL;
    if (relay.in_flight_client == c)
        relay.in_flight_client = NULL;
    console_client_gone(c);
}

/* Put a request at the end of the queue; -1 when memory runs out. */
static int enqueue(struct conn *c, const char *s, size_t len,
                   void (*done)(void *ctx, const char *s, size_t len), void *ctx)
{
    struct request *r = calloc(1, sizeof(*r));
    char *copy = malloc(len);
    if (!r || !copy) {
        free(r);
        free(copy);
        return -1;
    }
    memcpy(copy, s, len);
    *r = (struct request){.client = c,
                          .line = copy,
                          .len = len,
                          .since_ms = relay_now_ms(),
                          .done = done,
                          .ctx = ctx,
                          .quit = c && request_is(s, len, CTL_CMD_QUIT)};
    if (relay.tail)
        relay.tail->next = r;
    else
        relay.head = r;
    relay.tail = r;
    return 0;
}

int relay_internal(const char *line, size_t len, void (*done)(void *ctx, const char *s, size_t len),
                   void *ctx)
{
    if (relay.hv_gone)
        return -1;
    return enqueue(NULL, line, len, done, ctx);
}

/* x-hv-status, the manager's own answer (docs/control-protocol.md "When
 * hv does not answer"): whether hv answers, how long the request it has
 * has waited, and the domains as hv last described them. */
static void hv_status(struct conn *c, const char *line, size_t len)
{
    static char buf[CTL_LINE_MAX + 512];
    static struct json_tok tok[4096];
    struct json_doc doc;
    char err[8];
    long now = relay_now_ms();
    bool connected = relay.greeting && !relay.hv_gone;
    struct json_out o;
    json_out_init(&o, buf, sizeof(buf));
    json_obj_begin(&o);
    json_key(&o, CTL_KEY_RETURN);
    json_obj_begin(&o);
    json_key(&o, "connected");
    json_put_bool(&o, connected);
    json_key(&o, "answering");
    json_put_bool(&o, connected && !relay.overdue);
    json_key(&o, "waiting-ms");
    json_put_u64(&o, relay.in_flight ? (uint64_t)(now - relay.in_flight_ms) : 0);
    json_key(&o, "limit-ms");
    json_put_u64(&o, (uint64_t)relay.limit_ms);
    json_key(&o, "domains");
    int ret = -1;
    if (relay.domains && json_parse(&doc, relay.domains, relay.domains_len, tok, 4096,
                                    CTL_DEPTH_MAX, err, sizeof(err)) == 0)
        ret = json_get(&doc, 0, CTL_KEY_RETURN);
    if (ret >= 0) {
        json_put_tok(&o, &doc, ret);
        json_key(&o, "domains-age-ms");
        json_put_u64(&o, (uint64_t)(now - relay.domains_ms));
    } else {
        json_arr_begin(&o);
        json_arr_end(&o);
    }
    json_obj_end(&o);
    put_request_id(&o, line, len);
    json_obj_end(&o);
    if (json_out_ok(&o))
        conn_send_line(c, buf, o.len);
}

void relay_client_line(struct conn *c, const char *s, size_t len)
{
    /* The manager's own command: attaching to a console. */
    if (console_request(c, s, len))
        return;
    /* And asking whether hv answers. */
    if (request_is(s, len, CTL_CMD_HV_STATUS)) {
        hv_status(c, s, len);
        return;
    }
    if (relay.hv_gone) {
        reply_error(c, s, len, "hv has ended: no request can be carried out");
        return;
    }
    if (enqueue(c, s, len, NULL, NULL) < 0)
        reply_error(c, s, len, "the manager is out of memory");
}

void relay_client_overlong(struct conn *c)
{
    reply_error(c, NULL, 0, "request longer than the limit of 65536 bytes");
}

void relay_pump(struct conn *hv)
{
    if (relay.in_flight || !relay.head || !hv || !relay.greeting)
        return;
    struct request *r = relay.head;
    relay.head = r->next;
    if (!relay.head)
        relay.tail = NULL;
    /* A domain-create's kernel goes to the staging disk now, when no other
     * request can use that disk (stage.c); one the manager cannot stage is
     * refused here, and the next request gets its turn. */
    char why[4200];
    if (!r->held && (stage_request(&r->line, &r->len, &r->watch, why, sizeof(why)) < 0 ||
                     media_request(&r->line, &r->len, why, sizeof(why)) < 0 ||
                     disk_request(&r->line, &r->len, why, sizeof(why)) < 0)) {
        if (r->client)
            reply_error(r->client, r->line, r->len, why);
        if (r->done)
            r->done(r->ctx, NULL, 0);
        free(r->line);
        free(r);
        relay_pump(hv);
        return;
    }
    relay.in_flight = true;
    relay.in_flight_client = r->client;
    relay.in_flight_req = r;
    relay.in_flight_ms = relay_now_ms();
    conn_send_line(hv, r->line, r->len);
}

/* The request hv was carrying out is over. */
static void in_flight_done(void)
{
    if (relay.in_flight_req) {
        free(relay.in_flight_req->line);
        free(relay.in_flight_req->held);
        free(relay.in_flight_req);
    }
    relay.in_flight_req = NULL;
    relay.in_flight = false;
    relay.in_flight_client = NULL;
    relay.overdue = false;
}

bool relay_busy(void)
{
    return relay.in_flight || relay.head;
}

/* An event line with the host's time of arrival added, to every front-end
 * that has been greeted. */
static void broadcast_event(const char *s, size_t len)
{
    char buf[CTL_LINE_MAX + 96];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    /* hv's event is an object: its closing brace makes way for one more
     * member. */
    int n = snprintf(buf, sizeof(buf),
                     "%.*s, \"" CTL_KEY_TIMESTAMP "\": {\"seconds\": %lld, \"microseconds\": %ld}}",
                     (int)(len - 1), s, (long long)tv.tv_sec, (long)tv.tv_usec);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return;
    /* Not to a front-end attached to a console: its bytes are the
     * console's. */
    for (int i = 0; i < CTL_CLIENTS_MAX; i++)
        if (clients[i] && clients[i]->greeted && clients[i]->console < 0)
            conn_send_line(clients[i], buf, (size_t)n);
}

/* hv's reply `s` to a watched request r of front-end c (NULL: gone):
 * stagesave.c's work, then the front-end's reply -- at once, or held
 * behind the request of the manager's own that stage_reply() asks for,
 * which goes to hv next, before any other. */
static void finish_watched(struct request *r, struct conn *c, const char *s, size_t len)
{
    static char buf[CTL_LINE_MAX + 256];
    struct stage_after a;
    stage_reply(s, len, &a);
    size_t n = len;
    const char *reply = s;
    if (a.failed) {
        n = error_line(buf, sizeof(buf), CTL_ERR_GENERIC, r->line, r->len, a.why);
        reply = buf;
    }
    struct request *f = a.follow ? calloc(1, sizeof(*f)) : NULL;
    char *held = f ? malloc(n ? n : 1) : NULL;
    if (!f || !held) {
        free(f);
        free(a.follow);
        if (c && n)
            conn_send_line(c, reply, n);
        return;
    }
    memcpy(held, reply, n);
    *f = (struct request){.client = c,
                          .line = a.follow,
                          .len = a.follow_len,
                          .next = relay.head,
                          .since_ms = relay_now_ms(),
                          .held = held,
                          .held_len = a.follow_answers && !a.failed ? 0 : n};
    relay.head = f;
    if (!relay.tail)
        relay.tail = f;
}

/* hv's error reply `doc` without an id (to a line hv could not read, or
 * one whose id did not fit) is the in-flight request's all the same: hv
 * answers one request at a time.  So it gets that request's id from the
 * manager's own copy of the line, and the front-end, which waits for a
 * reply naming its id, has its answer at once instead of at its time
 * limit.  Returns the line to pass on: `s` itself, or the rewritten one. */
static const char *name_reply(const struct json_doc *doc, const struct request *r, const char *s,
                              size_t *len)
{
    static char buf[CTL_LINE_MAX + 256];
    char cls[64], desc[CTL_LINE_MAX];
    int e = json_get(doc, 0, CTL_KEY_ERROR);
    if (!r || e < 0 || json_get(doc, 0, CTL_KEY_ID) >= 0 ||
        json_str_copy(doc, json_get(doc, e, CTL_KEY_CLASS), cls, sizeof(cls)) < 0 ||
        json_str_copy(doc, json_get(doc, e, CTL_KEY_DESC), desc, sizeof(desc)) < 0)
        return s;
    size_t n = error_line(buf, sizeof(buf), cls, r->line, r->len, desc);
    if (!n)
        return s;
    *len = n;
    return buf;
}

/* hv's reply `s` (parsed: doc) to request r: a query-domains' return is
 * kept as the domains' last known state. */
static void remember_domains(const struct json_doc *doc, const struct request *r, const char *s,
                             size_t len)
{
    if (!r || json_get(doc, 0, CTL_KEY_RETURN) < 0 ||
        !request_is(r->line, r->len, CTL_CMD_QUERY_DOMAINS))
        return;
    char *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, s, len);
    free(relay.domains);
    relay.domains = copy;
    relay.domains_len = len;
    relay.domains_ms = relay_now_ms();
}

void relay_hv_line(struct conn *hv, const char *s, size_t len)
{
    static struct json_tok tok[4096];
    struct json_doc doc;
    char err[128];
    (void)hv;
    if (json_parse(&doc, s, len, tok, 4096, CTL_DEPTH_MAX, err, sizeof(err)) < 0 ||
        doc.tok[0].type != JSON_OBJECT) {
        fprintf(stderr, "hvmgr: ignoring a line from hv that is not a JSON object (%s)\n", err);
        return;
    }
    if (json_get(&doc, 0, CTL_KEY_GREETING) >= 0) {
        free(relay.greeting);
        relay.greeting = malloc(len);
        if (!relay.greeting)
            return;
        memcpy(relay.greeting, s, len);
        relay.greeting_len = len;
        /* An hv that greets is there (the manager serves one outer
         * machine, which greets once; a test plays several). */
        relay.hv_gone = false;
        for (int i = 0; i < CTL_CLIENTS_MAX; i++)
            if (clients[i] && !clients[i]->greeted)
                relay_client_added(clients[i]);
        return;
    }
    int ev = json_get(&doc, 0, CTL_KEY_EVENT);
    if (ev >= 0) {
        /* The consoles follow the domains' lives (console.c). */
        char name[32];
        uint64_t dom;
        if (json_str_copy(&doc, ev, name, sizeof(name)) >= 0 &&
            json_u64(&doc, json_get(&doc, json_get(&doc, 0, CTL_KEY_DATA), "domain"), &dom) == 0)
            console_event(name, (unsigned)dom), disk_event(name, (unsigned)dom);
        broadcast_event(s, len);
        return;
    }
    if (!relay.in_flight) {
        fprintf(stderr, "hvmgr: ignoring a reply from hv to no request: %.*s\n", (int)len, s);
        return;
    }
    media_reply(s, len);
    struct request *r = relay.in_flight_req;
    remember_domains(&doc, r, s, len);
    s = name_reply(&doc, r, s, &len);
    struct conn *c = relay.in_flight_client;
    /* A detached disk goes back into its file before the front-end hears
     * it is detached; if that failed, it hears why instead. */
    char why[4200];
    if (disk_reply(s, len, why, sizeof(why)) < 0 && r && !r->done && !r->held && !r->watch) {
        if (c)
            reply_error(c, r->line, r->len, why);
    } else if (r && r->done) {
        /* The manager's own request (console.c). */
        r->done(r->ctx, s, len);
    } else if (r && r->held) {
        /* The manager's own request is done: the front-end's reply now
         * (hv's reply to it, when that answers for the front-end). */
        if (c && r->held_len)
            conn_send_line(c, r->held, r->held_len);
        else if (c)
            conn_send_line(c, s, len);
    } else if (r && r->watch) {
        finish_watched(r, c, s, len);
    } else if (c) {
        conn_send_line(c, s, len);
    }
    in_flight_done();
}

void relay_hv_overlong(struct conn *hv)
{
    (void)hv;
    fprintf(stderr, "hvmgr: ignoring a line from hv longer than %d bytes\n", CTL_LINE_MAX);
}

void relay_hv_gone(void)
{
    relay.hv_gone = true;
    /* No guest writes any more: the disks attached at run time go back. */
    disk_end();
    if (relay.in_flight && relay.in_flight_req && relay.in_flight_req->watch)
        stage_save_abort(), stage_commit_abort();
    if (relay.in_flight && relay.in_flight_client)
        reply_error(relay.in_flight_client, relay.in_flight_req->line, relay.in_flight_req->len,
                    "hv ended before it answered (the outer machine has stopped)");
    if (relay.in_flight && relay.in_flight_req && relay.in_flight_req->done)
        relay.in_flight_req->done(relay.in_flight_req->ctx, NULL, 0);
    in_flight_done();
    while (relay.head) {
        struct request *r = relay.head;
        relay.head = r->next;
        if (r->done)
            r->done(r->ctx, NULL, 0);
        if (r->client)
            reply_error(r->client, r->line, r->len, "hv has ended: no request can be carried out");
        free(r->line);
        free(r);
    }
    relay.tail = NULL;
}

/* The reply time limit (docs/control-protocol.md "When hv does not
 * answer").  A request hv was given `limit_ms` ago and has not answered
 * gets a Timeout error: it may still be carried out, and it stays hv's
 * one request in flight (hv answers in order, on one line), so its late
 * reply is dropped.  A request that waited that long in the queue behind
 * it gets a Timeout error too and is never sent: nothing is carried out
 * after its front-end was told it failed (a request whose front-end has
 * gone stays queued, to be carried out whole as promised).  Returns the
 * milliseconds until the next limit, or -1 when no front-end waits. */
long relay_expire(long now_ms, long limit_ms)
{
    char desc[160];
    long next = -1;
    relay.limit_ms = limit_ms;
    if (relay.in_flight && now_ms - relay.in_flight_ms >= limit_ms)
        relay.overdue = true;
    if (relay.in_flight && relay.in_flight_client) {
        long left = relay.in_flight_ms + limit_ms - now_ms;
        if (left > 0) {
            next = left;
        } else {
            snprintf(desc, sizeof(desc),
                     "hv has not answered within %ld s; it may still carry the request out",
                     limit_ms / 1000);
            reply_error_class(relay.in_flight_client, CTL_ERR_TIMEOUT, relay.in_flight_req->line,
                              relay.in_flight_req->len, desc);
            relay.in_flight_client = NULL;
            /* A file the front-end was told failed must not appear later. */
            if (relay.in_flight_req->watch)
                stage_timed_out();
        }
    }
    for (struct request **pp = &relay.head; *pp;) {
        struct request *r = *pp;
        long left = r->since_ms + limit_ms - now_ms;
        if (!r->client || left > 0) {
            if (r->client)
                next = next < 0 || left < next ? left : next;
            pp = &r->next;
            continue;
        }
        snprintf(desc, sizeof(desc),
                 "hv has not answered an earlier request within %ld s; this one was not sent",
                 limit_ms / 1000);
        reply_error_class(r->client, CTL_ERR_TIMEOUT, r->line, r->len, desc);
        *pp = r->next;
        free(r->line);
        free(r);
    }
    /* The queue's last request, which one of those may have been. */
    relay.tail = NULL;
    for (struct request *r = relay.head; r; r = r->next)
        relay.tail = r;
    return next;
}

/* A quit hv has not answered (docs/control-protocol.md "When hv does not
 * answer"): any front-end's quit, with hv or queued, that came `limit_ms`
 * ago or more.  0 when one is due, else the milliseconds until the first
 * is, or -1 when there is none. */
long relay_quit_due(long now_ms, long limit_ms)
{
    long next = -1;
    struct request *first = relay.in_flight ? relay.in_flight_req : NULL;
    for (struct request *r = first ? first : relay.head; r; r = r == first ? relay.head : r->next) {
        if (!r->quit)
            continue;
        long left = r->since_ms + limit_ms - now_ms;
        if (left <= 0)
            return 0;
        next = next < 0 || left < next ? left : next;
    }
    return next;
}

/* The manager ended the machine for them: every quit waiting, with hv or
 * queued, gets its {"return": {}} (what hv would have said), or, when
 * the machine could not be ended, the error `why`. */
void relay_quit_answered(const char *why)
{
    struct request *f = relay.in_flight ? relay.in_flight_req : NULL;
    if (f && f->quit) {
        if (relay.in_flight_client)
            relay_reply(relay.in_flight_client, f->line, f->len, why ? CTL_ERR_GENERIC : NULL, why);
        relay.in_flight_client = NULL;
        f->quit = false;
    }
    for (struct request **pp = &relay.head; *pp;) {
        struct request *r = *pp;
        if (!r->quit) {
            pp = &r->next;
            continue;
        }
        if (r->client)
            relay_reply(r->client, r->line, r->len, why ? CTL_ERR_GENERIC : NULL, why);
        *pp = r->next;
        free(r->line);
        free(r);
    }
    relay.tail = NULL;
    for (struct request *r = relay.head; r; r = r->next)
        relay.tail = r;
}
