/*
 * paging.h - the extended page table (EPT) entry format (paging.c), for the backend
 * and the hosted unit tests.
 */
#ifndef HV_VMX_PAGING_H
#define HV_VMX_PAGING_H

#include "core/slat.h"

extern const struct slat_format vmx_ept_format;

#endif
