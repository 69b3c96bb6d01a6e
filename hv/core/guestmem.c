/*
 * guestmem.c - the second-level tables hv's guest runs on (guestmem.h).
 */
#include "klib.h"

#include "alloc.h"
#include "cpu.h"
#include "guestmem.h"
#include "log.h"

/* slat.h's page source: one zeroed 4 KiB page from hv's allocator, whose
 * address is also its host-physical address (alloc.h). */
static void *table_page(void)
{
    return page_alloc(4096, 4096);
}

int guestmem_layout(struct memmap *m, uint64_t ram, char *err, size_t err_len)
{
    /* The guest sees the host's vendor and address width (cpuid.c passes
     * leaves 0 and 0x80000008 through), so it expects the map QEMU gives
     * such a CPU: QEMU reserves the HyperTransport window for AMD CPUs
     * whose physical address width reaches it (40 bits, 1 TiB). */
    struct cpuid_regs v = cpuid(0);
    bool amd = v.ebx == 0x68747541 && v.edx == 0x69746e65 && v.ecx == 0x444d4163; /* AuthenticAMD */
    bool wide = cpuid(0x80000000).eax >= 0x80000008 && (cpuid(0x80000008).eax & 0xff) >= 40;
    return memmap_pc(m, ram, amd && wide, err, err_len);
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
