/*
 * alloc.c - hv's memory: one heap (heap.h) over the host RAM hv may use,
 * behind the page and object allocators of alloc.h.
 *
 * The free region starts above everything the Multiboot loader left in
 * memory that we still need (hv's image, the boot modules, their command
 * lines) and ends where the loader says usable RAM ends (Multiboot 3.3:
 * mem_upper is the KiB of RAM from 1 MiB up to the first hole).
 */
#include "klib.h"

#include "alloc.h"
#include "heap.h"
#include "log.h"

/* All of hv's free memory.  Addresses are physical and, by the boot
 * identity map, also pointers. */
static struct heap heap;

/* Set the free region, for hv_main() once before the first allocation. */
void alloc_init(uint64_t start, uint64_t end)
{
    heap_init(&heap);
    if (end > start)
        heap_add(&heap, (void *)(uintptr_t)start, (size_t)(end - start));
}

/* The allocation behind every function below: zeroed, or NULL after one
 * log line saying how much was wanted and what is free. */
static void *zalloc(size_t bytes, size_t align)
{
    void *p = heap_alloc(&heap, bytes, align);
    if (!p) {
        struct heap_stats s;
        heap_stats(&heap, &s);
        hv_log("out of host memory: %zu bytes wanted (alignment %zu), %zu free, the largest "
               "free block %zu",
               bytes, align, s.free_bytes, s.largest_free);
        return NULL;
    }
    /* Callers build hardware tables here: start from all zeroes. */
    memset(p, 0, bytes);
    return p;
}

/*
 * `bytes` rounded up to whole pages of zeroed memory at a multiple of
 * `align` (a power of two, at least a page), for hardware structures and
 * guest RAM: VMCB/VMCS, permission maps, second-level tables.
 */
void *page_alloc(size_t bytes, size_t align)
{
    /* Every hardware structure hv allocates needs at least 4 KiB alignment
     * (APM vol 2 appendix B "Layout of VMCB", SDM vol 3C 25.2 "Format of
     * the VMCS Region"), so make it the minimum. */
    if (align < 4096)
        align = 4096;
    /* Whole pages, so that nothing else shares a table's page. */
    if (bytes > SIZE_MAX - 4095)
        return NULL;
    return zalloc((bytes + 4095) & ~(size_t)4095, align);
}

/* The heap's free bytes and its largest free block, for messages and the
 * control channel's query-host (alloc.h). */
size_t alloc_free_bytes(void)
{
    struct heap_stats s;
    heap_stats(&heap, &s);
    return s.free_bytes;
}

size_t alloc_largest_free(void)
{
    struct heap_stats s;
    heap_stats(&heap, &s);
    return s.largest_free;
}

/* Give back memory from page_alloc (NULL is ignored). */
void page_free(void *p)
{
    kfree(p);
}

/* Zeroed memory for an object of `bytes`, 16-byte aligned. */
void *kzalloc(size_t bytes)
{
    return zalloc(bytes, HEAP_ALIGN);
}

/* Give back memory from kzalloc or page_alloc.  A pointer the heap did not
 * hand out (or already took back) is a bug in hv: it is logged and the
 * heap is left as it was. */
void kfree(void *p)
{
    if (heap_free(&heap, p) < 0)
        hv_log("kfree(%p): not an allocated block (a double free?); ignored", p);
}
