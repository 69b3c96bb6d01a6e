/*
 * emu_exec.c - carrying out one decoded instruction against its memory
 * operand, and emu_run(), the emulator's entry point (emu.h).
 *
 * Every form reads its memory operand (if it reads it) before it writes
 * anything, and changes registers and RFLAGS only once its memory accesses
 * have succeeded: a refused access (EMU_FAULT) leaves the emu_cpu as it
 * was, as a faulting instruction leaves the CPU.
 */
#include "klib.h"

#include "emu_insn.h"

/* BT, BTS, BTR, BTC on memory (SDM vol 2A "BT-Bit Test"): CF gets the
 * selected bit, and the other three set, clear or flip it.  A bit offset
 * from a register is signed and may reach outside the operand: the CPU
 * then addresses the operand-sized word that holds the bit, at EA +
 * size * (offset DIV bits).  An immediate offset is taken modulo the
 * operand's width.  ZF is unchanged; OF, SF, AF and PF are undefined and
 * hv leaves them unchanged too. */
static int exec_bt(struct emu_env *e, const struct emu_insn *in, uint64_t src)
{
    unsigned sz = in->opsize, bits = 8 * sz;
    /* log2(bits): 4, 5 or 6 (BT has no byte form). */
    unsigned shift = sz == 2 ? 4 : sz == 4 ? 5 : 6;
    int64_t extra = 0;
    uint64_t bit = src & (bits - 1);
    if (!in->has_imm) {
        /* An arithmetic shift rounds toward minus infinity, as DIV here
         * must for negative offsets. */
        int64_t off = (int64_t)emu_sext(src, sz);
        extra = (off >> shift) * (int64_t)sz;
    }
    uint64_t la = emu_operand_la(e->cpu, in, extra), m;
    if (emu_read(e, la, sz, &m) != 0)
        return -1;
    uint64_t mask = 1ull << bit, v = m;
    if (in->op == EMU_OP_BTS)
        v |= mask;
    else if (in->op == EMU_OP_BTR)
        v &= ~mask;
    else if (in->op == EMU_OP_BTC)
        v ^= mask;
    if (in->op != EMU_OP_BT && emu_write(e, la, sz, v) != 0)
        return -1;
    e->cpu->rflags = (e->cpu->rflags & ~(uint64_t)EMU_CF) | ((m & mask) ? EMU_CF : 0);
    return 0;
}

/* The arithmetic forms: op r/m, r / op r/m, imm (memory is the
 * destination), op r, r/m (the register is), and the one-operand INC,
 * DEC, NOT, NEG.  CMP and TEST only set flags. */
static int exec_alu(struct emu_env *e, const struct emu_insn *in, uint64_t la, uint64_t src)
{
    struct emu_cpu *c = e->cpu;
    unsigned sz = in->opsize;
    bool rex = in->rex != 0;
    uint64_t m, flags = c->rflags;
    if (emu_read(e, la, sz, &m) != 0)
        return -1;
    bool writes = in->op != EMU_OP_CMP && in->op != EMU_OP_TEST;
    if (in->mem_dst) {
        uint64_t r = emu_alu(in->op, sz, m, src, &flags);
        if (writes && emu_write(e, la, sz, r) != 0)
            return -1;
    } else {
        uint64_t r = emu_alu(in->op, sz, src, m, &flags);
        if (writes)
            emu_set_reg(c, in->reg, sz, rex, r);
    }
    c->rflags = flags;
    return 0;
}

int emu_exec_insn(struct emu_env *e, const struct emu_insn *in)
{
    struct emu_cpu *c = e->cpu;
    unsigned sz = in->opsize;
    bool rex = in->rex != 0;
    uint64_t la = emu_operand_la(c, in, 0), m;
    /* The other operand: the immediate, or the register ModRM.reg names
     * (its value is the source for stores; loads overwrite it). */
    uint64_t src = in->has_imm ? in->imm & emu_mask(sz) : emu_get_reg(c, in->reg, sz, rex);
    switch (in->op) {
    case EMU_OP_MOV:
        if (in->mem_dst)
            return emu_write(e, la, sz, src);
        if (emu_read(e, la, in->memsize, &m) != 0)
            return -1;
        emu_set_reg(c, in->reg, sz, rex, m);
        return 0;
    case EMU_OP_MOVZX:
    case EMU_OP_MOVSX:
        /* Read the narrower memory operand, widen it to the register. */
        if (emu_read(e, la, in->memsize, &m) != 0)
            return -1;
        if (in->op == EMU_OP_MOVSX)
            m = emu_sext(m, in->memsize);
        emu_set_reg(c, in->reg, sz, rex, m);
        return 0;
    case EMU_OP_XCHG:
        /* XCHG with memory: read the old value, store the register's,
         * the old value to the register (locked on the CPU; a device sees
         * a read then a write either way). */
        if (emu_read(e, la, sz, &m) != 0 || emu_write(e, la, sz, src) != 0)
            return -1;
        emu_set_reg(c, in->reg, sz, rex, m);
        return 0;
    case EMU_OP_BT:
    case EMU_OP_BTS:
    case EMU_OP_BTR:
    case EMU_OP_BTC:
        return exec_bt(e, in, src);
    }
    return exec_alu(e, in, la, src);
}

enum emu_status emu_run(struct emu_cpu *cpu, const struct emu_ops *ops, void *ctx,
                        struct emu_result *res)
{
    *res = (struct emu_result){.status = EMU_OK};
    if (cpu->mode != 16 && cpu->mode != 32 && cpu->mode != 64) {
        res->status = EMU_UNSUPPORTED;
        ksnprintf(res->reason, sizeof(res->reason), "no such code size: %u-bit", cpu->mode);
        return res->status;
    }
    /* The instruction is at CS:RIP (CS's base counts outside 64-bit
     * mode). */
    struct emu_fetcher f = {
        .ops = ops,
        .ctx = ctx,
        .la = emu_seg_la(cpu, EMU_CS, cpu->rip),
        .la_mask = cpu->mode == 64 ? ~0ull : 0xffffffffu,
        .res = res,
    };
    struct emu_insn in;
    if (emu_decode(cpu, &f, &in) != 0)
        return res->status;
    res->len = in.len;
    /* TF as it was when the instruction began decides the single-step
     * trap after it (SDM vol 3B 18.3.1.4 "Single-Step Exception
     * Condition"). */
    bool tf = (cpu->rflags & EMU_TF) != 0;
    struct emu_env e = {.cpu = cpu, .ops = ops, .ctx = ctx, .res = res};
    int r = in.op >= EMU_OP_STOS ? emu_exec_string(&e, &in) : emu_exec_insn(&e, &in);
    if (r < 0)
        return res->status;
    if (r == 0) {
        /* Done: RIP past the instruction.  IP and EIP wrap at 64 KiB and
         * 4 GiB outside 64-bit mode. */
        uint64_t next = cpu->rip + in.len;
        cpu->rip = cpu->mode == 64 ? next : next & emu_mask(cpu->mode / 8);
    }
    /* RF is cleared once an instruction completes (SDM vol 3B 18.3.1.1
     * "Instruction-Breakpoint Exception Condition"). */
    cpu->rflags &= ~(uint64_t)EMU_RF;
    res->single_step = tf;
    return res->status;
}
