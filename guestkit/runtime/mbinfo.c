/*
 * Accessors for the Multiboot information (Multiboot spec 0.6.96, 3.3).  The
 * loader left it in low memory, which the runtime identity-maps, so its
 * physical addresses are usable pointers.  Each accessor checks the flag
 * that says whether a field is valid.
 */
#include "guestkit/parse.h"
#include "guestkit/runtime.h"

extern const struct mb_info *gk_mb_info;
extern char __image_start[], __image_end[];

const struct mb_info *mb_info(void)
{
    return gk_mb_info;
}

const char *mb_cmdline(void)
{
    /* Flag bit 2: cmdline holds the physical address of a C string. */
    if (!gk_mb_info || !(gk_mb_info->flags & MB_INFO_CMDLINE) || !gk_mb_info->cmdline)
        return "";
    return (const char *)(uintptr_t)gk_mb_info->cmdline;
}

bool mb_mem(uint32_t *lower_kib, uint32_t *upper_kib)
{
    /* Flag bit 0: mem_lower and mem_upper are valid. */
    if (!gk_mb_info || !(gk_mb_info->flags & MB_INFO_MEMORY))
        return false;
    *lower_kib = gk_mb_info->mem_lower;
    *upper_kib = gk_mb_info->mem_upper;
    return true;
}

const struct mb_mmap_entry *mb_mmap_next(const struct mb_mmap_entry *prev)
{
    /* Flag bit 6: mmap_addr/mmap_length describe the memory map. */
    if (!gk_mb_info || !(gk_mb_info->flags & MB_INFO_MEM_MAP))
        return NULL;
    return gk_mmap_walk(gk_mb_info->mmap_addr, gk_mb_info->mmap_length, prev);
}

const char *mb_mmap_type_name(uint32_t type)
{
    /* The types Multiboot 0.6.96 3.3 defines (the BIOS's E820 types). */
    switch (type) {
    case MB_MEMORY_AVAILABLE:
        return "available";
    case MB_MEMORY_RESERVED:
        return "reserved";
    case MB_MEMORY_ACPI_RECLAIMABLE:
        return "ACPI reclaimable";
    case MB_MEMORY_NVS:
        return "ACPI NVS";
    case MB_MEMORY_BADRAM:
        return "bad RAM";
    default:
        return "unknown";
    }
}

void image_range(uint64_t *start, uint64_t *end)
{
    *start = (uintptr_t)__image_start;
    *end = (uintptr_t)__image_end;
}
