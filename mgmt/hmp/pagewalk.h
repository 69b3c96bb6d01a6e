/*
 * `info tlb` and `info mem`: a walk over a vCPU's 4-level page tables in
 * IA-32e mode (SDM vol 3A 4.5 "4-Level Paging and 5-Level Paging"), printed
 * as QEMU 7.2 prints it (target/i386/monitor.c tlb_info_64, mem_info_64).
 */
#ifndef HVKIT_MGMT_HMP_PAGEWALK_H
#define HVKIT_MGMT_HMP_PAGEWALK_H

#include <stdint.h>
#include <stdio.h>

/* Read the 512 entries of the table at guest-physical `addr`: 0 or -1. */
typedef int (*hmp_table_fn)(void *ctx, uint64_t addr, uint64_t entries[512]);

/* `info tlb`: one line per present leaf, "VADDR: PADDR XGPDACTUW".  A
 * table that cannot be read is skipped, as QEMU reads it as zeros. */
void hmp_tlb_info(FILE *out, uint64_t cr3, hmp_table_fn read, void *ctx);

/* `info mem`: the mapped ranges with the same rights merged, one line
 * each, "START-END SIZE urw". */
void hmp_mem_info(FILE *out, uint64_t cr3, hmp_table_fn read, void *ctx);

#endif
