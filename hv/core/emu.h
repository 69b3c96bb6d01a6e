/*
 * emu.h - the x86 instruction emulator for MMIO accesses.
 *
 * When a guest touches a guest-physical address that belongs to a device
 * (a local APIC, a virtio-mmio window), the CPU leaves the guest with a
 * nested page fault (SVM) or an EPT violation (VT-x).  SVM says only which
 * address faulted, not what the instruction wanted to do there, so hv
 * decodes the instruction at the guest's RIP itself and carries it out:
 * reads and writes of the memory operand go to the device, registers and
 * RFLAGS change as the CPU would have changed them, RIP moves past it.
 *
 * The emulator knows nothing about hv: the caller describes the CPU in a
 * `struct emu_cpu` and gives callbacks that fetch instruction bytes and read
 * or write memory by linear address.  hv's core fills both from the vCPU
 * and routes each access to the MMIO bus or to guest RAM; the hosted unit
 * tests and the fuzz target fill them from buffers.  Compiled freestanding
 * and hosted (tests/unit/test_hv_emu.c, tests/fuzz/fuzz_emu.c).
 *
 * What it emulates (one memory operand, or the string forms):
 *   MOV r/m<->r, MOV r/m,imm, MOV A0-A3 (moffs), MOVNTI, MOVZX, MOVSX,
 *   MOVSXD, ADD/OR/ADC/SBB/AND/SUB/XOR/CMP (r/m,r  r,r/m  r/m,imm),
 *   TEST, XCHG, INC, DEC, NOT, NEG, BT/BTS/BTR/BTC, and STOS, LODS, MOVS
 *   with REP; with the legacy prefixes 66, 67, F2, F3, F0 and the segment
 *   overrides, and REX, in 16-, 32- and 64-bit code.
 * Anything else is refused by name (EMU_UNSUPPORTED) or, when the CPU
 * itself would refuse it, reported as the exception it would raise
 * (EMU_EXCEPTION: #UD for LOCK on MOV, #GP for more than 15 bytes).
 *
 * Not modelled: segment limits and access rights, alignment checks, and
 * page protection (the caller's callbacks see every access and may refuse).
 */
#ifndef HV_CORE_EMU_H
#define HV_CORE_EMU_H

#include <stdbool.h>
#include <stdint.h>

/* General registers in the order instructions encode them (ModRM.reg,
 * ModRM.r/m, SIB; SDM vol 2A 2.1.5 "Addressing-Mode Encoding of ModR/M and
 * SIB Bytes" and 2.2.1.2 "More on REX Prefix Fields"): not the order of
 * hv's struct gprs, which the caller maps. */
enum emu_reg {
    EMU_RAX,
    EMU_RCX,
    EMU_RDX,
    EMU_RBX,
    EMU_RSP,
    EMU_RBP,
    EMU_RSI,
    EMU_RDI,
    EMU_R8,
    EMU_R9,
    EMU_R10,
    EMU_R11,
    EMU_R12,
    EMU_R13,
    EMU_R14,
    EMU_R15,
    EMU_NREGS
};

/* Segment registers in their encoding order (SDM vol 2A 3.1.1.3
 * "Instruction Column in the Opcode Summary Table": Sreg ES=0 ... GS=5). */
enum emu_seg { EMU_ES, EMU_CS, EMU_SS, EMU_DS, EMU_FS, EMU_GS, EMU_NSEGS };

/* RFLAGS bits the emulator reads or writes (SDM vol 1 3.4.3 "EFLAGS
 * Register"). */
#define EMU_CF (1u << 0)
#define EMU_PF (1u << 2)
#define EMU_AF (1u << 4)
#define EMU_ZF (1u << 6)
#define EMU_SF (1u << 7)
#define EMU_TF (1u << 8)
#define EMU_DF (1u << 10)
#define EMU_OF (1u << 11)
#define EMU_RF (1u << 16)
/* The six status flags the arithmetic instructions define. */
#define EMU_STATUS_FLAGS (EMU_CF | EMU_PF | EMU_AF | EMU_ZF | EMU_SF | EMU_OF)

