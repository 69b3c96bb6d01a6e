/*
 * `info registers` in QEMU 7.2's layout (target/i386/cpu-dump.c
 * x86_cpu_dump_state), from a struct hmp_regs: the 64-bit layout when the
 * vCPU runs 64-bit code (EFER.LMA and CS.L), the 32-bit one otherwise.
 * hv's control protocol carries no x87/SSE state, so the FPU, FPR and XMM
 * lines QEMU adds are left out (docs/monitor.md).
 */
#ifndef HVKIT_MGMT_HMP_REGS_H
#define HVKIT_MGMT_HMP_REGS_H

#include "hmp.h"

/* Print vCPU `cpu`'s registers: a blank line, "CPU#N", then the dump. */
void hmp_print_regs(FILE *out, int cpu, const struct hmp_regs *r);

/* `$name` for print and friends: QEMU's x86 names (eax..edi, esp|sp,
 * ebp|fp, r8..r15, eflags, eip, pc = eip + cs.base, and per segment
 * "cs", "cs.base", "cs.limit"); 0 and *val, or -1 for an unknown name.
 * On x86-64 "eax" is the whole 64-bit RAX, as in QEMU. */
int hmp_reg_value(const struct hmp_regs *r, const char *name, int64_t *val);

#endif
