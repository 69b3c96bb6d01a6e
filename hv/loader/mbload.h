/*
 * mbload.h - the Multiboot loader hv uses for its guest (Multiboot 0.6.96).
 *
 * The guest image arrives as hv's first Multiboot module; the module's
 * string is the guest's command line, file name first (as QEMU passes a
 * -kernel's).  mb_load() validates the whole image first and only then
 * writes guest memory, so a refused image leaves guest RAM untouched:
 *
 *   1. find the Multiboot header in the first 8 KiB, 4-byte aligned, with a
 *      valid checksum (3.1.1, 3.1.2), and refuse flag bits 2-15 it does not
 *      support (3.1.2: a loader must fail on required features it lacks);
 *   2. if the header has the a.out kludge (flag 16), load by its address
 *      fields (3.1.3), whatever the file format (this is how ELF64 images
 *      are loaded, as QEMU does); otherwise the image must be an ELF32
 *      (i386) and its PT_LOAD segments are loaded at their physical
 *      addresses;
 *   3. write the Multiboot information (3.3) into the info area, placed in
 *      available RAM where no segment lies; its memory map and
 *      mem_lower/mem_upper are the guest's memory map (core/memmap.h) as a
 *      PC firmware reports it.
 *
 * Compiled hosted too (tests/unit/test_hv_loader.c).
 */
#ifndef HV_LOADER_MBLOAD_H
#define HV_LOADER_MBLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "core/gmem.h"
#include "core/memmap.h"

/* The Multiboot information, the guest's command line, the memory map and
 * the boot loader name share one area of MB_INFO_AREA_SIZE bytes.  It goes
 * at MB_INFO_AREA when no image segment lies there (as it always did; QEMU
 * uses 0x9000-0x9fff), otherwise in the first 4 KiB-aligned place just
 * above a segment; always in RAM the map reports available. */
#define MB_INFO_AREA      0x8000u
#define MB_INFO_AREA_SIZE 0x2000u

struct mb_load_result {
    uint32_t entry;     /* guest EIP at start */
    uint32_t info_addr; /* guest EBX at start */
    uint32_t load_lo;   /* lowest guest-physical byte loaded */
    uint32_t load_hi;   /* one past the highest (including bss) */
};

/*
 * Load `image` (size bytes) into guest memory `mem`, laid out as `map`
 * says (segments may only go to RAM reported available), with command line
 * `cmdline` (may be NULL).  Returns 0 and fills *res, or -1 with a
 * one-line reason in err and guest memory unchanged.
 */
int mb_load(struct guest_mem *mem, const struct memmap *map, const void *image, size_t size,
            const char *cmdline, struct mb_load_result *res, char *err, size_t err_len);

#endif
