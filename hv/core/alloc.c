/*
 * alloc.c - a bump allocator over host RAM (see alloc.h).
 *
 * The free region starts above everything the Multiboot loader left in
 * memory that we still need (hv's image, the boot modules, their command
 * lines) and ends where the loader says usable RAM ends (Multiboot 3.3:
 * mem_upper is the KiB of RAM from 1 MiB up to the first hole).
 */
#include "klib.h"

#include "alloc.h"
#include "log.h"

/* [next_free, limit): the memory not handed out yet.  Addresses are
 * physical and, by the boot identity map, also pointers. */
static uint64_t next_free, limit;

/* Set the free region, for hv_main() once before the first allocation. */
void alloc_init(uint64_t start, uint64_t end)
{
    next_free = start;
    limit = end;
}

/* What is left, for the out-of-memory message. */
uint64_t alloc_free_bytes(void)
{
    return limit > next_free ? limit - next_free : 0;
}

/*
 * `bytes` of zeroed memory at a multiple of `align` (a power of two, at
 * least a page), for everything hv allocates: VMCB/VMCS, permission maps,
 * nested page tables and guest RAM.  NULL when memory runs out (logged).
 * Nothing is ever freed: hv allocates a fixed set at start-up and then
 * only runs, so a bump pointer is all it needs and cannot fragment.
 */
void *page_alloc(size_t bytes, size_t align)
{
    /* Every hardware structure hv allocates needs at least 4 KiB alignment
     * (APM vol 2 appendix B "Layout of VMCB", SDM vol 3C 25.2 "Format of the VMCS Region"), so make
     * it the minimum. */
    if (align < 4096)
        align = 4096;
    /* Round the start up to the alignment and the size up to whole pages. */
    uint64_t start = (next_free + align - 1) & ~(uint64_t)(align - 1);
    uint64_t size = (bytes + 4095) & ~(uint64_t)4095;
    /* Written so that nothing can overflow: start is compared first, then
     * the size against the room left. */
    if (start > limit || size > limit - start) {
        hv_log("out of host memory: %zu bytes wanted, %llu free", bytes,
               (unsigned long long)alloc_free_bytes());
        return NULL;
    }
    next_free = start + size;
    /* Callers build hardware tables here: start from all zeroes. */
    memset((void *)(uintptr_t)start, 0, size);
    return (void *)(uintptr_t)start;
}
