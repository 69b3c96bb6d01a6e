/*
 * convert --bitmaps (see convert_bitmaps.c): the checks, in qemu-img's
 * order, and the copy.  Each prints qemu-img's message and returns false
 * on failure.
 */
#ifndef IMGTOOL_CONVERT_BITMAPS_H
#define IMGTOOL_CONVERT_BITMAPS_H

#include <stdbool.h>

struct img;

/* One qcow2 v3 source whose bitmaps are all consistent (or skipped). */
bool convert_bitmaps_check_source(struct img **srcs, int nsrc, bool skip_broken);
/* A target of format fmt (IMG_FMT_*) and qcow2 compat 2 or 3 can hold them. */
bool convert_bitmaps_check_target(int fmt, int compat);
/* Add each of src's bitmaps to dst with its granularity and state, and
 * its bits. */
bool convert_bitmaps_copy(struct img *src, struct img *dst, bool skip_broken);

#endif
