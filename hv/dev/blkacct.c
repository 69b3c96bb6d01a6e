/*
 * blkacct.c - a disk's I/O counters (see blkacct.h).
 */
#include "blkacct.h"

uint64_t blkacct_now(const struct blkacct *s)
{
    return s->clock_ns ? s->clock_ns() : 0;
}

struct blkacct_req blkacct_start(const struct blkacct *s, enum blkacct_type type)
{
    return (struct blkacct_req){.type = type, .start_ns = blkacct_now(s)};
}

/* The request's time, counted for done and failed requests alike (QEMU's
 * account_failed), the access it was, and for a write how far it went. */
static void timed(struct blkacct *s, const struct blkacct_req *r)
{
    if (r->type == BLKACCT_WRITE && r->offset + r->bytes > s->wr_highest_offset)
        s->wr_highest_offset = r->offset + r->bytes;
    uint64_t now = blkacct_now(s);
    /* A clock that went back (it never should) adds nothing. */
    s->time_ns[r->type] += now > r->start_ns ? now - r->start_ns : 0;
    s->last_ns = now;
    s->accessed = true;
}

void blkacct_done(struct blkacct *s, const struct blkacct_req *r)
{
    s->ops[r->type]++;
    s->bytes[r->type] += r->bytes;
    timed(s, r);
}

void blkacct_failed(struct blkacct *s, const struct blkacct_req *r)
{
    s->failed[r->type]++;
    timed(s, r);
}

/* An invalid request took no time on the disk, but is an access (QEMU's
 * account_invalid). */
void blkacct_invalid(struct blkacct *s, const struct blkacct_req *r)
{
    s->invalid[r->type]++;
    s->last_ns = blkacct_now(s);
    s->accessed = true;
}

bool blkacct_idle_ns(const struct blkacct *s, uint64_t *ns)
{
    if (!s->accessed)
        return false;
    uint64_t now = blkacct_now(s);
    *ns = now > s->last_ns ? now - s->last_ns : 0;
    return true;
}
