/*
 * alloc.h - hv's memory: a bump allocator over the host RAM that the
 * Multiboot loader reported, above hv's own image and its boot modules.
 *
 * hv never frees: it sets up one guest and ends.  Since hv identity-maps the
 * first 4 GiB (hv/boot/entry.S), a returned pointer is also the physical
 * address to put into a VMCB, VMCS or page-table entry.
 */
#ifndef HV_CORE_ALLOC_H
#define HV_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* `bytes` rounded up to 4 KiB, aligned to `align` (a power of two, at least
 * 4096), zero-filled.  Returns NULL (after logging) when memory runs out. */
void *page_alloc(size_t bytes, size_t align);

/* Physical address of memory from page_alloc (identity mapping). */
static inline uint64_t virt_to_phys(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

#endif
