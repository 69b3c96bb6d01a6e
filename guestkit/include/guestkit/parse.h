/*
 * The parts of the runtime that need no hardware: splitting the command line
 * and walking the Multiboot memory map.  They are compiled freestanding into
 * every guest and hosted into the unit tests (tests/unit/test_guestkit.c).
 */
#ifndef GUESTKIT_PARSE_H
#define GUESTKIT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvkit/multiboot.h"

/* Split buf in place into words separated by spaces, tabs or newlines.
 * Stores at most max_args pointers in argv, then a NULL (argv must have
 * room for max_args + 1).  Returns the number of words stored; *dropped (if
 * not NULL) is set when more words were present than fit. */
int gk_split_args(char *buf, char **argv, int max_args, bool *dropped);

/* Memory map walking (Multiboot spec 3.3): the entry after prev (or the
 * first if prev is NULL) in the map at [map, map + length), or NULL when
 * no further whole entry fits. */
const struct mb_mmap_entry *gk_mmap_walk(uintptr_t map, uint32_t length,
                                         const struct mb_mmap_entry *prev);

#endif
