/*
 * cr.h - emulating writes to CR0.
 *
 * On SVM hv intercepts every write to CR0 (MOV to CR0, CLTS, LMSW): QEMU's
 * TCG accepts some illegal CR0 values that real CPUs refuse with #GP (for
 * example NW=1 with CD=0), and such a value then makes the next VMRUN fail.
 * Checking the write in software gives the guest the #GP a real CPU would.
 * Decoding and checking are pure functions, compiled hosted too
 * (tests/unit/test_hv_core.c).
 */
#ifndef HV_CORE_CR_H
#define HV_CORE_CR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The instructions that write CR0 (SDM vol 2: "MOV-Move to/from Control
 * Registers", "CLTS", "LMSW"). */
enum cr_insn_kind { CR_INSN_MOV, CR_INSN_CLTS, CR_INSN_LMSW };

struct cr_insn {
    enum cr_insn_kind kind;
    uint8_t cr;  /* MOV: the control register number */
    uint8_t gpr; /* MOV, LMSW: the source register, 0 = RAX ... 15 = R15 */
    uint8_t len; /* instruction length in bytes */
};

/* Decode the instruction at the start of bytes[0..n): MOV CRn, reg (0F 22
 * /r, with a REX prefix in 64-bit mode), CLTS (0F 06) or LMSW reg (0F 01 /6
 * with a register operand).  Returns 0, or -1 for anything else (memory
 * operands of LMSW, other prefixes). */
int cr_decode(const uint8_t *bytes, size_t n, bool long_mode, struct cr_insn *out);

/* Would a CPU accept `val` as the new CR0?  false means #GP(0): bits 63:32
 * set, PG without PE, NW without CD, PG with EFER.LME but not CR4.PAE, or
 * clearing PG in 64-bit mode (SDM vol 2B "MOV" protected-mode and 64-bit
 * mode exceptions; APM vol 2 3.1.1 "CR0 Register"). */
bool cr0_write_ok(uint64_t old, uint64_t val, uint64_t efer, uint64_t cr4, bool cs_long);

#endif
