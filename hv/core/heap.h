/*
 * heap.h - a memory allocator with free: first fit over an address-ordered
 * list of free blocks, with coalescing.
 *
 * hv gives all the host memory it may use to one heap (alloc.c) and takes
 * everything from it: guest RAM, VMCBs/VMCSs and page tables (page_alloc,
 * page-aligned) and small objects (kmalloc).  Everything can be given back,
 * which the qcow2 library (it allocates per request) and domains that are
 * torn down need.
 *
 * How it works, in one paragraph: the free memory is a list of free blocks
 * kept in address order, each starting with a small header (its size and
 * the next free block) stored in the free memory itself.  An allocation
 * walks the list and takes the first block that can hold the request at the
 * requested alignment; what is left before and after the request stays free
 * if it is big enough to be a block, and is handed out with the request
 * otherwise.  Every allocated block starts with a header of its own, just
 * before the pointer returned, saying where the block starts and how big it
 * is, so that heap_free() needs only the pointer.  Freeing puts the block
 * back in address order and merges it with a free neighbour on either side,
 * so memory freed in any order ends up as large blocks again.
 *
 * First fit is simple and, kept in address order, fragments little in
 * practice (Knuth, TAOCP vol 1 2.5 "Dynamic Storage Allocation"); each
 * operation is linear in the number of free blocks, which is small in hv.
 *
 * Pure code over the memory it is given, compiled hosted too
 * (tests/unit/test_hv_heap.c).  Not thread-safe: hv runs on one CPU.
 */
#ifndef HV_CORE_HEAP_H
#define HV_CORE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every block's start, size and every pointer returned are multiples of
 * this (enough for any C object on x86-64). */
#define HEAP_ALIGN 16

struct heap_free_block;

struct heap {
    /* The free blocks in address order. */
    struct heap_free_block *free;
    /* The lowest and highest address ever given to the heap, to refuse a
     * pointer to free that cannot be one of ours. */
    uintptr_t lo, hi;
    /* Bytes in free blocks, and bytes handed out including headers. */
    size_t free_bytes, used_bytes;
};

/* An empty heap (no memory yet). */
void heap_init(struct heap *h);

/* Give the heap the memory [mem, mem + len).  The ends are rounded inwards
 * to HEAP_ALIGN; a range too small to hold a block is ignored.  Regions may
 * be added at any time and in any order, but must not overlap. */
void heap_add(struct heap *h, void *mem, size_t len);

/* `size` bytes (not zeroed) at a multiple of `align` (a power of two; less
 * than HEAP_ALIGN means HEAP_ALIGN), or NULL when no free block can hold
 * them, when size is 0, or when align is not a power of two. */
void *heap_alloc(struct heap *h, size_t size, size_t align);

/* Give back memory from heap_alloc.  NULL is ignored.  Returns 0, or -1
 * (and changes nothing) for a pointer the heap did not hand out or has
 * already taken back: a double free is reported, never a corrupted heap. */
int heap_free(struct heap *h, void *p);

/* The usable size of an allocated block (at least what was asked for), or
 * 0 for a pointer that is not one. */
size_t heap_size_of(const struct heap *h, const void *p);

/* Statistics for messages and tests. */
struct heap_stats {
    size_t free_bytes;    /* in free blocks, headers included */
    size_t used_bytes;    /* in allocated blocks, headers included */
    size_t largest_free;  /* the biggest free block */
    unsigned free_blocks; /* how many free blocks */
};
void heap_stats(const struct heap *h, struct heap_stats *s);

#endif
