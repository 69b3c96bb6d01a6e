/*
 * emu_decode.c - from the bytes at RIP to a struct emu_insn: prefixes,
 * opcode, operand and address sizes, the memory operand (emu_modrm.c) and
 * the immediate.
 *
 * An instruction is: legacy prefixes, then in 64-bit mode an optional REX
 * byte, then one opcode byte (or 0F and a second), a ModRM byte with its
 * SIB and displacement, and an immediate (SDM vol 2A 2.1 "Instruction
 * Format for Protected Mode, Real-Address Mode, and Virtual-8086 Mode",
 * 2.2.1 "REX Prefixes").  Only the opcodes that can touch memory through
 * an operand hv emulates are accepted; the others are refused by name.
 */
#include "klib.h"

#include "emu_insn.h"

/* Legacy prefixes: read them all (a later one of the same group wins, as
 * on the CPU), and in 64-bit mode a REX byte, which counts only when the
 * opcode follows it directly (SDM vol 2A 2.2.1 "REX Prefixes": "Other
 * placements are ignored").  Returns the offset of the opcode, or -1. */
static int prefixes(const struct emu_cpu *cpu, struct emu_fetcher *f, struct emu_insn *in,
                    bool *opsize_prefix, bool *addrsize_prefix)
{
    /* SDM vol 2A 2.1.1 "Instruction Prefixes": segment overrides 26 2E 36
     * 3E 64 65 (ES CS SS DS FS GS), 66 operand size, 67 address size, F0
     * LOCK, F2 REPNE, F3 REP/REPE. */
    static const uint8_t seg_prefix[EMU_NSEGS] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};
    for (unsigned pos = 0;; pos++) {
        uint8_t b;
        if (emu_fetch_byte(f, pos, &b) != 0)
            return -1;
        bool legacy = true;
        if (b == 0x66)
            *opsize_prefix = true;
        else if (b == 0x67)
            *addrsize_prefix = true;
        else if (b == 0xf0)
            in->lock = true;
        else if (b == 0xf2 || b == 0xf3)
            in->rep = b;
        else {
            legacy = false;
            for (int s = 0; s < EMU_NSEGS; s++)
                if (b == seg_prefix[s]) {
                    in->seg_override = (int8_t)s;
                    legacy = true;
                }
        }
        if (legacy) {
            /* A REX byte followed by a legacy prefix is ignored. */
            in->rex = 0;
            continue;
        }
        if (cpu->mode == 64 && (b & 0xf0) == 0x40) {
            in->rex = b;
            continue;
        }
        return (int)pos;
    }
}

/* Operand and address sizes from the mode and the 66/67 prefixes (SDM vol
 * 1 3.6 "Operand-Size and Address-Size Attributes", 3.6.1 "Operand Size
 * and Address Size in 64-Bit Mode", table 3-4 "Effective Operand- and Address-Size Attributes in
 * 64-Bit Mode"): 66 and 67 switch between 16 and 32 bits; in 64-bit mode REX.W makes the operand 64
 * bits (and wins over 66), and 67 makes the address 32 bits. */
static void sizes(const struct emu_cpu *cpu, struct emu_insn *in, bool p66, bool p67)
{
    if (cpu->mode == 64) {
        in->opsize = (in->rex & 8) ? 8 : p66 ? 2 : 4;
        in->addrsize = p67 ? 4 : 8;
    } else if (cpu->mode == 32) {
        in->opsize = p66 ? 2 : 4;
        in->addrsize = p67 ? 2 : 4;
    } else {
        in->opsize = p66 ? 4 : 2;
        in->addrsize = p67 ? 4 : 2;
    }
}

/* The immediate of `n` bytes at *pos, sign-extended (an imm32 with a
 * 64-bit operand is sign-extended, SDM vol 2A 2.2.1.5 "Immediates"). */
static int imm(struct emu_fetcher *f, unsigned *pos, unsigned n, struct emu_insn *in)
{
    int64_t v;
    if (emu_fetch_signed(f, pos, n, &v) != 0)
        return -1;
    in->imm = (uint64_t)v;
    in->has_imm = true;
    return 0;
}

/* The size of an "Iz" immediate: 2 bytes with a 16-bit operand, else 4. */
static unsigned immz(const struct emu_insn *in)
{
    return in->opsize == 2 ? 2 : 4;
}

