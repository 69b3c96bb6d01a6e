/*
 * fuzz_emu.c - libFuzzer target for hv's MMIO instruction emulator
 * (hv/core/emu*.c).
 *
 * A guest chooses the bytes hv decodes, and every register and flag they
 * depend on; so each input is a complete situation:
 *
 *   byte 0        code size (bits 0-1: 16, 32, 64), DF (bit 2), TF (bit 3),
 *                 "the instruction's second page is unmapped" (bit 4), and
 *                 where RIP sits below a page end (bits 5-7)
 *   bytes 1-16    the instruction bytes (zeros follow them)
 *   bytes 17-     registers and segment bases, 8 bytes each, zero-padded;
 *                 a data access fails when its address has bit 13 equal to
 *                 byte 1's lowest bit, so faults happen mid-instruction
 *
 * Any crash, sanitizer report or hang is a bug; so is a callback asked for
 * an access that crosses a page or has a size outside 1-8, a result that
 * breaks emu.h's promises (RIP moved by other than the length, a status
 * without a reason), or a refusal after a device write.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/emu.h"

struct fuzz {
    uint8_t insn[16];
    uint64_t insn_la; /* where the instruction starts */
    bool second_unmapped;
    uint8_t fail_bit; /* data accesses with bit 13 == this fail */
    unsigned writes;
};

static void check(bool ok)
{
    if (!ok)
        __builtin_trap();
}

static int f_fetch(void *ctx, uint64_t la, uint8_t *buf, unsigned len)
{
    struct fuzz *z = ctx;
    /* emu.h: never across a page, never empty, never more than 15. */
    check(len >= 1 && len <= 15 && (la >> 12) == ((la + len - 1) >> 12));
    uint64_t off = la - z->insn_la;
    if (z->second_unmapped && (la >> 12) != (z->insn_la >> 12))
        return -1;
    /* Fetches stay within the 15 bytes after the instruction's start. */
    check(off < 15 && off + len <= 15);
    memcpy(buf, z->insn + off, len);
    return 0;
}

static int f_read(void *ctx, uint64_t la, unsigned size, uint64_t *val)
{
    struct fuzz *z = ctx;
    check(size >= 1 && size <= 8 && (la >> 12) == ((la + size - 1) >> 12));
    if (((la >> 13) & 1) == z->fail_bit)
        return -1;
    /* A value that depends on the address, as device registers do. */
    *val = (la * 0x9e3779b97f4a7c15ull) >> (64 - 8 * size);
    return 0;
}

static int f_write(void *ctx, uint64_t la, unsigned size, uint64_t val)
{
    struct fuzz *z = ctx;
    check(size >= 1 && size <= 8 && (la >> 12) == ((la + size - 1) >> 12));
    /* The value fits the size. */
    check(size == 8 || (val >> (8 * size)) == 0);
    if (((la >> 13) & 1) == z->fail_bit)
        return -1;
    z->writes++;
    return 0;
}

static const struct emu_ops fops = {f_fetch, f_read, f_write};

static uint64_t word(const uint8_t *data, size_t size, size_t at)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++)
        if (at + i < size)
            v |= (uint64_t)data[at + i] << (8 * i);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const unsigned modes[4] = {16, 32, 64, 64};
    struct fuzz z = {0};
    struct emu_cpu cpu = {.mode = modes[data[0] & 3]};
    memcpy(z.insn, data + 1, size - 1 < 16 ? size - 1 : 16);
    z.second_unmapped = data[0] & 0x10;
    z.fail_bit = size > 1 ? data[1] & 1 : 0;
    size_t at = 17;
    for (int r = 0; r < EMU_NREGS; r++, at += 8)
        cpu.gpr[r] = word(data, size, at);
    for (int s = 0; s < EMU_NSEGS; s++, at += 8)
        cpu.seg_base[s] = cpu.mode == 64 ? word(data, size, at) : (uint32_t)word(data, size, at);
    /* RIP a few bytes below a page end, so instructions cross it; CS's
     * base is where the code starts outside 64-bit mode. */
    cpu.rip = 0x1000 - 1 - (data[0] >> 5);
    if (cpu.mode != 64)
        cpu.seg_base[EMU_CS] = 0;
    z.insn_la = cpu.rip;
    cpu.rflags = 2 | ((data[0] & 4) ? EMU_DF : 0) | ((data[0] & 8) ? EMU_TF : 0);
    cpu.rflags |= word(data, size, at) & EMU_STATUS_FLAGS;

    struct emu_cpu before = cpu;
    struct emu_result res;
    enum emu_status st = emu_run(&cpu, &fops, &z, &res);
    check(st == res.status);
    /* The reason is a terminated string, present whenever it failed. */
    check(memchr(res.reason, 0, sizeof(res.reason)) != NULL);
    switch (st) {
    case EMU_OK:
        check(res.len >= 1 && res.len <= 15);
        /* RIP moved past the instruction, or stayed (a REP with
         * iterations left). */
        check(cpu.rip == before.rip || cpu.rip == before.rip + res.len);
        check(res.single_step == ((before.rflags & EMU_TF) != 0));
        break;
    case EMU_EXCEPTION:
        check(res.vector == 6 || res.vector == 13);
        /* fall through */
    case EMU_UNSUPPORTED:
        /* Refused before touching anything. */
        check(res.reason[0] && z.writes == 0 && memcmp(&cpu, &before, sizeof(cpu)) == 0);
        break;
    case EMU_FAULT:
        check(res.reason[0] && cpu.rip == before.rip);
        break;
    default:
        check(false);
    }
    return 0;
}
