/*
 * emu_native.h - the oracle for the MMIO emulator's unit tests: run one
 * instruction on the real CPU, in 64-bit user mode, with chosen register
 * and RFLAGS values, and capture the registers and RFLAGS after it.
 *
 * The instruction executes at a known address (so RIP-relative operands
 * mean the same natively and emulated) inside a small code buffer below
 * 2 GiB (so 32-bit addresses, from a 67 prefix, reach it as well).
 */
#ifndef TESTS_UNIT_EMU_NATIVE_H
#define TESTS_UNIT_EMU_NATIVE_H

#include <stdint.h>

/* Registers in encoding order (RAX RCX RDX RBX RSP RBP RSI RDI R8-R15)
 * and RFLAGS. */
struct native_regs {
    uint64_t gpr[16];
    uint64_t rflags;
};

/* Set up the code buffer (mmap'd once, below 2 GiB); returns its base.
 * The buffer is NATIVE_CODE_SIZE bytes; the instruction may be placed
 * anywhere in [NATIVE_INSN_MIN, NATIVE_INSN_MAX) of it, e.g. across the
 * page boundary at NATIVE_INSN_MIN + 0x1000. */
#define NATIVE_CODE_SIZE 0x4000
#define NATIVE_INSN_MIN  0x1000
#define NATIVE_INSN_MAX  0x3f00
uint8_t *native_init(void);

/* Execute the `len` bytes of `insn` at offset `pos` of the code buffer,
 * with registers and flags from *in, and fill *out.  RFLAGS in *in may set
 * only the status flags and DF. */
void native_run(const uint8_t *insn, unsigned len, unsigned pos, const struct native_regs *in,
                struct native_regs *out);

/* native_run() for an instruction that may fault: returns 0 when it ran
 * (with *out filled), or the signal the kernel turned its exception into:
 * SIGILL for #UD, SIGSEGV for #GP(0) (SIGBUS, SIGFPE for others).  The
 * signal is taken on a stack of its own, since the instruction runs with
 * the test's RSP. */
int native_try(const uint8_t *insn, unsigned len, unsigned pos, const struct native_regs *in,
               struct native_regs *out);

#endif