/* What each decoding function returns: the instruction is decoded, it is
 * one hv does not emulate, it is invalid (#UD), or a fetch failed. */
enum { DEC_OK, DEC_REFUSE, DEC_UD, DEC_FAIL };

/* The string instructions: no ModRM, operands at [rSI] and [rDI]. */
static int string_op(struct emu_insn *in, uint8_t op)
{
    /* A4/A5 MOVS, AA/AB STOS, AC/AD LODS; the even opcode is the byte
     * form. */
    if (op == 0xa4 || op == 0xa5)
        in->op = EMU_OP_MOVS;
    else if (op == 0xaa || op == 0xab)
        in->op = EMU_OP_STOS;
    else
        in->op = EMU_OP_LODS;
    if (!(op & 1))
        in->opsize = 1;
    in->memsize = in->opsize;
    return DEC_OK;
}

/* A0-A3: MOV between AL/eAX and a memory offset encoded in the instruction
 * in place of ModRM, as wide as the address size (SDM vol 2A 2.2.1.4
 * "Direct Memory-Offset MOVs"). */
static int moffs(struct emu_fetcher *f, unsigned *pos, struct emu_insn *in, uint8_t op)
{
    int64_t off;
    if (emu_fetch_signed(f, pos, in->addrsize, &off) != 0)
        return DEC_FAIL;
    in->op = EMU_OP_MOV;
    in->reg = EMU_RAX;
    if (!(op & 1))
        in->opsize = 1;
    in->mem_dst = op >= 0xa2;
    in->mem = (struct emu_mem){.base = -1, .index = -1, .scale = 1, .disp = off, .seg = EMU_DS};
    if (in->seg_override >= 0)
        in->mem.seg = (uint8_t)in->seg_override;
    return DEC_OK;
}

/* One-byte opcodes with a ModRM operand (ModRM already decoded; the
 * immediate, if any, is still to come at *pos).  SDM vol 2D A.3 "One,
 * Two, and Three-Byte Opcode Maps", table A-2 "One-byte Opcode Map". */
static int one_byte(const struct emu_cpu *cpu, struct emu_fetcher *f, unsigned *pos,
                    struct emu_insn *in, uint8_t op)
{
    unsigned ext = (in->modrm >> 3) & 7;
    /* Bit 0 of most of these opcodes is "w": 0 for the byte form. */
    if (!(op & 1))
        in->opsize = 1;
    if (op < 0x40 && (op & 7) < 4) {
        /* 00-3F, columns 0-3: op r/m,r (0, 1) and op r,r/m (2, 3); the
         * row is the operation (ADD OR ADC SBB AND SUB XOR CMP). */
        in->op = op >> 3;
        in->mem_dst = !(op & 2);
        return DEC_OK;
    }
    switch (op) {
    case 0x82:
        /* 82 is 80 again outside 64-bit mode, and invalid in it. */
        if (cpu->mode == 64)
            return DEC_UD;
        in->opsize = 1;
        /* fall through */
    case 0x80:
    case 0x81:
    case 0x83:
        /* Group 1: op r/m, imm; 83 is a full-size operation with a
         * sign-extended imm8. */
        in->op = (uint8_t)ext;
        in->mem_dst = true;
        return imm(f, pos, op == 0x81 ? immz(in) : 1, in) ? DEC_FAIL : DEC_OK;
    case 0x84:
    case 0x85:
        in->op = EMU_OP_TEST;
        in->mem_dst = true;
        return DEC_OK;
    case 0x86:
    case 0x87:
        in->op = EMU_OP_XCHG;
        in->mem_dst = true;
        return DEC_OK;
    case 0x88:
    case 0x89:
    case 0x8a:
    case 0x8b:
        in->op = EMU_OP_MOV;
        in->mem_dst = !(op & 2);
        return DEC_OK;
    case 0xc6:
    case 0xc7:
        /* Group 11: only /0 is MOV r/m, imm. */
        if (ext != 0)
            return DEC_UD;
        in->op = EMU_OP_MOV;
        in->mem_dst = true;
        return imm(f, pos, op == 0xc6 ? 1 : immz(in), in) ? DEC_FAIL : DEC_OK;
    case 0xf6:
    case 0xf7:
        /* Group 3: /0 (and its alias /1) TEST r/m, imm; /2 NOT; /3 NEG;
         * /4-/7 MUL, IMUL, DIV, IDIV are not emulated. */
        in->mem_dst = true;
        if (ext >= 4)
            return DEC_REFUSE;
        if (ext >= 2) {
            in->op = ext == 2 ? EMU_OP_NOT : EMU_OP_NEG;
            return DEC_OK;
        }
        in->op = EMU_OP_TEST;
        return imm(f, pos, op == 0xf6 ? 1 : immz(in), in) ? DEC_FAIL : DEC_OK;
    case 0xfe:
    case 0xff:
        /* Groups 4 and 5: /0 INC, /1 DEC; FE has nothing else, FF's
         * CALL, JMP and PUSH through memory are not emulated. */
        in->mem_dst = true;
        if (ext <= 1) {
            in->op = ext == 0 ? EMU_OP_INC : EMU_OP_DEC;
            return DEC_OK;
        }
        return (op == 0xfe || ext == 7) ? DEC_UD : DEC_REFUSE;
    case 0x63:
        /* MOVSXD r, r/m32 (64-bit mode only; ARPL elsewhere).  Without
         * REX.W it is a plain 32-bit (or 16-bit) MOV. */
        if (cpu->mode != 64)
            return DEC_REFUSE;
        in->op = (in->rex & 8) ? EMU_OP_MOVSX : EMU_OP_MOV;
        in->memsize = (in->rex & 8) ? 4 : in->opsize;
        return DEC_OK;
    }
    return DEC_REFUSE;
}

