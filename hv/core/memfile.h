/*
 * memfile.h - a range of guest memory written whole into a file hv can
 * write (struct img_io): the work of the control protocol's pmemsave and
 * memsave (docs/control-protocol.md "Guest memory into a file"), which hv
 * carries out into the staging disk's save region for the manager to copy
 * into the front-end's file.
 *
 * The same bytes QEMU 7.2's pmemsave and memsave write (QEMU's
 * system/cpus.c qmp_pmemsave, qmp_memsave):
 *   - by guest-physical address, guest RAM as it is and everything that
 *     is not RAM as zeros, as QEMU reads memory nothing is assigned to
 *     (QEMU's pmemsave never fails on an address);
 *   - by guest-virtual address, through a vCPU's own page tables (gva.h),
 *     refused when a page is not mapped or maps outside guest RAM, as
 *     QEMU's memsave refuses what cpu_memory_rw_debug() cannot read.
 *
 * Pure code over guest RAM and an img_io, compiled hosted too
 * (tests/unit/test_hv_memfile.c).
 */
#ifndef HV_CORE_MEMFILE_H
#define HV_CORE_MEMFILE_H

#include <stdint.h>

#include "gmem.h"
#include "gva.h"
#include "img.h"

/* How a save ended. */
enum memfile_rc {
    MEMFILE_OK,
    /* memsave: a page of the range is not mapped, or maps outside RAM. */
    MEMFILE_UNMAPPED,
    /* The file refused a write. */
    MEMFILE_IO,
};

/* [addr, addr + size) of guest-physical memory into `io` from byte `at`:
 * RAM as it is, the rest as zeros. */
enum memfile_rc memfile_phys(const struct guest_mem *m, uint64_t addr, uint64_t size,
                             const struct img_io *io, uint64_t at);

/* [addr, addr + size) of guest-virtual memory, translated through `c`,
 * into `io` from byte `at`; with MEMFILE_UNMAPPED the failed translation
 * is in *why. */
enum memfile_rc memfile_virt(const struct gva_ctx *c, uint64_t addr, uint64_t size,
                             const struct img_io *io, uint64_t at, struct gva_walk *why);

#endif
