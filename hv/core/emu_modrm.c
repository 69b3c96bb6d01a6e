/*
 * emu_modrm.c - the memory operand of a ModRM instruction: decoding the
 * ModRM byte, the SIB byte and the displacement, and turning them into a
 * linear address with the guest's registers.
 *
 * ModRM is mod (bits 7:6), reg (5:3) and r/m (2:0).  mod = 3 names a
 * register; the other three name memory, in one of two schemes chosen by
 * the address size: 16-bit addressing, with its fixed pairs of base and
 * index registers, and 32/64-bit addressing, where r/m = 4 brings in a SIB
 * byte (scale, index, base) and REX.X/REX.B extend index and base to 16
 * registers (SDM vol 2A 2.1.5 "Addressing-Mode Encoding of ModR/M and SIB
 * Bytes", tables 2-1 "16-Bit Addressing Forms with the ModR/M Byte" to 2-3, and 2.2.1 "REX
 * Prefixes").
 */
#include "emu_insn.h"

/* 16-bit addressing, ModRM.r/m 0-7 -> base and index (SDM vol 2A table 2-1
 * "16-Bit Addressing Forms with the ModR/M Byte"): [BX+SI], [BX+DI],
 * [BP+SI], [BP+DI], [SI], [DI], [BP], [BX]. */
static const int8_t base16[8] = {EMU_RBX, EMU_RBX, EMU_RBP, EMU_RBP, -1, -1, EMU_RBP, EMU_RBX};
static const int8_t index16[8] = {EMU_RSI, EMU_RDI, EMU_RSI, EMU_RDI, EMU_RSI, EMU_RDI, -1, -1};

/* The 16-bit forms: no SIB, displacements of 8 or 16 bits. */
static int modrm16(struct emu_fetcher *f, unsigned *pos, unsigned mod, unsigned rm,
                   struct emu_mem *m)
{
    m->base = base16[rm];
    m->index = index16[rm];
    m->scale = 1;
    /* mod = 0 with r/m = 6 is not [BP] but a bare disp16. */
    if (mod == 0 && rm == 6) {
        m->base = -1;
        return emu_fetch_signed(f, pos, 2, &m->disp);
    }
    /* mod 1: disp8, mod 2: disp16, mod 0: none. */
    if (mod == 1)
        return emu_fetch_signed(f, pos, 1, &m->disp);
    if (mod == 2)
        return emu_fetch_signed(f, pos, 2, &m->disp);
    return 0;
}

/* The SIB byte (SDM vol 2A table 2-3 "32-Bit Addressing Forms with the SIB
 * Byte"): scale 1 << bits 7:6, index bits 5:3 (+REX.X), base bits 2:0
 * (+REX.B).  Returns whether a disp32 replaces the base. */
static int sib(struct emu_fetcher *f, unsigned *pos, unsigned mod, uint8_t rex, struct emu_mem *m,
               bool *no_base)
{
    uint8_t s;
    if (emu_fetch_byte(f, (*pos)++, &s) != 0)
        return -1;
    /* LAB 02: BEGIN sib (labs/02-second-level-paging, exercise 3) */
    /* LAB 02: HINT Split the SIB byte `s` into scale (bits 7:6, a factor of
     * 1, 2, 4 or 8), index (5:3) and base (2:0) and fill m->scale,
     * m->index and m->base; REX.X (rex bit 1) and REX.B (bit 0) are the
     * fourth bit of index and base.  Two special cases, SDM vol 2A table
     * 2-3 "32-Bit Addressing Forms with the SIB Byte" and table 2-5
     * "Special Cases of REX Encodings": an index of 100b without REX.X means no index (-1),
     * and a base of 101b with mod 0 means no base but a disp32
     * (*no_base), whatever REX.B says.  tests/unit/test_hv_emu.c checks
     * every combination against the CPU. */
    /* LAB 02: STUB (void)mod; */
    /* LAB 02: STUB (void)rex; */
    /* LAB 02: STUB (void)m; */
    /* LAB 02: STUB *no_base = false; */
    m->scale = (uint8_t)(1u << (s >> 6));
    /* Index 100b without REX.X means "no index": RSP cannot be an index.
     * With REX.X it is R12, which can. */
    unsigned idx = ((s >> 3) & 7) | ((rex & 2u) << 2);
    m->index = idx == EMU_RSP ? -1 : (int8_t)idx;
    m->base = (int8_t)((s & 7) | ((rex & 1u) << 3));
    /* Base 101b with mod = 0: no base register, a disp32 instead; REX.B
     * does not change this (SDM vol 2A table 2-5 "Special Cases of REX
     * Encodings": R13 needs mod 1 or 2 as RBP does). */
    *no_base = (s & 7) == 5 && mod == 0;
    /* LAB 02: END */
    return 0;
}