/* Two-byte opcodes 0F xx with a ModRM operand (SDM vol 2D table A-3 "Two-byte Opcode Map: 00H - 77H
 * (First Byte is 0FH)"). */
static int two_byte(struct emu_fetcher *f, unsigned *pos, struct emu_insn *in, uint8_t op)
{
    unsigned ext = (in->modrm >> 3) & 7;
    switch (op) {
    case 0xb6:
    case 0xb7:
    case 0xbe:
    case 0xbf:
        /* MOVZX / MOVSX r, r/m8 or r/m16. */
        in->op = op < 0xbe ? EMU_OP_MOVZX : EMU_OP_MOVSX;
        in->memsize = (op & 1) ? 2 : 1;
        return DEC_OK;
    case 0xc3:
        /* MOVNTI m32/m64, r: a store with a non-temporal hint, which
         * means nothing to a device.  With 66 it is invalid, REX.W or
         * not. */
        if (in->p66)
            return DEC_UD;
        in->op = EMU_OP_MOV;
        in->mem_dst = true;
        return DEC_OK;
    case 0xa3:
    case 0xab:
    case 0xb3:
    case 0xbb:
        /* BT, BTS, BTR, BTC r/m, r: bits 4:3 of the opcode pick which. */
        in->op = (uint8_t)(EMU_OP_BT + ((op >> 3) & 3));
        in->mem_dst = true;
        return DEC_OK;
    case 0xba:
        /* Group 8: /4-/7 BT, BTS, BTR, BTC r/m, imm8. */
        if (ext < 4)
            return DEC_UD;
        in->op = (uint8_t)(EMU_OP_BT + ext - 4);
        in->mem_dst = true;
        return imm(f, pos, 1, in) ? DEC_FAIL : DEC_OK;
    }
    return DEC_REFUSE;
}

/* May this instruction carry LOCK?  Only the read-modify-write forms with
 * a memory destination (SDM vol 2A "LOCK-Assert LOCK# Signal Prefix");
 * anything else raises #UD. */
static bool lock_ok(const struct emu_insn *in)
{
    if (!in->mem_dst)
        return false;
    switch (in->op) {
    case EMU_OP_ADD:
    case EMU_OP_OR:
    case EMU_OP_ADC:
    case EMU_OP_SBB:
    case EMU_OP_AND:
    case EMU_OP_SUB:
    case EMU_OP_XOR:
    case EMU_OP_INC:
    case EMU_OP_DEC:
    case EMU_OP_NOT:
    case EMU_OP_NEG:
    case EMU_OP_XCHG:
    case EMU_OP_BTS:
    case EMU_OP_BTR:
    case EMU_OP_BTC:
        return true;
    }
    return false;
}

