/*
 * stats.h - VM exit statistics per core exit reason, printed when the guest
 * ends.  Compiled hosted too (tests/unit/test_hv_stats.c).
 */
#ifndef HV_CORE_STATS_H
#define HV_CORE_STATS_H

#include <stdint.h>

#include "exit.h"

struct exit_stats {
    uint64_t count[EXIT_REASON_COUNT];
    uint64_t total;
};

/* Count n exits of reason r.  A reason out of range (a backend bug) is
 * counted as UNHANDLED rather than written past the array.  Inline: it
 * runs on every exit, and a call would cost more than the two additions. */
static inline void stats_add(struct exit_stats *s, enum exit_reason r, uint64_t n)
{
    if ((unsigned)r >= EXIT_REASON_COUNT)
        r = EXIT_UNHANDLED;
    /* 64-bit counters: no guest runs long enough to wrap them. */
    s->count[r] += n;
    s->total += n;
}

/* Count one exit. */
static inline void stats_record(struct exit_stats *s, enum exit_reason r)
{
    stats_add(s, r, 1);
}

/* Emit the statistics as lines (without the "[hv] " prefix, which the
 * caller's line function adds): a title, one line per reason that
 * occurred, in enum order, "  NAME  COUNT", then "  total  N". */
typedef void (*stats_line_fn)(void *ctx, const char *line);
void stats_report(const struct exit_stats *s, stats_line_fn line, void *ctx);

#endif