/*
 * The CPU as the emulator sees it; the caller fills it before emu_run() and
 * takes registers, RIP and RFLAGS back from it afterwards.
 */
struct emu_cpu {
    /* 16, 32 or 64: the code segment's default size.  64 when CS.L = 1 in
     * long mode, else 32 when CS.D = 1, else 16 (SDM vol 1 3.6.1 "Operand
     * Size and Address Size in 64-Bit Mode", vol 3A 3.4.5 "Segment
     * Descriptors"). */
    unsigned mode;
    /* General registers by encoding (enum emu_reg). */
    uint64_t gpr[EMU_NREGS];
    uint64_t rip;
    uint64_t rflags;
    /* Segment bases by enum emu_seg.  In 64-bit mode only FS and GS are
     * used (the others are treated as 0, SDM vol 3A 3.2.4 "Segmentation in
     * IA-32e Mode"). */
    uint64_t seg_base[EMU_NSEGS];
};

/*
 * The caller's side.  Every callback returns 0 on success and anything else
 * when the access cannot be done (an unmapped page, an address outside the
 * guest's memory); the emulator then stops with EMU_FAULT.
 */
struct emu_ops {
    /* Copy `len` instruction bytes at linear address `la` into `buf`.  A
     * request never crosses a 4 KiB page boundary: the emulator first asks
     * for the rest of the instruction's first page (at most 15 bytes), and
     * for bytes of the next page only when the instruction continues
     * there. */
    int (*fetch)(void *ctx, uint64_t la, uint8_t *buf, unsigned len);
    /* A data read or write of `size` bytes (1 to 8) at linear address `la`,
     * the value little-endian in the low bytes of *val / val.  An access
     * never crosses a 4 KiB page boundary (the emulator splits one that
     * would, as the CPU does); the caller translates `la` and sends it to
     * the MMIO device or to guest RAM. */
    int (*read)(void *ctx, uint64_t la, unsigned size, uint64_t *val);
    int (*write)(void *ctx, uint64_t la, unsigned size, uint64_t val);
};

enum emu_status {
    /* Done: registers, RIP and RFLAGS in the emu_cpu are the new state. */
    EMU_OK,
    /* The CPU would raise exception `vector` (6 #UD, 13 #GP) for this
     * encoding; nothing was accessed and the emu_cpu is unchanged. */
    EMU_EXCEPTION,
    /* A valid instruction hv does not emulate; `reason` names it. */
    EMU_UNSUPPORTED,
    /* A callback refused an access (`fault_la`, `fault_write`,
     * `fault_fetch`).  RIP is unchanged; a REP string instruction keeps
     * the iterations done before the fault, as the CPU does. */
    EMU_FAULT,
};

struct emu_result {
    enum emu_status status;
    /* EMU_EXCEPTION: the vector. */
    uint8_t vector;
    /* The instruction's length once decoded (0 if decoding failed). */
    uint8_t len;
    /* EMU_OK with RFLAGS.TF set at the start: the caller delivers the
     * single-step #DB trap (DR6.BS) a CPU would take after the instruction
     * (SDM vol 3B 18.3.1.4 "Single-Step Exception Condition"). */
    bool single_step;
    /* EMU_FAULT: where and how. */
    uint64_t fault_la;
    bool fault_write;
    bool fault_fetch;
    /* Every status but EMU_OK: one line saying why, e.g. "MMIO access by
     * an instruction hv does not emulate: 0f ae /7 (clflush)". */
    char reason[120];
};

/* A REP string instruction does at most this many iterations per call; if
 * the count is not exhausted RIP stays on the instruction, so the guest
 * re-executes it (and hv is back here at its next MMIO iteration).  This
 * bounds the time spent in one exit, and is what the CPU itself does when
 * it takes an interrupt between iterations (SDM vol 2B "REP/REPE/REPZ
 * /REPNE/REPNZ-Repeat String Operation Prefix"). */
#define EMU_REP_MAX 4096

/* Emulate the one instruction at cpu->rip.  Fills *res and returns its
 * status. */
enum emu_status emu_run(struct emu_cpu *cpu, const struct emu_ops *ops, void *ctx,
                        struct emu_result *res);

#endif
