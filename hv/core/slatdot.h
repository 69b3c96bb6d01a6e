/*
 * slatdot.h - a Graphviz picture of a guest's second-level tables: each
 * range of the guest-physical memory map on the left (RAM, MMIO, holes),
 * the host-physical memory its pages map to on the right, and one arrow
 * per run of pages that map alike (contiguous on both sides, same page size,
 * same permissions), labelled with the guest range, the page size and
 * count, and the permissions.
 *
 * hv prints it when its `slat-dot` option is given; docs/slatgraph.sh turns
 * a run's output into the lesson's figure.  Pure code, compiled hosted too
 * (tests/unit/test_hv_slat.c).
 */
#ifndef HV_CORE_SLATDOT_H
#define HV_CORE_SLATDOT_H

#include "memmap.h"
#include "slat.h"

/* At most this many arrows per memory-map range; the rest are counted in
 * one "... more" line, so that a fragmented table still gives a figure a
 * reader can take in. */
#define SLATDOT_MAX_RUNS 24

/* Describe the tables `s` over the map `m` in the dot language, one line
 * per call of `line` (no newline in the text). */
void slat_dot(const struct slat *s, const struct memmap *m,
              void (*line)(void *ctx, const char *text), void *ctx);

#endif