/* The 32- and 64-bit forms (SDM vol 2A table 2-2 "32-Bit Addressing Forms
 * with the ModR/M Byte"). */
static int modrm32(const struct emu_cpu *cpu, struct emu_fetcher *f, unsigned *pos, unsigned mod,
                   unsigned rm, uint8_t rex, struct emu_mem *m)
{
    bool disp32_only = false;
    m->index = -1;
    m->scale = 1;
    m->base = (int8_t)(rm | ((rex & 1u) << 3));
    if (rm == 4) {
        /* r/m 100b: a SIB byte follows (also with REX.B, for R12). */
        if (sib(f, pos, mod, rex, m, &disp32_only) != 0)
            return -1;
    } else if (mod == 0 && rm == 5) {
        /* r/m 101b with mod 0: a bare disp32, which 64-bit mode redefines
         * as RIP + disp32 (SDM vol 2A 2.2.1.6 "RIP-Relative Addressing");
         * REX.B does not matter here either. */
        disp32_only = true;
        m->rip_rel = cpu->mode == 64;
    }
    if (disp32_only) {
        m->base = -1;
        return emu_fetch_signed(f, pos, 4, &m->disp);
    }
    /* mod 1: disp8, mod 2: disp32, both sign-extended (SDM vol 2A 2.2.1.3
     * "Displacement"); mod 0: none. */
    if (mod == 1)
        return emu_fetch_signed(f, pos, 1, &m->disp);
    if (mod == 2)
        return emu_fetch_signed(f, pos, 4, &m->disp);
    return 0;
}

int emu_decode_modrm(const struct emu_cpu *cpu, struct emu_fetcher *f, unsigned *pos,
                     struct emu_insn *in)
{
    if (emu_fetch_byte(f, (*pos)++, &in->modrm) != 0)
        return -1;
    in->has_modrm = true;
    unsigned mod = in->modrm >> 6, rm = in->modrm & 7;
    /* ModRM.reg (+REX.R) is the register operand, or an opcode extension
     * the decoder reads from in->modrm. */
    in->reg = (uint8_t)(((in->modrm >> 3) & 7) | ((in->rex & 4u) << 1));
    struct emu_mem *m = &in->mem;
    *m = (struct emu_mem){.base = -1, .index = -1, .scale = 1};
    /* A register operand: nothing more to decode; the caller refuses it,
     * since such an instruction cannot have touched MMIO. */
    if (mod == 3)
        return 0;
    int r =
        in->addrsize == 2 ? modrm16(f, pos, mod, rm, m) : modrm32(cpu, f, pos, mod, rm, in->rex, m);
    if (r != 0)
        return -1;
    /* The default segment is SS when the base is rBP or rSP, DS otherwise
     * (SDM vol 1 3.7.5 "Specifying an Offset": "the stack segment ... when
     * the ESP or EBP register is used as the base"); R12/R13 use DS. */
    m->seg = (m->base == EMU_RBP || m->base == EMU_RSP) ? EMU_SS : EMU_DS;
    if (in->seg_override >= 0)
        m->seg = (uint8_t)in->seg_override;
    return 0;
}

uint64_t emu_seg_la(const struct emu_cpu *cpu, unsigned seg, uint64_t offset)
{
    /* 64-bit mode ignores the bases of CS, DS, ES and SS (SDM vol 3A 3.2.4
     * "Segmentation in IA-32e Mode"); FS and GS keep theirs. */
    if (cpu->mode == 64)
        return offset + ((seg == EMU_FS || seg == EMU_GS) ? cpu->seg_base[seg] : 0);
    /* Outside 64-bit mode linear addresses are 32 bits and wrap. */
    return (cpu->seg_base[seg] + offset) & 0xffffffffu;
}

uint64_t emu_operand_la(const struct emu_cpu *cpu, const struct emu_insn *in, int64_t extra)
{
    const struct emu_mem *m = &in->mem;
    uint64_t ea = (uint64_t)m->disp + (uint64_t)extra;
    if (m->base >= 0)
        ea += cpu->gpr[m->base];
    if (m->index >= 0)
        ea += cpu->gpr[m->index] * m->scale;
    /* RIP-relative: from the end of this instruction. */
    if (m->rip_rel)
        ea += cpu->rip + in->len;
    /* The sum wraps to the address size (SDM vol 1 3.3.7 "Address
     * Calculations in 64-Bit Mode": with a 32-bit address size the upper
     * 32 bits are zeroed; 16-bit addresses wrap at 64 KiB). */
    ea &= emu_mask(in->addrsize);
    return emu_seg_la(cpu, m->seg, ea);
}
