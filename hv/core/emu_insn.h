/*
 * emu_insn.h - the emulator's own declarations, shared by its files (not
 * used by the rest of hv): the decoded form of one instruction, and the
 * steps emu_run() strings together.
 *
 *   emu_fetch.c   instruction bytes through the fetch callback
 *   emu_decode.c  prefixes, opcode, operand sizes -> struct emu_insn
 *   emu_modrm.c   the ModRM/SIB/displacement memory operand, its address
 *   emu_alu.c     the arithmetic and its RFLAGS
 *   emu_mem.c     register and memory operand access, split at pages
 *   emu_exec.c    carrying out one decoded instruction, and emu_run()
 *   emu_string.c  STOS, LODS, MOVS and REP
 *   emu_names.c   the names of the instructions hv refuses
 */
#ifndef HV_CORE_EMU_INSN_H
#define HV_CORE_EMU_INSN_H

#include <stdbool.h>
#include <stdint.h>

#include "emu.h"

/* The operations, numbered so that the eight arithmetic ones take the
 * values of their /digit in opcodes 80-83 and their row in 00-3F (SDM vol 2D
 * A.4 "Opcode Extensions for One- and Two-byte Opcodes", group 1). */
enum emu_op {
    EMU_OP_ADD,
    EMU_OP_OR,
    EMU_OP_ADC,
    EMU_OP_SBB,
    EMU_OP_AND,
    EMU_OP_SUB,
    EMU_OP_XOR,
    EMU_OP_CMP,
    EMU_OP_TEST,
    EMU_OP_INC,
    EMU_OP_DEC,
    EMU_OP_NOT,
    EMU_OP_NEG,
    EMU_OP_MOV,
    EMU_OP_MOVZX,
    EMU_OP_MOVSX,
    EMU_OP_XCHG,
    EMU_OP_BT,
    EMU_OP_BTS,
    EMU_OP_BTR,
    EMU_OP_BTC,
    EMU_OP_STOS,
    EMU_OP_LODS,
    EMU_OP_MOVS,
};

/* A memory operand as encoded: seg:[base + index * scale + disp], or
 * [RIP + disp] (SDM vol 2A 2.1.5 "Addressing-Mode Encoding of ModR/M and SIB Bytes", 2.2.1.6
 * "RIP-Relative Addressing"). */
struct emu_mem {
    int8_t base;  /* enum emu_reg, or -1 for none */
    int8_t index; /* enum emu_reg, or -1 for none */
    uint8_t scale;
    bool rip_rel;
    int64_t disp;
    uint8_t seg; /* the segment used: the default or the override */
};

/* One decoded instruction. */
struct emu_insn {
    uint8_t len;         /* bytes, prefixes included */
    uint8_t op;          /* enum emu_op */
    uint8_t opsize;      /* operand size in bytes: 1, 2, 4 or 8 */
    uint8_t memsize;     /* bytes read from memory: opsize, but 1 or 2 for
                            MOVZX/MOVSX and 4 for MOVSXD */
    uint8_t addrsize;    /* address size in bytes: 2, 4 or 8 */
    uint8_t rex;         /* the REX prefix, 0 without one */
    uint8_t rep;         /* 0xf3 (REP/REPE), 0xf2 (REPNE) or 0 */
    bool lock;           /* F0 */
    bool p66;            /* an operand-size prefix (66) was present */
    int8_t seg_override; /* enum emu_seg, or -1 */
    bool mem_dst;        /* the memory operand is the destination */
    bool has_imm;        /* the source is `imm`, not register `reg` */
    uint8_t reg;         /* the register operand, enum emu_reg */
    uint64_t imm;        /* the immediate, sign-extended to 64 bits */
    struct emu_mem mem;
    /* The opcode as encoded, for messages: one byte, or 0F and one. */
    bool twobyte;
    uint8_t opcode;
    uint8_t modrm;
    bool has_modrm;
};

/* Instruction bytes, fetched lazily page by page (emu_fetch.c). */
struct emu_fetcher {
    const struct emu_ops *ops;
    void *ctx;
    uint64_t la;      /* linear address of the first byte */
    uint64_t la_mask; /* 0xffffffff outside 64-bit mode: addresses wrap */
    uint8_t buf[15];  /* the longest instruction (SDM vol 2A 2.3.11 "AVX
                         Instruction Length": 15 bytes for every
                         instruction) */
    unsigned have;    /* bytes in buf */
    struct emu_result *res;
};

