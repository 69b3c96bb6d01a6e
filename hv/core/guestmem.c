/*
 * guestmem.c - the second-level tables hv's guest runs on (guestmem.h).
 */
#include "klib.h"

#include "alloc.h"
#include "guestmem.h"
#include "log.h"

/* slat.h's page source: one zeroed 4 KiB page from hv's allocator, whose
 * address is also its host-physical address (alloc.h). */
static void *table_page(void)
{
    return page_alloc(4096, 4096);
}

int guestmem_build(struct slat *s, const struct slat_format *fmt, unsigned caps,
                   const struct guest_mem *mem)
{
    /* hv's allocator never frees (alloc.h), so no free_page. */
    int rc = slat_init(s, fmt, caps, table_page, NULL);
    /* Guest-physical X is host-physical mem->host + X: one linear map;
     * slat_map() uses 2 MiB pages wherever both sides are 2 MiB aligned. */
    if (!rc)
        rc = slat_map(s, 0, virt_to_phys(mem->host), mem->size, SLAT_RWX);
    if (rc) {
        hv_log("%s: cannot map %llu MiB of guest RAM: %s", fmt->name,
               (unsigned long long)(mem->size >> 20), slat_strerror(rc));
        return -1;
    }
    return 0;
}
