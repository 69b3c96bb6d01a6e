/*
 * emu_mem.c - the operands: general registers by encoding and size, and
 * memory through the caller's callbacks, split where an access crosses a
 * page.
 */
#include "klib.h"

#include "emu_insn.h"

uint64_t emu_get_reg(const struct emu_cpu *cpu, unsigned reg, unsigned size, bool rex)
{
    /* AH, CH, DH, BH: bits 15:8 of RAX, RCX, RDX, RBX, when no REX prefix
     * is present. */
    if (size == 1 && !rex && reg >= 4 && reg < 8)
        return (cpu->gpr[reg - 4] >> 8) & 0xff;
    return cpu->gpr[reg] & emu_mask(size);
}

void emu_set_reg(struct emu_cpu *cpu, unsigned reg, unsigned size, bool rex, uint64_t val)
{
    if (size == 1 && !rex && reg >= 4 && reg < 8) {
        uint64_t *r = &cpu->gpr[reg - 4];
        *r = (*r & ~0xff00ull) | ((val & 0xff) << 8);
        return;
    }
    /* A 32-bit result is zero-extended into the whole 64-bit register; an
     * 8- or 16-bit result leaves the other bits as they were (SDM vol 1
     * 3.4.1.1 "General-Purpose Registers in 64-Bit Mode"). */
    if (size == 4) {
        cpu->gpr[reg] = val & 0xffffffffu;
        return;
    }
    uint64_t m = emu_mask(size);
    cpu->gpr[reg] = (cpu->gpr[reg] & ~m) | (val & m);
}

/* Record a refused access in the result. */
static int fault(struct emu_env *e, uint64_t la, bool write)
{
    e->res->status = EMU_FAULT;
    e->res->fault_la = la;
    e->res->fault_write = write;
    ksnprintf(e->res->reason, sizeof(e->res->reason), "cannot %s %s linear address %#llx",
              write ? "write" : "read", write ? "to" : "from", (unsigned long long)la);
    return -1;
}

/* How an access of `size` bytes at `la` splits at a page boundary: the
 * bytes on the first page (all of them when it does not cross), and the
 * linear address where the second part starts (wrapping at 4 GiB outside
 * 64-bit mode). */
static unsigned first_part(const struct emu_cpu *cpu, uint64_t la, unsigned size, uint64_t *next)
{
    unsigned left = 4096 - (unsigned)(la & 0xfff);
    *next = la + left;
    if (cpu->mode != 64)
        *next &= 0xffffffffu;
    return left < size ? left : size;
}

/* The CPU performs an access that crosses a page boundary as separate
 * accesses to each page, each translated on its own (SDM vol 3A 4.1.1
 * "Four Paging Modes" translates per page); a device sees them as two
 * accesses of the sizes that fall on each side. */
int emu_read(struct emu_env *e, uint64_t la, unsigned size, uint64_t *val)
{
    uint64_t next, lo = 0, hi = 0;
    unsigned n = first_part(e->cpu, la, size, &next);
    if (e->ops->read(e->ctx, la, n, &lo) != 0)
        return fault(e, la, false);
    lo &= emu_mask(n);
    if (n < size) {
        if (e->ops->read(e->ctx, next, size - n, &hi) != 0)
            return fault(e, next, false);
        hi &= emu_mask(size - n);
    }
    /* n < size only when n < 8, so the shift is defined. */
    *val = n < size ? lo | (hi << (8 * n)) : lo;
    return 0;
}

int emu_write(struct emu_env *e, uint64_t la, unsigned size, uint64_t val)
{
    uint64_t next;
    unsigned n = first_part(e->cpu, la, size, &next);
    if (e->ops->write(e->ctx, la, n, val & emu_mask(n)) != 0)
        return fault(e, la, true);
    if (n < size && e->ops->write(e->ctx, next, size - n, (val >> (8 * n)) & emu_mask(size - n)))
        return fault(e, next, true);
    return 0;
}
