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
/* Add done_percent (scaled by the current weight, as QEMU does). */
void progress_print(float delta, int max);
void progress_end(void);

#endif
