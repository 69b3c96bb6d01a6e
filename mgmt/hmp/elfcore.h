/*
 * dump-guest-memory's file: an ELF core of the guest as QEMU 7.2 writes
 * one for x86-64 (dump/dump.c, target/i386/arch_dump.c), which gdb and
 * crash read: an ELF64 header of type ET_CORE, a PT_NOTE segment with one
 * NT_PRSTATUS note ("CORE") per vCPU and then one "QEMU" note per vCPU
 * (QEMU's QEMUCPUState: the registers crash wants, segments and control
 * registers included), and one PT_LOAD segment per range of guest RAM.
 */
#ifndef HVKIT_MGMT_HMP_ELFCORE_H
#define HVKIT_MGMT_HMP_ELFCORE_H

#include <stdint.h>
#include <stdio.h>

#include "hmp.h"

/* A range of guest-physical memory that goes into the core. */
struct hmp_core_range {
    uint64_t start, size;
};

/* Read `len` bytes of guest-physical memory at `addr`: 0, or -1 with
 * `err` filled. */
typedef int (*hmp_core_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len,
                                struct hmp_err *err);

/*
 * Write the core for `ncpus` vCPUs (their registers in `regs`) and the
 * `nranges` ranges to `f`.  Each PT_LOAD's physical and virtual address is
 * the range's guest-physical address, as QEMU 7.2 writes them without -p,
 * so gdb reads guest memory by those addresses (guestkit guests map memory
 * one to one).  Returns 0, or -1 with `err` filled (a read or a write
 * failed).
 */
int hmp_write_core(FILE *f, const struct hmp_regs *regs, int ncpus,
                   const struct hmp_core_range *ranges, int nranges, hmp_core_read_fn read,
                   void *ctx, struct hmp_err *err);

#endif
