/* Helpers shared by the imgtool library unit tests. */
#ifndef TEST_IMG_UTIL_H
#define TEST_IMG_UTIL_H

#include "img.h"
#include <check.h>
#include <stdint.h>

/* Create a qcow2 image in memory with the given options and open it
 * read-write; the image owns the memory backend. */
struct img *mem_qcow2(struct img_create_opts *o);
/* Reopen the same memory (the backend survives a close of the handle only
 * through this helper: it closes the handle without freeing the memory and
 * returns a new handle on it). */
struct img *mem_reopen(struct img *img, unsigned flags);
/* Free a handle from mem_qcow2/mem_reopen together with its memory. */
void mem_free(struct img *img);
/* Fill buf with a pattern depending on seed and offset. */
void pattern(uint8_t *buf, size_t len, uint64_t seed);
/* Check the image: no leaks, no corruptions. */
void assert_clean(struct img *img);
/* Access to the raw bytes of a memory image (for hostile-header tests). */
uint8_t *mem_bytes(struct img *img, uint64_t *len);

#endif
