/*
 * cr.h - emulating writes to CR0 and CR4.
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

/* The CR4 bits that exist for a guest whose CPUID leaf 1 ECX and leaf 7
 * (subleaf 0) EBX, ECX, EDX are these: VME..OSXMMEXCPT always, UMIP, LA57,
 * VMXE, SMXE, FSGSBASE, PCIDE, OSXSAVE, KL, SMEP, SMAP, PKE, CET, PKS,
 * UINTR as CPUID offers them (SDM vol 3A 2.5 "Control Registers"). */
uint64_t cr4_valid_bits(uint32_t l1_ecx, uint32_t l7_ebx, uint32_t l7_ecx, uint32_t l7_edx);

/* Would a CPU accept `val` as the new CR4 (old value `old`)?  false means
 * #GP(0): a bit outside `valid`, PAE cleared or LA57 changed in IA-32e
 * mode, PCIDE set outside IA-32e mode or with CR3[11:0] != 0, CET set with
 * CR0.WP clear (SDM vol 2B "MOV-Move to/from Control Registers").  SVM
 * intercepts CR4 writes for this: QEMU's TCG lets reserved bits into a
 * guest's CR4 and the next VMRUN then fails. */
bool cr4_write_ok(uint64_t old, uint64_t val, uint64_t valid, uint64_t efer, uint64_t cr0,
                  uint64_t cr3);

#endif
