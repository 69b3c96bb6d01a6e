/*
 * alloc.h - hv's memory: the host RAM the Multiboot loader reported, above
 * hv's own image and its boot modules, as one heap with free (heap.h).
 *
 * Since hv identity-maps the first 4 GiB (hv/boot/entry.S), a returned
 * pointer is also the physical address to put into a VMCB, VMCS or
 * page-table entry.  Everything can be given back: the qcow2 library
 * allocates and frees per request, and a domain's memory and tables go
 * back when it is torn down.
 */
#ifndef HV_CORE_ALLOC_H
#define HV_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* `bytes` rounded up to 4 KiB, aligned to `align` (a power of two, at least
 * 4096), zero-filled.  Returns NULL (after logging) when memory runs out.
 * Give it back with page_free(). */
void *page_alloc(size_t bytes, size_t align);
void page_free(void *p);

/* Bytes free in the heap now (all free blocks together), and the largest
 * free block (the most one allocation can get, before alignment). */
size_t alloc_free_bytes(void);
size_t alloc_largest_free(void);

/* A zeroed object of `bytes`, 16-byte aligned, or NULL (after logging).
 * Give it back with kfree(), which takes NULL too. */
void *kzalloc(size_t bytes);
void kfree(void *p);

/* Physical address of memory from page_alloc (identity mapping). */
static inline uint64_t virt_to_phys(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

#endif