/* The one-byte opcodes hv emulates that have a ModRM byte: the
 * arithmetic rows 00-3F (columns 0-3), 80-8B, MOVSXD 63, C6/C7 and the
 * groups F6/F7 and FE/FF. */
static bool modrm_form(uint8_t op)
{
    if (op < 0x40)
        return (op & 7) < 4;
    return (op >= 0x80 && op <= 0x8b) || op == 0x63 || op == 0xc6 || op == 0xc7 || op == 0xf6 ||
           op == 0xf7 || op == 0xfe || op == 0xff;
}

/* The same for 0F xx: MOVZX, MOVSX, MOVNTI, the BT family. */
static bool modrm_form_0f(uint8_t op)
{
    switch (op) {
    case 0xb6:
    case 0xb7:
    case 0xbe:
    case 0xbf:
    case 0xc3:
    case 0xa3:
    case 0xab:
    case 0xb3:
    case 0xbb:
    case 0xba:
        return true;
    }
    return false;
}

/* Opcode, ModRM and immediate after the prefixes. */
static int body(const struct emu_cpu *cpu, struct emu_fetcher *f, unsigned *pos,
                struct emu_insn *in)
{
    uint8_t op;
    if (emu_fetch_byte(f, (*pos)++, &op) != 0)
        return DEC_FAIL;
    if (op == 0x0f) {
        in->twobyte = true;
        if (emu_fetch_byte(f, (*pos)++, &op) != 0)
            return DEC_FAIL;
    }
    in->opcode = op;
    if (!in->twobyte && op >= 0xa0 && op <= 0xa3)
        return moffs(f, pos, in, op);
    if (!in->twobyte && (op == 0xa4 || op == 0xa5 || (op >= 0xaa && op <= 0xad)))
        return string_op(in, op);
    /* Every other form hv emulates has a ModRM byte; without one (or with
     * a three-byte opcode 0F 38 / 0F 3A) the instruction is not ours. */
    bool modrm_op = in->twobyte ? modrm_form_0f(op) : modrm_form(op);
    if (!modrm_op) {
        /* To name a refused group member ("0f ae /7"), read its ModRM. */
        if (emu_opcode_is_group(in->twobyte, op)) {
            if (emu_fetch_byte(f, *pos, &in->modrm) != 0)
                return DEC_FAIL;
            in->has_modrm = true;
        }
        return DEC_REFUSE;
    }
    if (emu_decode_modrm(cpu, f, pos, in) != 0)
        return DEC_FAIL;
    return in->twobyte ? two_byte(f, pos, in, op) : one_byte(cpu, f, pos, in, op);
}

int emu_decode(const struct emu_cpu *cpu, struct emu_fetcher *f, struct emu_insn *in)
{
    bool p66 = false, p67 = false;
    *in = (struct emu_insn){.seg_override = -1};
    int pos = prefixes(cpu, f, in, &p66, &p67);
    if (pos < 0)
        return -1;
    sizes(cpu, in, p66, p67);
    in->p66 = p66;
    unsigned p = (unsigned)pos;
    int r = body(cpu, f, &p, in);
    if (r == DEC_FAIL)
        return -1;
    /* Only now is the ModRM extension known for refusals of groups. */
    int ext = in->has_modrm ? (in->modrm >> 3) & 7 : -1;
    if (r == DEC_REFUSE) {
        emu_refuse(f->res, in, ext);
        return -1;
    }
    if (r == DEC_UD) {
        emu_exception(f->res, 6, "invalid encoding");
        return -1;
    }
    in->len = (uint8_t)p;
    if (!in->memsize)
        in->memsize = in->opsize;
    /* A register operand where the exit says memory: the bytes at RIP are
     * not what faulted (the guest changed them, or the access was
     * implicit, such as a page-table walk); hv does not guess. */
    if (in->has_modrm && (in->modrm >> 6) == 3) {
        ksnprintf(f->res->reason, sizeof(f->res->reason),
                  "MMIO access by an instruction without a memory operand (%s%02x /%d, mod 3)",
                  in->twobyte ? "0f " : "", in->opcode, ext);
        f->res->status = EMU_UNSUPPORTED;
        return -1;
    }
    if (in->lock && !lock_ok(in)) {
        emu_exception(f->res, 6, "LOCK prefix on an instruction that cannot be locked");
        return -1;
    }
    return 0;
}
