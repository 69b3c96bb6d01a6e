/*
 * emu_alu.c - the arithmetic of the emulated instructions and the status
 * flags it leaves in RFLAGS, computed as the CPU computes them.
 *
 * The six status flags (SDM vol 1 3.4.3.1 "Status Flags"): CF, a carry out
 * of (or borrow into) the top bit; PF, an even number of 1 bits in the
 * result's low byte; AF, a carry out of (borrow into) bit 3; ZF, a zero
 * result; SF, the result's top bit; OF, a result that does not fit as a
 * signed number.  Each instruction's page in SDM vol 2 ("Flags Affected")
 * says which it sets; the logic instructions clear CF and OF and leave AF
 * undefined, which hv clears, as current processors do.
 *
 * Why an MMIO emulator needs arithmetic at all: a driver's "set bit 3 of
 * this register" is often compiled to a single OR or AND with a memory
 * operand, and a following conditional jump reads the flags it left.  A
 * wrong flag here would send the guest down the other branch with no
 * fault anywhere, the hardest kind of bug to trace, so the flags are
 * computed in full rather than only the result.
 */
#include "emu_insn.h"

/* PF: set when the low byte of the result has an even number of 1s. */
static bool parity_even(uint64_t r)
{
    unsigned b = (unsigned)(r & 0xff);
    /* Fold the byte onto itself until bit 0 holds the XOR of all bits. */
    b ^= b >> 4;
    b ^= b >> 2;
    b ^= b >> 1;
    return !(b & 1);
}

/* SF, ZF and PF, which depend on the result alone. */
static uint64_t szp(uint64_t r, unsigned size)
{
    /* The sign bit is the operand size's top bit, not bit 63: an 8-bit
     * OR of 0x80 is negative even though the 64-bit value is not. */
    uint64_t top = 1ull << (8 * size - 1);
    uint64_t f = 0;
    if (r & top)
        f |= EMU_SF;
    if (r == 0)
        f |= EMU_ZF;
    if (parity_even(r))
        f |= EMU_PF;
    return f;
}

/* a + b + carry, with every status flag: CF when the unsigned sum does not
 * fit, OF when both operands have the same sign and the result the other,
 * AF from bit 3 (the three operands' bits XORed give the carries). */
static uint64_t add(unsigned size, uint64_t a, uint64_t b, unsigned carry, uint64_t *flags)
{
    uint64_t m = emu_mask(size), top = 1ull << (8 * size - 1);
    uint64_t r = (a + b + carry) & m;
    *flags = szp(r, size);
    /* The sum wrapped: r is below a, or equal to it with a carry in and a
     * b of all ones. */
    if (r < a || (carry && r == a))
        *flags |= EMU_CF;
    if ((a ^ r) & (b ^ r) & top)
        *flags |= EMU_OF;
    if ((a ^ b ^ r) & 0x10)
        *flags |= EMU_AF;
    return r;
}

/* a - b - borrow (SUB, SBB, CMP, NEG, DEC): CF when b + borrow is larger
 * than a as unsigned numbers, OF when the operands' signs differ and the
 * result's sign is b's. */
static uint64_t sub(unsigned size, uint64_t a, uint64_t b, unsigned borrow, uint64_t *flags)
{
    uint64_t m = emu_mask(size), top = 1ull << (8 * size - 1);
    uint64_t r = (a - b - borrow) & m;
    *flags = szp(r, size);
    if (a < b || (borrow && a == b))
        *flags |= EMU_CF;
    /* Overflow in a subtraction: a and b had different signs, and the
     * result's sign differs from a's (a positive minus a negative came out
     * negative, or the other way round). */
    if ((a ^ b) & (a ^ r) & top)
        *flags |= EMU_OF;
    if ((a ^ b ^ r) & 0x10)
        *flags |= EMU_AF;
    return r;
}

uint64_t emu_alu(unsigned op, unsigned size, uint64_t a, uint64_t b, uint64_t *rflags)
{
    uint64_t m = emu_mask(size);
    unsigned cf = (*rflags & EMU_CF) ? 1 : 0;
    uint64_t f = 0, r;
    /* Which flags the instruction writes; the others keep their value. */
    uint64_t written = EMU_STATUS_FLAGS;
    /* The operands as the instruction's size sees them: the register file
     * holds whole 64-bit values, and stray high bits would spoil CF and
     * the comparisons. */
    a &= m;
    b &= m;
    switch (op) {
    case EMU_OP_ADD:
        r = add(size, a, b, 0, &f);
        break;
    case EMU_OP_ADC:
        r = add(size, a, b, cf, &f);
        break;
    /* CMP is SUB whose result the caller does not store (emu_exec.c),
     * which is the only difference between the two on the CPU too. */
    case EMU_OP_SUB:
    case EMU_OP_CMP:
        r = sub(size, a, b, 0, &f);
        break;
    case EMU_OP_SBB:
        r = sub(size, a, b, cf, &f);
        break;
    case EMU_OP_NEG:
        /* NEG is 0 - a: CF is set unless a is 0 (SDM vol 2B "NEG"). */
        r = sub(size, 0, a, 0, &f);
        break;
    case EMU_OP_INC:
        /* INC and DEC leave CF alone (SDM vol 2A "INC", "DEC"). */
        r = add(size, a, 1, 0, &f);
        written &= ~(uint64_t)EMU_CF;
        break;
    case EMU_OP_DEC:
        r = sub(size, a, 1, 0, &f);
        written &= ~(uint64_t)EMU_CF;
        break;
    case EMU_OP_NOT:
        /* NOT changes no flag. */
        r = ~a & m;
        written = 0;
        break;
    case EMU_OP_OR:
        r = a | b;
        f = szp(r, size);
        break;
    case EMU_OP_XOR:
        r = a ^ b;
        f = szp(r, size);
        break;
    default:
        /* AND and TEST: CF = OF = 0, AF cleared (undefined). */
        r = a & b;
        f = szp(r, size);
        break;
    }
    /* Only the status flags the instruction writes change; IF, DF, TF and
     * the rest of RFLAGS are never the ALU's to touch. */
    *rflags = (*rflags & ~written) | (f & written);
    return r;
}
