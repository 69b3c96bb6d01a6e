/*
 * guestmem.h - the guest's memory as hv manages it at run time: the
 * second-level tables (slat.h) built over guest RAM.
 */
#ifndef HV_CORE_GUESTMEM_H
#define HV_CORE_GUESTMEM_H

#include <stddef.h>

#include "gmem.h"
#include "memmap.h"
#include "slat.h"

/*
 * The guest's memory map: the PC layout of memmap_pc() for `ram` bytes, with
 * AMD's HyperTransport window when the guest sees an AMD CPU with 40 or more
 * physical address bits, as QEMU's PC machine reports it then.  Returns 0,
 * or -1 with the reason in err.
 */
int guestmem_layout(struct memmap *m, uint64_t ram, char *err, size_t err_len);

/*
 * Build second-level tables in `s`, in the backend's entry format `fmt`
 * with the CPU's capabilities `caps` (SLAT_CAP_*), mapping all of `mem` at
 * guest-physical 0, readable, writable and executable, with 2 MiB pages
 * where the host block's alignment allows.  Returns 0, or -1 after logging
 * why (out of memory).
 */
int guestmem_build(struct slat *s, const struct slat_format *fmt, unsigned caps,
                   const struct guest_mem *mem);

#endif
