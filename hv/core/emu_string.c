/*
 * emu_string.c - STOS, LODS and MOVS, alone or with REP: the forms drivers
 * use to fill or copy device memory (memset_io, memcpy_toio/fromio).
 *
 * They address memory through rSI (source, DS or an override) and rDI
 * (destination, always ES), step both by the operand size, forwards with
 * RFLAGS.DF = 0 and backwards with DF = 1, and with REP repeat while rCX
 * is not 0, counting it down.  rSI, rDI and rCX are the registers of the
 * address size: SI, DI, CX with 16 bits (SDM vol 2B
 * "MOVS/MOVSB/MOVSW/MOVSD/MOVSQ-Move Data From String to String", "STOS...", "LODS...",
 * "REP/REPE/REPZ/REPNE/REPNZ-Repeat String Operation Prefix").  For these
 * three instructions F2 repeats as F3 does.
 */
#include "emu_insn.h"

/* One iteration: the accesses, then the pointer registers (so that a
 * refused access leaves them on the element that faulted). */
static int iteration(struct emu_env *e, const struct emu_insn *in, uint64_t step)
{
    struct emu_cpu *c = e->cpu;
    unsigned sz = in->opsize, as = in->addrsize;
    uint64_t am = emu_mask(as), v;
    uint8_t src_seg = in->seg_override >= 0 ? (uint8_t)in->seg_override : EMU_DS;
    uint64_t src = emu_seg_la(c, src_seg, c->gpr[EMU_RSI] & am);
    uint64_t dst = emu_seg_la(c, EMU_ES, c->gpr[EMU_RDI] & am);
    switch (in->op) {
    case EMU_OP_STOS:
        if (emu_write(e, dst, sz, emu_get_reg(c, EMU_RAX, sz, true)) != 0)
            return -1;
        break;
    case EMU_OP_LODS:
        if (emu_read(e, src, sz, &v) != 0)
            return -1;
        emu_set_reg(c, EMU_RAX, sz, true, v);
        break;
    default:
        if (emu_read(e, src, sz, &v) != 0 || emu_write(e, dst, sz, v) != 0)
            return -1;
        break;
    }
    /* Only the address-size part of rSI/rDI moves (a 32-bit write
     * zero-extends, as every 32-bit register write does). */
    if (in->op != EMU_OP_STOS)
        emu_set_reg(c, EMU_RSI, as, true, c->gpr[EMU_RSI] + step);
    if (in->op != EMU_OP_LODS)
        emu_set_reg(c, EMU_RDI, as, true, c->gpr[EMU_RDI] + step);
    return 0;
}

int emu_exec_string(struct emu_env *e, const struct emu_insn *in)
{
    struct emu_cpu *c = e->cpu;
    uint64_t cm = emu_mask(in->addrsize);
    /* DF = 1 walks down (SDM vol 1 3.4.3.2 "DF Flag"). */
    uint64_t step = (c->rflags & EMU_DF) ? (uint64_t)0 - in->opsize : in->opsize;
    if (!in->rep)
        return iteration(e, in, step);
    /* With TF set the CPU takes the single-step trap after each iteration
     * (SDM vol 3B 18.3.1.4 "Single-Step Exception Condition"), so do one; otherwise up to
     * EMU_REP_MAX. */
    unsigned max = (c->rflags & EMU_TF) ? 1 : EMU_REP_MAX;
    for (unsigned i = 0; (c->gpr[EMU_RCX] & cm) != 0; i++) {
        /* Iterations left: RIP stays, the guest executes it again. */
        if (i == max)
            return 1;
        if (iteration(e, in, step) != 0)
            return -1;
        emu_set_reg(c, EMU_RCX, in->addrsize, true, c->gpr[EMU_RCX] - 1);
    }
    return 0;
}