/* The byte at offset `i` of the instruction into *b: 0, or -1 with *res
 * filled (EMU_FAULT, or #GP when i reaches 15). */
int emu_fetch_byte(struct emu_fetcher *f, unsigned i, uint8_t *b);
/* `n` bytes (1, 2, 4 or 8) at offset `i`, little-endian, sign-extended to
 * 64 bits; *pos advances by n. */
int emu_fetch_signed(struct emu_fetcher *f, unsigned *pos, unsigned n, int64_t *v);

/* Decode the instruction at cpu->rip into *in: 0, or -1 with *res filled
 * (emu_decode.c). */
int emu_decode(const struct emu_cpu *cpu, struct emu_fetcher *f, struct emu_insn *in);

/* Decode the ModRM byte's memory operand that starts at *pos (the ModRM
 * byte itself): SIB and displacement, into in->mem and in->modrm; *pos
 * advances past them.  0, -1 on a failed fetch (emu_modrm.c). */
int emu_decode_modrm(const struct emu_cpu *cpu, struct emu_fetcher *f, unsigned *pos,
                     struct emu_insn *in);
/* The linear address of the memory operand, `extra` bytes further on
 * (BT's bit offset), wrapped to the address size and, outside 64-bit
 * mode, to 32 bits (emu_modrm.c). */
uint64_t emu_operand_la(const struct emu_cpu *cpu, const struct emu_insn *in, int64_t extra);
/* seg:offset as a linear address, for the string instructions. */
uint64_t emu_seg_la(const struct emu_cpu *cpu, unsigned seg, uint64_t offset);

/* The arithmetic of `op` on operands of `size` bytes; returns the result
 * (masked to size) and updates the status flags in *rflags as the CPU does
 * (emu_alu.c). */
uint64_t emu_alu(unsigned op, unsigned size, uint64_t a, uint64_t b, uint64_t *rflags);

/* All ones in the low `size` bytes. */
static inline uint64_t emu_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* `v`'s low `size` bytes, sign-extended to 64 bits. */
static inline uint64_t emu_sext(uint64_t v, unsigned size)
{
    /* Shift the operand's top bit to bit 63, then back arithmetically. */
    unsigned sh = 64 - 8 * size;
    return (uint64_t)((int64_t)(v << sh) >> sh);
}

/* Register operands (emu_mem.c).  `rex` matters for byte registers: 4-7
 * are AH, CH, DH, BH without any REX prefix and SPL, BPL, SIL, DIL with one
 * (SDM vol 2A 2.2.1.2 "More on REX Prefix Fields"). */
uint64_t emu_get_reg(const struct emu_cpu *cpu, unsigned reg, unsigned size, bool rex);
void emu_set_reg(struct emu_cpu *cpu, unsigned reg, unsigned size, bool rex, uint64_t val);

/* Memory operands through the callbacks, split at 4 KiB pages: 0, or -1
 * with *res filled (EMU_FAULT). */
struct emu_env {
    struct emu_cpu *cpu;
    const struct emu_ops *ops;
    void *ctx;
    struct emu_result *res;
};
int emu_read(struct emu_env *e, uint64_t la, unsigned size, uint64_t *val);
int emu_write(struct emu_env *e, uint64_t la, unsigned size, uint64_t val);

/* Carry out a decoded instruction: the string forms (emu_string.c), every
 * other form (emu_exec.c).  Return 0 when the instruction completed (RIP to
 * be advanced), 1 when a REP instruction has iterations left (RIP stays),
 * -1 on a fault. */
int emu_exec_string(struct emu_env *e, const struct emu_insn *in);
int emu_exec_insn(struct emu_env *e, const struct emu_insn *in);

/* Fill res->reason: "MMIO access by an instruction hv does not emulate:
 * 0f ae /7 (clflush)" for the opcode in `in` (emu_names.c). */
void emu_refuse(struct emu_result *res, const struct emu_insn *in, int reg);
/* Is this opcode a group whose ModRM.reg says which instruction it is (so
 * that a refusal must read the ModRM byte to name it)? */
bool emu_opcode_is_group(bool twobyte, uint8_t opcode);
/* Fill *res for an exception the CPU would raise, with a reason. */
void emu_exception(struct emu_result *res, uint8_t vector, const char *why);

#endif
