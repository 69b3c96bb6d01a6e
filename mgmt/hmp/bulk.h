/*
 * The bulk path for guest memory (docs/monitor.md "Memory in bulk"): a
 * range read through the machine's save_mem (the control protocol's
 * pmemsave and memsave, which move the bytes through the staging disk)
 * in chunks, for memsave, pmemsave and dump-guest-memory; and the file
 * those commands write, which appears whole or not at all.
 */
#ifndef HVKIT_MGMT_HMP_BULK_H
#define HVKIT_MGMT_HMP_BULK_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/guard.h"
#include "hmp.h"

/* The most one save_mem request moves: small enough that hv answers well
 * within the monitor's time limit even on a slow emulator, large enough
 * that the requests' own cost is small beside the bytes. */
#define HMP_BULK_CHUNK (8u << 20)

/*
 * A reader of guest memory a chunk at a time: each chunk is saved by the
 * machine into a file of its own in `dir` (the output's directory), which
 * the reader opens and unlinks at once, so that nothing is left behind
 * whatever happens.  Reads must lie in [start, end).
 */
struct hmp_bulk {
    struct hmp *m;
    bool physical;
    uint64_t end;
    char dir[PATH_MAX];
    int fd;             /* the chunk being read, or -1 */
    uint64_t base, len; /* the guest range it holds */
};

void hmp_bulk_init(struct hmp_bulk *b, struct hmp *m, bool physical, const char *dir, uint64_t end);
/* Read `len` bytes at `addr` (hmp_core_read_fn's shape): 0, or -1 with
 * `err` the machine's error. */
int hmp_bulk_read(void *ctx, uint64_t addr, void *buf, size_t len, struct hmp_err *err);
void hmp_bulk_close(struct hmp_bulk *b);

/*
 * The file a command writes: a temporary file beside `name` that is
 * renamed over it only when everything was written, so that a failed
 * command leaves no file (and an existing file as it was).  A guard
 * (mgmt/common/guard.h) removes the temporary file, and the directory
 * `chunks` where hmp_bulk's chunks land, if the monitor dies before it
 * is finished (killed while it moves memory).
 */
struct hmp_out {
    FILE *f;
    struct hmp *m; /* the monitor writing it */
    struct guard guard;
    char name[PATH_MAX];
    char tmp[PATH_MAX + 32];
    char dir[PATH_MAX];         /* its directory, absolute */
    char chunks[PATH_MAX + 32]; /* a directory in it for hmp_bulk's chunks */
};

/*
 * The steps a command that pauses the domain meanwhile (dump-guest-memory,
 * as QEMU's) tells the file's guard with guard_step(&o->guard, ...):
 * HMP_OUT_PAUSING before it sends the stop, HMP_OUT_RESUMED once its cont
 * is answered.  A monitor that dies between the two leaves the domain
 * paused; the guard then sends the cont itself, on a connection of its
 * own (the backend's simple_apart), so the domain runs on as after a
 * finished command.
 */
#define HMP_OUT_PAUSING 'p'
#define HMP_OUT_RESUMED 'r'

/* Open it: 0, or -1 after printing QEMU's "Could not open" error. */
int hmp_out_open(struct hmp_out *o, struct hmp *m, const char *name);
/* Finish it: renamed into place when `ok` (an error printed if that
 * fails: returns -1), removed otherwise. */
int hmp_out_finish(struct hmp_out *o, bool ok);

#endif
