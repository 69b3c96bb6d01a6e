/*
 * The -p progress indicator of qemu-img (util/qemu-progress.c): the line
 * "    (NN.NN/100%)" rewritten in place with a carriage return each time the
 * progress grows by at least one percent, and a newline at the end.  It is
 * printed on stdout, as qemu-img does.
 */
#ifndef IMGTOOL_PROGRESS_H
#define IMGTOOL_PROGRESS_H

#include <stdbool.h>

void progress_init(bool enabled, float min_skip);
/* Add delta percent of `max` (as QEMU does), or with max 0 set the
 * progress to delta percent. */
void progress_print(float delta, int max);
void progress_end(void);
/* Jump to 100 % (always drawn) and end the line, as qemu-img convert does. */
void progress_done(void);

#endif
