/*
 * guestmem.h - the guest's memory as hv manages it at run time: the
 * second-level tables (slat.h) built over guest RAM.
 */
#ifndef HV_CORE_GUESTMEM_H
#define HV_CORE_GUESTMEM_H

#include "gmem.h"
#include "slat.h"

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
