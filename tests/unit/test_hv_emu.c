/*
 * Unit tests for the MMIO instruction emulator (hv/core/emu*.c).
 *
 * The oracle is the CPU running these tests: each 64-bit case executes the
 * same bytes natively (emu_native.c) against an arena of ordinary memory,
 * and the emulator against a copy of that arena through its callbacks, with
 * the second half of the arena playing the device; registers, RFLAGS (the
 * flags the instruction defines) and every byte of the arena must come out
 * the same.  The cases cover every ModRM/SIB/displacement form with all 16
 * base and index registers (REX.B/REX.X), every emulated opcode at every
 * operand size (66, REX.W, byte registers with and without REX), 32-bit
 * addresses (67), RIP-relative and moffs operands, segment overrides,
 * string instructions with REP and DF = 0/1, and instructions and data that
 * cross a page.  16- and 32-bit code cannot run natively here, so those
 * cases check the addresses the emulator computes against SDM vol 2A table
 * 2-1 "16-Bit Addressing Forms with the ModR/M Byte"/2-2 worked out by hand.  Refusals, #UD/#GP and
 * faults are checked by status and message.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>

#include "core/emu.h"
#include "check_main.h"
#include "emu_native.h"

/* The arena: two pages of "RAM", then two pages of "device". */
#define ARENA_SIZE 0x4000
#define DEV_OFF    0x2000
static uint8_t *arena;             /* what the native run sees (below 2 GiB) */
static uint8_t shadow[ARENA_SIZE]; /* what the emulator's callbacks see */
static uint8_t initial[ARENA_SIZE];
static uint8_t *code;

/* A log of the emulator's device accesses. */
struct access {
    uint64_t la;
    unsigned size;
    int write;
    uint64_t val;
};
static struct access log_[64];
static unsigned nlog;
/* Fetch requests, to check that none crosses a page; and a page the fetch
 * callback refuses (0 = none). */
static unsigned nfetch;
static uint64_t refuse_fetch_page;

static uint64_t A(unsigned off)
{
    return (uint64_t)(uintptr_t)arena + off;
}

static int cb_fetch(void *ctx, uint64_t la, uint8_t *buf, unsigned len)
{
    (void)ctx;
    nfetch++;
    /* The emulator promises: never across a page. */
    ck_assert_uint_eq(la >> 12, (la + len - 1) >> 12);
    if (refuse_fetch_page && (la & ~0xfffull) == refuse_fetch_page)
        return -1;
    uint64_t c = (uint64_t)(uintptr_t)code;
    if (la < c || la + len > c + NATIVE_CODE_SIZE)
        return -1;
    memcpy(buf, (void *)(uintptr_t)la, len);
    return 0;
}

/* Data accesses: inside the arena they go to the shadow copy (and, in the
 * device half, to the log); anywhere else they are refused. */
static int cb_access(uint64_t la, unsigned size, int write, uint64_t *val)
{
    ck_assert(size >= 1 && size <= 8);
    ck_assert_uint_eq(la >> 12, (la + size - 1) >> 12);
    if (la < A(0) || la + size > A(ARENA_SIZE))
        return -1;
    uint8_t *p = shadow + (la - A(0));
    if (write)
        memcpy(p, val, size);
    else {
        *val = 0;
        memcpy(val, p, size);
    }
    if (la >= A(DEV_OFF) && nlog < 64)
        log_[nlog++] = (struct access){la, size, write, *val};
    return 0;
}

static int cb_read(void *ctx, uint64_t la, unsigned size, uint64_t *val)
{
    (void)ctx;
    return cb_access(la, size, 0, val);
}

static int cb_write(void *ctx, uint64_t la, unsigned size, uint64_t val)
{
    (void)ctx;
    return cb_access(la, size, 1, &val);
}

static const struct emu_ops ops = {cb_fetch, cb_read, cb_write};

/* A reproducible pseudo-random sequence (xorshift64). */
static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void setup(void)
{
    code = native_init();
    if (!arena) {
        void *p = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        ck_assert(p != MAP_FAILED);
        arena = p;
    }
    for (unsigned i = 0; i < ARENA_SIZE; i++)
        initial[i] = (uint8_t)rnd();
    nlog = nfetch = 0;
    refuse_fetch_page = 0;
}

/* One 64-bit case: bytes, where they go, registers and flags in. */
struct kase {
    uint8_t b[16];
    unsigned len;
    unsigned pos;
    struct native_regs in;
    /* Flags to compare (those the instruction defines, plus DF). */
    uint64_t flags;
    /* A REP string instruction with 32-bit addresses and ECX = 0: see
     * same_reg(). */
    bool zero_rep32;
};

/* Does register r as emulated (`emu`) match the native run (`nat`)?  Equal,
 * as a rule.  The one exception is a REP string instruction with 32-bit
 * addresses whose count ECX is 0: by the SDM's pseudo-code it writes
 * nothing (SDM vol 2B "REP/REPE/REPZ/REPNE/REPNZ-Repeat String Operation
 * Prefix", its Operation: "WHILE CountReg != 0"), and so hv's emulator
 * leaves RCX, RSI and RDI as they were; Intel CPUs, undocumented, write
 * ECX (and on recent ones ESI and EDI) all the same, which clears bits
 * 63:32 of the register.  Either is the machine's answer there. */
static bool same_reg(const struct kase *k, int r, uint64_t emu, uint64_t nat)
{
    if (emu == nat)
        return true;
    bool counted = r == 1 || r == 6 || r == 7;
    return k->zero_rep32 && counted && emu == k->in.gpr[r] && nat == (uint32_t)k->in.gpr[r];
}

static void describe(const struct kase *k, char *buf, size_t size)
{
    size_t n = 0;
    for (unsigned i = 0; i < k->len && n + 4 < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%02x ", k->b[i]);
}

/* Run `k` natively and emulated from the same arena, and compare. */
static void check_kase(const struct kase *k)
{
    char what[64] = "";
    describe(k, what, sizeof(what));
    memcpy(arena, initial, ARENA_SIZE);
    memcpy(shadow, initial, ARENA_SIZE);
    struct native_regs out;
    native_run(k->b, k->len, k->pos, &k->in, &out);

    struct emu_cpu cpu = {.mode = 64, .rip = (uint64_t)(uintptr_t)code + k->pos};
    memcpy(cpu.gpr, k->in.gpr, sizeof(cpu.gpr));
    cpu.rflags = k->in.rflags | 2;
    /* 64-bit mode ignores these bases; garbage proves it. */
    cpu.seg_base[EMU_DS] = cpu.seg_base[EMU_ES] = cpu.seg_base[EMU_SS] = 0x5000;
    cpu.seg_base[EMU_CS] = 0x7000;
    struct emu_result res;
    /* A REP string instruction may take several calls (EMU_REP_MAX). */
    for (int calls = 0; calls < 100; calls++) {
        uint64_t rip = cpu.rip;
        ck_assert_msg(emu_run(&cpu, &ops, NULL, &res) == EMU_OK, "%s: %s", what, res.reason);
        if (cpu.rip != rip)
            break;
    }
    ck_assert_msg(res.len == k->len, "%s: length %u", what, res.len);
    ck_assert_msg(cpu.rip == (uint64_t)(uintptr_t)code + k->pos + k->len, "%s: rip", what);
    for (int r = 0; r < 16; r++)
        if (!same_reg(k, r, cpu.gpr[r], out.gpr[r]))
            ck_abort_msg("%s: register %d emulated %#llx native %#llx", what, r,
                         (unsigned long long)cpu.gpr[r], (unsigned long long)out.gpr[r]);
    uint64_t m = k->flags | EMU_DF;
    ck_assert_msg((cpu.rflags & m) == (out.rflags & m),
                  "%s: rflags emulated %#llx native %#llx (compared %#llx)", what,
                  (unsigned long long)cpu.rflags, (unsigned long long)out.rflags,
                  (unsigned long long)m);
    /* Byte by byte only when they differ: each Check assertion costs. */
    if (memcmp(shadow, arena, ARENA_SIZE) != 0)
        for (unsigned i = 0; i < ARENA_SIZE; i++)
            ck_assert_msg(shadow[i] == arena[i], "%s: arena byte %#x emulated %#x native %#x", what,
                          i, shadow[i], arena[i]);
}

/* Small register values, so that any base/index combination with an
 * anchor stays inside the arena. */
static void small_regs(struct native_regs *r)
{
    for (int i = 0; i < 16; i++)
        r->gpr[i] = 8 * (uint64_t)i + (rnd() & 7);
    r->rflags = rnd() & EMU_STATUS_FLAGS;
}

/* Append a 32/64-bit-addressing memory operand [base + index*scale + disp]
 * with ModRM.reg = `reg` to k (SDM vol 2A tables 2-2 "32-Bit Addressing Forms with the ModR/M
 * Byte", 2-3), adding the REX bits it needs to *rex.  dsize 0, 1 or 4; base or index -1 for none;
 * sib forces a SIB byte.  Returns 0, or -1 if not encodable so. */
static int enc_mem(struct kase *k, unsigned reg, int base, int index, unsigned scale, int32_t disp,
                   unsigned dsize, int sib, uint8_t *rex)
{
    unsigned ss = scale == 8 ? 3 : scale == 4 ? 2 : scale == 2 ? 1 : 0;
    *rex |= (uint8_t)(((reg >> 3) << 2) | (index >= 8 ? 2 : 0) | (base >= 8 ? 1 : 0));
    if (index == 4)
        return -1;
    if (base < 0) {
        /* No base: SIB with base 101b and mod 00, disp32. */
        if (dsize != 4)
            return -1;
        k->b[k->len++] = (uint8_t)(0x04 | ((reg & 7) << 3));
        k->b[k->len++] = (uint8_t)((ss << 6) | (((index < 0 ? 4 : index) & 7) << 3) | 5);
    } else {
        unsigned mod = dsize == 0 ? 0 : dsize == 1 ? 1 : 2;
        if ((base & 7) == 5 && mod == 0)
            return -1;
        int need_sib = sib || index >= 0 || (base & 7) == 4;
        k->b[k->len++] = (uint8_t)((mod << 6) | ((reg & 7) << 3) | (need_sib ? 4 : (base & 7)));
        if (need_sib)
            k->b[k->len++] =
                (uint8_t)((ss << 6) | (((index < 0 ? 4 : index) & 7) << 3) | (base & 7));
        else if (index >= 0 || scale != 1)
            return -1;
    }
    memcpy(k->b + k->len, &disp, dsize);
    k->len += dsize;
    return 0;
}

/* Build `prefix... [REX] opcode... modrm...` into k.  The REX byte is
 * inserted once the operand has said which bits it needs. */
static int build(struct kase *k, const uint8_t *pre, unsigned npre, uint8_t rex, const uint8_t *op,
                 unsigned nop, unsigned reg, int base, int index, unsigned scale, int32_t disp,
                 unsigned dsize, int sib)
{
    struct kase t = {0};
    if (enc_mem(&t, reg, base, index, scale, disp, dsize, sib, &rex) != 0)
        return -1;
    k->len = 0;
    memcpy(k->b, pre, npre);
    k->len = npre;
    if (rex)
        k->b[k->len++] = (uint8_t)(0x40 | rex);
    memcpy(k->b + k->len, op, nop);
    k->len += nop;
    memcpy(k->b + k->len, t.b, t.len);
    k->len += t.len;
    return 0;
}

/* Every addressing form: base none/0-15, index none/0-15 (not RSP),
 * scales 1-8, displacements none/8/32 bits, with and without a redundant
 * SIB, for a store and a load and an add (the three shapes: write, read,
 * read-modify-write), and with 67 for 32-bit addresses. */
START_TEST(every_addressing_form)
{
    static const uint8_t store[] = {0x89}, load[] = {0x8b}, add8[] = {0x00};
    const uint8_t *ops_[] = {store, load, add8};
    unsigned count = 0;
    for (int a32 = 0; a32 < 2; a32++)
        for (int base = -1; base < 16; base++)
            for (int index = -1; index < 16; index++)
                for (unsigned scale = 1; scale <= 8; scale *= 2) {
                    if (index < 0 && scale != 1)
                        continue;
                    for (unsigned dsize = 0; dsize <= 4; dsize += (dsize ? 3 : 1))
                        for (int sib = 0; sib < 2; sib++) {
                            struct kase k = {.pos = 0x1800};
                            small_regs(&k.in);
                            unsigned reg = (unsigned)(rnd() & 15);
                            int o = (int)(rnd() % 3);
                            /* Put the operand at the device page's middle:
                             * through the base register when there is one
                             * of its own, else through a disp32. */
                            uint64_t target = A(DEV_OFF + 0x800);
                            int32_t disp = dsize == 1 ? (int32_t)(int8_t)rnd() : 0x123;
                            int anchored_in_base = base >= 0 && base != index;
                            if (!anchored_in_base) {
                                if (dsize != 4)
                                    continue;
                                disp = (int32_t)target;
                            }
                            uint8_t rex = o == 0 ? 0x48 : 0;
                            uint8_t pre = 0x67;
                            if (build(&k, &pre, (unsigned)a32, rex, ops_[o], 1, reg, base, index,
                                      scale, disp, dsize, sib) != 0)
                                continue;
                            if (anchored_in_base) {
                                k.in.gpr[base] = target - (uint64_t)(int64_t)disp;
                                /* With 32-bit addresses the upper half is
                                 * ignored: fill it with garbage. */
                                if (a32)
                                    k.in.gpr[base] |= rnd() << 32;
                            }
                            k.flags = EMU_STATUS_FLAGS;
                            check_kase(&k);
                            count++;
                        }
                }
    /* Enough forms really ran (a bug in the generator would skip them). */
    ck_assert_uint_gt(count, 3000);
}
END_TEST

/* Values that make the flags interesting at each size. */
static uint64_t edge(unsigned i)
{
    static const uint64_t v[] = {0,
                                 1,
                                 0x7f,
                                 0x80,
                                 0xff,
                                 0x7fff,
                                 0x8000,
                                 0xffff,
                                 0x7fffffff,
                                 0x80000000,
                                 0xffffffff,
                                 0x7fffffffffffffffull,
                                 0x8000000000000000ull,
                                 ~0ull,
                                 0x0f,
                                 0x10};
    return i < 16 ? v[i] : rnd();
}

/* One opcode shape: bytes after the prefixes, whether it has a ModRM
 * /digit in `ext`, the size of its immediate (-1: by operand size, 2 or 4),
 * and the flags it defines. */
struct shape {
    uint8_t op[2];
    unsigned nop;
    int ext; /* -1: ModRM.reg is a register */
    int imm; /* 0, 1, or -1 for Iz */
    uint64_t flags;
    int no16; /* no 16-bit operand size (MOVNTI) */
};

#define LOGIC (EMU_CF | EMU_PF | EMU_ZF | EMU_SF | EMU_OF)
#define ARITH EMU_STATUS_FLAGS

static const struct shape shapes[] = {
    /* 00-3B: the eight operations, both directions, byte and full. */
    {{0x00}, 1, -1, 0, ARITH, 0},
    {{0x01}, 1, -1, 0, ARITH, 0},
    {{0x02}, 1, -1, 0, ARITH, 0},
    {{0x03}, 1, -1, 0, ARITH, 0},
    {{0x08}, 1, -1, 0, LOGIC, 0},
    {{0x09}, 1, -1, 0, LOGIC, 0},
    {{0x0a}, 1, -1, 0, LOGIC, 0},
    {{0x0b}, 1, -1, 0, LOGIC, 0},
    {{0x10}, 1, -1, 0, ARITH, 0},
    {{0x11}, 1, -1, 0, ARITH, 0},
    {{0x12}, 1, -1, 0, ARITH, 0},
    {{0x13}, 1, -1, 0, ARITH, 0},
    {{0x18}, 1, -1, 0, ARITH, 0},
    {{0x19}, 1, -1, 0, ARITH, 0},
    {{0x1a}, 1, -1, 0, ARITH, 0},
    {{0x1b}, 1, -1, 0, ARITH, 0},
    {{0x20}, 1, -1, 0, LOGIC, 0},
    {{0x21}, 1, -1, 0, LOGIC, 0},
    {{0x22}, 1, -1, 0, LOGIC, 0},
    {{0x23}, 1, -1, 0, LOGIC, 0},
    {{0x28}, 1, -1, 0, ARITH, 0},
    {{0x29}, 1, -1, 0, ARITH, 0},
    {{0x2a}, 1, -1, 0, ARITH, 0},
    {{0x2b}, 1, -1, 0, ARITH, 0},
    {{0x30}, 1, -1, 0, LOGIC, 0},
    {{0x31}, 1, -1, 0, LOGIC, 0},
    {{0x32}, 1, -1, 0, LOGIC, 0},
    {{0x33}, 1, -1, 0, LOGIC, 0},
    {{0x38}, 1, -1, 0, ARITH, 0},
    {{0x39}, 1, -1, 0, ARITH, 0},
    {{0x3a}, 1, -1, 0, ARITH, 0},
    {{0x3b}, 1, -1, 0, ARITH, 0},
    /* Group 1 with each /digit is added by the test; TEST, XCHG, MOV. */
    {{0x84}, 1, -1, 0, LOGIC, 0},
    {{0x85}, 1, -1, 0, LOGIC, 0},
    {{0x86}, 1, -1, 0, 0, 0},
    {{0x87}, 1, -1, 0, 0, 0},
    {{0x88}, 1, -1, 0, 0, 0},
    {{0x89}, 1, -1, 0, 0, 0},
    {{0x8a}, 1, -1, 0, 0, 0},
    {{0x8b}, 1, -1, 0, 0, 0},
    {{0xc6}, 1, 0, 1, 0, 0},
    {{0xc7}, 1, 0, -1, 0, 0},
    {{0xf6}, 1, 0, 1, LOGIC, 0},
    {{0xf6}, 1, 1, 1, LOGIC, 0},
    {{0xf6}, 1, 2, 0, 0, 0},
    {{0xf6}, 1, 3, 0, ARITH, 0},
    {{0xf7}, 1, 0, -1, LOGIC, 0},
    {{0xf7}, 1, 1, -1, LOGIC, 0},
    {{0xf7}, 1, 2, 0, 0, 0},
    {{0xf7}, 1, 3, 0, ARITH, 0},
    {{0xfe}, 1, 0, 0, ARITH, 0},
    {{0xfe}, 1, 1, 0, ARITH, 0},
    {{0xff}, 1, 0, 0, ARITH, 0},
    {{0xff}, 1, 1, 0, ARITH, 0},
    {{0x63}, 1, -1, 0, 0, 0},
    {{0x0f, 0xb6}, 2, -1, 0, 0, 0},
    {{0x0f, 0xb7}, 2, -1, 0, 0, 0},
    {{0x0f, 0xbe}, 2, -1, 0, 0, 0},
    {{0x0f, 0xbf}, 2, -1, 0, 0, 0},
    {{0x0f, 0xc3}, 2, -1, 0, 0, 1},
    {{0x0f, 0xba}, 2, 4, 1, EMU_CF | EMU_ZF, 0},
    {{0x0f, 0xba}, 2, 5, 1, EMU_CF | EMU_ZF, 0},
    {{0x0f, 0xba}, 2, 6, 1, EMU_CF | EMU_ZF, 0},
    {{0x0f, 0xba}, 2, 7, 1, EMU_CF | EMU_ZF, 0},
};

/* Set while lock_prefix_on_rmw_forms runs. */
static int with_lock;

/* Run one shape at one operand-size prefix choice with several values. */
static void run_shape(const struct shape *s, const uint8_t *op, int ext, int imm, uint64_t flags,
                      unsigned size_choice, unsigned rounds)
{
    /* size_choice: 0 none, 1 = 66, 2 = REX.W, 3 = 66 + REX.W, 4 = REX
     * 0x40 (byte registers SPL..DIL), 5 = 66 with LOCK-free segment
     * override DS. */
    uint8_t pre[3];
    unsigned npre = 0;
    uint8_t rex = 0;
    if (size_choice == 1 || size_choice == 3)
        pre[npre++] = 0x66;
    if (size_choice == 5) {
        pre[npre++] = 0x3e;
        pre[npre++] = 0x66;
    }
    /* A LOCK prefix for lock_prefix_on_rmw_forms (the REX byte must
     * follow it, so it goes with the prefixes). */
    if (with_lock)
        pre[npre++] = 0xf0;
    if (size_choice == 2 || size_choice == 3)
        rex = 0x48;
    if (size_choice == 4)
        rex = 0x40;
    if (s->no16 && (size_choice == 1 || size_choice == 3 || size_choice == 5))
        return;
    for (unsigned round = 0; round < rounds; round++) {
        struct kase k = {.pos = 0x2000 + (unsigned)(rnd() % 0x100)};
        small_regs(&k.in);
        unsigned reg = ext >= 0 ? (unsigned)ext : (unsigned)(rnd() & 15);
        /* Without REX, registers 8-15 would need one: stay in 0-7. */
        if (ext < 0 && !rex)
            reg &= 7;
        /* [RBX + disp8] or [R9 + R10*4 + disp32] in the device half. */
        int b = (round & 1) ? 9 : 3, x = (round & 1) ? 10 : -1;
        /* BT's bit offset register must not be the address's. */
        int bt_reg = s->nop == 2 && (op[1] & 0xe7) == 0xa3;
        if (bt_reg && ((int)reg == b || (int)reg == x))
            reg = 0;
        unsigned scale = x >= 0 ? 4 : 1, dsize = (round & 1) ? 4 : 1;
        int32_t disp = (round & 1) ? 0x44 : -8;
        if (build(&k, pre, npre, rex, op, s->nop, reg, b, x, scale, disp, dsize, 0) != 0)
            ck_abort_msg("unencodable");
        uint64_t target = A(DEV_OFF + 0x600 + (unsigned)(rnd() % 0x400));
        if (x >= 0)
            k.in.gpr[x] = rnd() & 0x3f;
        k.in.gpr[b] = target - (uint64_t)(int64_t)disp - (x >= 0 ? k.in.gpr[x] * scale : 0);
        /* The register operand and the memory value: edge values first. */
        if (ext < 0 && (unsigned)reg != (unsigned)b && (unsigned)reg != (unsigned)x)
            k.in.gpr[reg] = edge(round / 2 % 20);
        /* BT with a register offset: small offsets either side. */
        if (bt_reg)
            k.in.gpr[reg] = (uint64_t)((int64_t)(rnd() % 400) - 150);
        uint64_t mv = edge((round + 7) % 20);
        memcpy(initial + (target - A(0)), &mv, 8);
        /* The immediate. */
        int n = imm == -1 ? ((size_choice == 1 || size_choice == 5) ? 2 : 4) : imm;
        uint64_t iv = edge(round % 20) ^ (round > 20 ? rnd() : 0);
        memcpy(k.b + k.len, &iv, (size_t)n);
        k.len += (unsigned)n;
        k.in.rflags = rnd() & EMU_STATUS_FLAGS;
        k.flags = flags;
        check_kase(&k);
    }
}

START_TEST(every_opcode_and_size)
{
    for (unsigned i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        const struct shape *s = &shapes[i];
        for (unsigned sc = 0; sc < 6; sc++) {
            uint8_t op[2] = {s->op[0], s->op[1]};
            /* MOVSXD only counts with REX.W; it is MOV without. */
            run_shape(s, op, s->ext, s->imm, s->flags, sc, 40);
        }
    }
    /* Group 1 (80, 81, 83) with each of the eight operations. */
    static const uint8_t g1[] = {0x80, 0x81, 0x83};
    for (unsigned g = 0; g < 3; g++)
        for (int ext = 0; ext < 8; ext++) {
            struct shape s = {{g1[g]}, 1, ext, g1[g] == 0x81 ? -1 : 1, 0, 0};
            uint64_t f = (ext == 1 || ext == 4 || ext == 6) ? LOGIC : ARITH;
            for (unsigned sc = 0; sc < 6; sc++)
                run_shape(&s, s.op, ext, s.imm, f, sc, 40);
        }
    /* BT, BTS, BTR, BTC with a register offset. */
    static const uint8_t bt[] = {0xa3, 0xab, 0xb3, 0xbb};
    for (unsigned i = 0; i < 4; i++) {
        struct shape s = {{0x0f, bt[i]}, 2, -1, 0, EMU_CF | EMU_ZF, 0};
        for (unsigned sc = 0; sc < 6; sc++)
            run_shape(&s, s.op, -1, 0, s.flags, sc, 40);
    }
}
END_TEST

/* LOCK on each read-modify-write form that allows it: the same result. */
START_TEST(lock_prefix_on_rmw_forms)
{
    static const uint8_t lockable[] = {0x00, 0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31, 0x86, 0x87};
    with_lock = 1;
    for (unsigned i = 0; i < sizeof(lockable); i++) {
        unsigned row = lockable[i] >> 3;
        uint64_t f = lockable[i] >= 0x80 ? 0 : (row == 1 || row == 4 || row == 6) ? LOGIC : ARITH;
        struct shape s = {{lockable[i]}, 1, -1, 0, f, 0};
        for (unsigned sc = 0; sc < 6; sc++)
            run_shape(&s, s.op, -1, 0, f, sc, 10);
    }
    /* And the group forms: NOT, NEG, INC, DEC, BTS with an immediate. */
    static const struct shape g[] = {
        {{0xf7}, 1, 2, 0, 0, 0},
        {{0xf7}, 1, 3, 0, ARITH, 0},
        {{0xff}, 1, 0, 0, ARITH, 0},
        {{0xfe}, 1, 1, 0, ARITH, 0},
        {{0x83}, 1, 5, 1, ARITH, 0},
        {{0x0f, 0xba}, 2, 5, 1, EMU_CF | EMU_ZF, 0},
        {{0x0f, 0xbb}, 2, -1, 0, EMU_CF | EMU_ZF, 0},
    };
    for (unsigned i = 0; i < sizeof(g) / sizeof(g[0]); i++)
        for (unsigned sc = 0; sc < 6; sc++)
            run_shape(&g[i], g[i].op, g[i].ext, g[i].imm, g[i].flags, sc, 10);
    with_lock = 0;
}
END_TEST

/* RIP-relative operands, relative to the end of the instruction: a load, a
 * store with an immediate after the displacement (so the end is not where
 * the displacement ends), and 67 (EIP-relative, truncated to 32 bits). */
START_TEST(rip_relative)
{
    static const struct {
        uint8_t pre[3];
        unsigned npre;
        uint8_t op;
        unsigned imm;
    } forms[] = {
        {{0x48}, 1, 0x8b, 0},       {{0}, 0, 0x89, 0}, {{0x48}, 1, 0xc7, 4},
        {{0x66}, 1, 0xc7, 2},       {{0}, 0, 0x80, 1}, {{0x67}, 1, 0x8b, 0},
        {{0x67, 0x48}, 2, 0x81, 4}, {{0}, 0, 0xf6, 1},
    };
    for (unsigned i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        for (unsigned round = 0; round < 8; round++) {
            struct kase k = {.pos = 0x1400 + 13 * round};
            small_regs(&k.in);
            memcpy(k.b, forms[i].pre, forms[i].npre);
            k.len = forms[i].npre;
            k.b[k.len++] = forms[i].op;
            /* mod 00, reg = round (a /digit for 80/81/c7/f6, a register
             * otherwise), r/m 101. */
            unsigned reg = forms[i].op == 0xc7 ? 0 : forms[i].op == 0xf6 ? 0 : round;
            k.b[k.len++] = (uint8_t)(0x05 | (reg << 3));
            unsigned end = k.len + 4 + forms[i].imm;
            uint64_t target = A(DEV_OFF + 0x100 + 8 * round);
            int32_t disp = (int32_t)(target - ((uint64_t)(uintptr_t)code + k.pos + end));
            memcpy(k.b + k.len, &disp, 4);
            k.len += 4;
            uint64_t iv = rnd();
            memcpy(k.b + k.len, &iv, forms[i].imm);
            k.len += forms[i].imm;
            k.flags = EMU_STATUS_FLAGS & ~(uint64_t)EMU_AF;
            check_kase(&k);
        }
}
END_TEST

/* A0-A3: MOV AL/AX/EAX/RAX <-> [moffs64], and [moffs32] with 67. */
START_TEST(moffs_forms)
{
    for (uint8_t op = 0xa0; op <= 0xa3; op++)
        for (unsigned variant = 0; variant < 5; variant++) {
            struct kase k = {.pos = 0x1a00};
            small_regs(&k.in);
            k.in.gpr[0] = rnd();
            k.len = 0;
            unsigned osize = 8;
            if (variant == 1)
                k.b[k.len++] = 0x66;
            if (variant == 2)
                k.b[k.len++] = 0x48;
            if (variant == 3) {
                k.b[k.len++] = 0x67;
                osize = 4;
            }
            if (variant == 4)
                k.b[k.len++] = 0x3e; /* DS: ignored in 64-bit mode */
            k.b[k.len++] = op;
            uint64_t target = A(DEV_OFF + 0x300 + variant * 16 + (op & 3));
            memcpy(k.b + k.len, &target, osize);
            k.len += osize;
            check_kase(&k);
        }
}
END_TEST

/* STOS, LODS, MOVS: byte to quad, with and without REP (F3, and F2, which
 * repeats these the same), DF = 0 and 1, 64- and 32-bit addresses (67,
 * with garbage above bit 31 of RSI/RDI/RCX), from RAM to the device and
 * back. */
START_TEST(string_instructions)
{
    static const uint8_t opc[] = {0xaa, 0xab, 0xac, 0xad, 0xa4, 0xa5};
    for (unsigned o = 0; o < sizeof(opc); o++)
        for (unsigned variant = 0; variant < 48; variant++) {
            struct kase k = {.pos = 0x2200};
            small_regs(&k.in);
            unsigned rep = variant % 3, df = (variant / 3) % 2, a32 = (variant / 6) % 2;
            unsigned size = (variant / 12) % 4; /* 0 none, 1: 66, 2: REX.W, 3: byte form */
            k.len = 0;
            if (a32)
                k.b[k.len++] = 0x67;
            if (rep)
                k.b[k.len++] = rep == 1 ? 0xf3 : 0xf2;
            if (size == 1)
                k.b[k.len++] = 0x66;
            if (size == 2)
                k.b[k.len++] = 0x48;
            k.b[k.len++] = opc[o];
            /* Source in RAM, destination in the device (or the other way
             * round for odd variants); in the middle of their halves so
             * that 9 steps of 8 either way stay inside. */
            uint64_t ram = A(0x800 + 8 * (variant % 5)), dev = A(DEV_OFF + 0x800);
            k.in.gpr[6] = (variant & 1) ? dev : ram;
            k.in.gpr[7] = (variant & 1) ? ram : dev;
            k.in.gpr[1] = rnd() % 9;
            k.in.gpr[0] = rnd();
            if (a32) {
                k.in.gpr[6] |= rnd() << 32;
                k.in.gpr[7] |= rnd() << 32;
                k.in.gpr[1] |= rnd() << 32;
            }
            k.in.rflags = (rnd() & EMU_STATUS_FLAGS) | (df ? EMU_DF : 0);
            k.flags = EMU_STATUS_FLAGS;
            k.zero_rep32 = rep && a32 && (uint32_t)k.in.gpr[1] == 0;
            check_kase(&k);
        }
}
END_TEST

/* A REP STOS longer than EMU_REP_MAX: RIP stays until the count runs out,
 * and the result is the CPU's. */
START_TEST(long_rep_is_resumed)
{
    struct kase k = {.pos = 0x2400, .len = 3, .b = {0xf3, 0x66, 0xab}};
    small_regs(&k.in);
    /* 4096 + 100 words = 8392 bytes: from the RAM start over the device. */
    k.in.gpr[1] = EMU_REP_MAX + 100;
    k.in.gpr[7] = A(0x100);
    k.in.gpr[0] = 0x1234;
    k.flags = EMU_STATUS_FLAGS;
    check_kase(&k);
    /* And the first call alone stops after EMU_REP_MAX, RIP unchanged. */
    struct emu_cpu cpu = {.mode = 64, .rip = (uint64_t)(uintptr_t)code + k.pos};
    memcpy(cpu.gpr, k.in.gpr, sizeof(cpu.gpr));
    struct emu_result res;
    ck_assert_int_eq(emu_run(&cpu, &ops, NULL, &res), EMU_OK);
    ck_assert_uint_eq(cpu.rip, (uint64_t)(uintptr_t)code + k.pos);
    ck_assert_uint_eq(cpu.gpr[1], 100);
    ck_assert_uint_eq(cpu.gpr[7], A(0x100) + 2 * EMU_REP_MAX);
}
END_TEST

/* An instruction across a page boundary of the code, at every split, and
 * a memory operand across a page boundary of the device (two accesses). */
START_TEST(page_crossing)
{
    /* 48 c7 84 8b 44 33 22 11 78 56 34 12: mov qword [rbx+rcx*4+0x11223344],
     * 0x12345678 -- 12 bytes, placed so the page boundary falls after each
     * of them. */
    static const uint8_t insn[] = {0x48, 0xc7, 0x84, 0x8b, 0x44, 0x33,
                                   0x22, 0x11, 0x78, 0x56, 0x34, 0x12};
    for (unsigned split = 1; split < sizeof(insn); split++) {
        struct kase k = {.pos = 0x2000 - split, .len = sizeof(insn)};
        memcpy(k.b, insn, sizeof(insn));
        small_regs(&k.in);
        k.in.gpr[3] = A(DEV_OFF + 0x100) - 0x11223344 - k.in.gpr[1] * 4;
        nfetch = 0;
        check_kase(&k);
        /* Two fetches: the rest of the first page, then the second. */
        ck_assert_uint_eq(nfetch, 2);
    }
    /* An instruction that ends just before the boundary never fetches the
     * next page, even when that page is refused. */
    {
        struct kase k = {.pos = 0x2000 - sizeof(insn), .len = sizeof(insn)};
        memcpy(k.b, insn, sizeof(insn));
        small_regs(&k.in);
        k.in.gpr[3] = A(DEV_OFF + 0x100) - 0x11223344 - k.in.gpr[1] * 4;
        refuse_fetch_page = (uint64_t)(uintptr_t)code + 0x2000;
        nfetch = 0;
        check_kase(&k);
        ck_assert_uint_eq(nfetch, 1);
    }
    /* ...but one that continues there faults, naming the address. */
    {
        memcpy(code + 0x2000 - 5, insn, sizeof(insn));
        struct emu_cpu cpu = {.mode = 64, .rip = (uint64_t)(uintptr_t)code + 0x2000 - 5};
        struct emu_result res;
        refuse_fetch_page = (uint64_t)(uintptr_t)code + 0x2000;
        ck_assert_int_eq(emu_run(&cpu, &ops, NULL, &res), EMU_FAULT);
        ck_assert(res.fault_fetch);
        ck_assert_uint_eq(res.fault_la, (uint64_t)(uintptr_t)code + 0x2000);
        ck_assert_uint_eq(cpu.rip, (uint64_t)(uintptr_t)code + 0x2000 - 5);
        refuse_fetch_page = 0;
    }
    /* Data across the device's page boundary: each size at each split. */
    static const uint8_t loads[][3] = {{0x8b}, {0x48, 0x8b}, {0x66, 0x8b}, {0x48, 0x01}};
    for (unsigned l = 0; l < 4; l++)
        for (unsigned split = 1; split < 8; split++) {
            struct kase k = {.pos = 0x1c00};
            small_regs(&k.in);
            unsigned n = loads[l][0] == 0x8b ? 1 : 2;
            memcpy(k.b, loads[l], n);
            k.len = n;
            k.b[k.len++] = 0x13; /* [rbx], reg rdx */
            k.in.gpr[3] = A(DEV_OFF + 0x1000 - split);
            k.in.gpr[2] = rnd();
            k.flags = EMU_STATUS_FLAGS;
            nlog = 0;
            check_kase(&k);
            unsigned size = loads[l][0] == 0x66 ? 2 : n == 2 ? 8 : 4;
            if (split < size) {
                /* Split accesses: first page, then second page. */
                ck_assert_uint_eq(log_[0].la, A(DEV_OFF + 0x1000 - split));
                ck_assert_uint_eq(log_[0].size, split);
                ck_assert_uint_eq(log_[1].la, A(DEV_OFF + 0x1000));
                ck_assert_uint_eq(log_[1].size, size - split);
            } else {
                ck_assert_uint_eq(log_[0].size, size);
            }
        }
}
END_TEST

/* What the device sees: one access of the operand's size per access of the
 * instruction -- a store writes only, a load and CMP/TEST read only, a
 * read-modify-write reads then writes. */
START_TEST(device_access_pattern)
{
    struct {
        uint8_t b[8];
        unsigned len;
        unsigned reads, writes, size;
    } t[] = {
        {{0x89, 0x03}, 2, 0, 1, 4},       {{0x48, 0x8b, 0x03}, 3, 1, 0, 8},
        {{0x66, 0x39, 0x03}, 3, 1, 0, 2}, {{0x84, 0x03}, 2, 1, 0, 1},
        {{0x83, 0x0b, 0x01}, 3, 1, 1, 4}, {{0x0f, 0xb6, 0x03}, 3, 1, 0, 1},
        {{0x87, 0x03}, 2, 1, 1, 4},       {{0x0f, 0xa3, 0x03}, 3, 1, 0, 4},
        {{0xc6, 0x03, 0x5a}, 3, 0, 1, 1},
    };
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct kase k = {.pos = 0x1e00, .len = t[i].len};
        memcpy(k.b, t[i].b, t[i].len);
        small_regs(&k.in);
        k.in.gpr[3] = A(DEV_OFF + 0x40);
        k.in.gpr[0] = 5; /* BT offset within the dword */
        nlog = 0;
        check_kase(&k);
        unsigned r = 0, w = 0;
        for (unsigned j = 0; j < nlog; j++) {
            ck_assert_uint_eq(log_[j].size, t[i].size);
            ck_assert_uint_eq(log_[j].la, A(DEV_OFF + 0x40));
            if (log_[j].write)
                w++;
            else
                r++;
            /* Reads come before writes. */
            ck_assert(!(j > 0 && !log_[j].write && log_[j - 1].write));
        }
        ck_assert_uint_eq(r, t[i].reads);
        ck_assert_uint_eq(w, t[i].writes);
    }
}
END_TEST

/* FS and GS overrides use their bases in 64-bit mode: natively FS is the
 * thread pointer here. */
START_TEST(fs_override)
{
    uint64_t fsbase;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(fsbase)); /* glibc: TCB self pointer */
    struct kase k = {.pos = 0x1e80, .len = 3, .b = {0x64, 0x8b, 0x03}};
    small_regs(&k.in);
    k.in.gpr[3] = A(DEV_OFF + 0x80) - fsbase;
    memcpy(arena, initial, ARENA_SIZE);
    memcpy(shadow, initial, ARENA_SIZE);
    struct native_regs out;
    native_run(k.b, k.len, k.pos, &k.in, &out);
    struct emu_cpu cpu = {.mode = 64, .rip = (uint64_t)(uintptr_t)code + k.pos};
    memcpy(cpu.gpr, k.in.gpr, sizeof(cpu.gpr));
    cpu.seg_base[EMU_FS] = fsbase;
    struct emu_result res;
    ck_assert_int_eq(emu_run(&cpu, &ops, NULL, &res), EMU_OK);
    ck_assert_uint_eq(cpu.gpr[0], out.gpr[0]);
    ck_assert_uint_eq(log_[0].la, A(DEV_OFF + 0x80));
}
END_TEST

/*
 * 16- and 32-bit code: the emulator alone, against addresses worked out by
 * hand from SDM vol 2A table 2-1 "16-Bit Addressing Forms with the ModR/M Byte" (16-bit) and 2-2
 * (32-bit).  The code sits at linear FLAT_CODE; memory reads return a fixed pattern and every
 * access is logged.
 */
#define FLAT_CODE 0x9000u
static uint8_t flat_code[64];
static struct access flat_log[16];
static unsigned nflat;

static int flat_fetch(void *ctx, uint64_t la, uint8_t *buf, unsigned len)
{
    (void)ctx;
    if (la < FLAT_CODE || la + len > FLAT_CODE + sizeof(flat_code))
        return -1;
    memcpy(buf, flat_code + (la - FLAT_CODE), len);
    return 0;
}

static int flat_read(void *ctx, uint64_t la, unsigned size, uint64_t *val)
{
    (void)ctx;
    *val = 0x8877665544332211ull & (size == 8 ? ~0ull : (1ull << (8 * size)) - 1);
    if (nflat < 16)
        flat_log[nflat++] = (struct access){la, size, 0, *val};
    return 0;
}

static int flat_write(void *ctx, uint64_t la, unsigned size, uint64_t val)
{
    (void)ctx;
    if (nflat < 16)
        flat_log[nflat++] = (struct access){la, size, 1, val};
    return 0;
}

static const struct emu_ops flat_ops = {flat_fetch, flat_read, flat_write};

/* Run `bytes` in `mode` with CS based so that the code is at FLAT_CODE. */
static enum emu_status flat_run(struct emu_cpu *cpu, const uint8_t *bytes, unsigned len,
                                struct emu_result *res)
{
    memset(flat_code, 0x90, sizeof(flat_code));
    memcpy(flat_code, bytes, len);
    cpu->seg_base[EMU_CS] = FLAT_CODE - 0x100;
    cpu->rip = 0x100;
    nflat = 0;
    return emu_run(cpu, &flat_ops, NULL, res);
}

START_TEST(mode16_addressing)
{
    /* BX 0x1000, SI 0x0200, DI 0x0030, BP 0x4000; DS at 0x10000, SS at
     * 0x20000 (segments 0x1000 and 0x2000 in real mode).  Upper register
     * bits are garbage that 16-bit addressing must ignore. */
    static const struct {
        unsigned rm;
        unsigned sum; /* base + index per table 2-1 */
        int ss;       /* SS is the default segment */
    } forms[] = {
        {0, 0x1200, 0}, {1, 0x1030, 0}, {2, 0x4200, 1}, {3, 0x4030, 1},
        {4, 0x0200, 0}, {5, 0x0030, 0}, {6, 0x4000, 1}, {7, 0x1000, 0},
    };
    for (unsigned i = 0; i < 8; i++)
        for (unsigned mod = 0; mod < 3; mod++) {
            struct emu_cpu cpu = {.mode = 16};
            cpu.gpr[EMU_RBX] = 0xaaaa0000u | 0x1000;
            cpu.gpr[EMU_RSI] = 0xbbbb0000u | 0x0200;
            cpu.gpr[EMU_RDI] = 0xcccc0000u | 0x0030;
            cpu.gpr[EMU_RBP] = 0xdddd0000u | 0x4000;
            cpu.gpr[EMU_RAX] = 0x12345678;
            cpu.seg_base[EMU_DS] = 0x10000;
            cpu.seg_base[EMU_SS] = 0x20000;
            /* mov [modrm], ax: 89 /r with reg = 0 (AX); disp8 -2, disp16
             * 0xf123 (wraps the sum). */
            uint8_t b[5] = {0x89, (uint8_t)((mod << 6) | forms[i].rm), 0xfe};
            if (mod == 2) {
                b[2] = 0x23;
                b[3] = 0xf1;
            }
            unsigned len = mod == 1 ? 3 : mod == 2 ? 4 : 2;
            unsigned disp = mod == 1 ? 0xfffe : mod == 2 ? 0xf123 : 0;
            unsigned sum = forms[i].sum;
            int ss = forms[i].ss;
            if (mod == 0 && forms[i].rm == 6) {
                /* [disp16] with DS. */
                len = 4;
                b[2] = 0x34;
                b[3] = 0x12;
                sum = 0;
                disp = 0x1234;
                ss = 0;
            }
            struct emu_result res;
            ck_assert_int_eq(flat_run(&cpu, b, len, &res), EMU_OK);
            ck_assert_uint_eq(res.len, len);
            ck_assert_uint_eq(cpu.rip, 0x100 + len);
            ck_assert_uint_eq(nflat, 1);
            ck_assert_uint_eq(flat_log[0].la, (ss ? 0x20000u : 0x10000u) + ((sum + disp) & 0xffff));
            ck_assert_uint_eq(flat_log[0].size, 2);
            ck_assert_uint_eq(flat_log[0].val, 0x5678);
        }
}
END_TEST

START_TEST(mode16_prefixes_and_strings)
{
    struct emu_cpu cpu = {.mode = 16};
    struct emu_result res;
    cpu.gpr[EMU_RBX] = 0x10;
    cpu.gpr[EMU_RCX] = 0x3;
    cpu.gpr[EMU_RAX] = 0xdeadbeef;
    cpu.seg_base[EMU_DS] = 0x10000;
    /* 66: a 32-bit operand in 16-bit code. */
    ck_assert_int_eq(flat_run(&cpu, (const uint8_t[]){0x66, 0x89, 0x07}, 3, &res), EMU_OK);
    ck_assert_uint_eq(flat_log[0].size, 4);
    ck_assert_uint_eq(flat_log[0].val, 0xdeadbeef);
    ck_assert_uint_eq(flat_log[0].la, 0x10010);
    /* 67: 32-bit addressing with a SIB byte: [ebx+ecx*4]. */
    ck_assert_int_eq(flat_run(&cpu, (const uint8_t[]){0x67, 0x89, 0x04, 0x8b}, 4, &res), EMU_OK);
    ck_assert_uint_eq(flat_log[0].la, 0x10000 + 0x10 + 3 * 4);
    ck_assert_uint_eq(flat_log[0].size, 2);
    /* MOVZX in 16-bit code: a byte into AX. */
    ck_assert_int_eq(flat_run(&cpu, (const uint8_t[]){0x0f, 0xb6, 0x07}, 3, &res), EMU_OK);
    ck_assert_uint_eq(cpu.gpr[EMU_RAX], 0xdead0011);
    /* REP STOSW with DI wrapping at 64 KiB: DI, CX are 16-bit, the rest
     * of RDI and RCX stays. */
    cpu.gpr[EMU_RDI] = 0xabcd0000fffeull;
    cpu.gpr[EMU_RCX] = 0x55550003;
    cpu.seg_base[EMU_ES] = 0x30000;
    ck_assert_int_eq(flat_run(&cpu, (const uint8_t[]){0xf3, 0xab}, 2, &res), EMU_OK);
    ck_assert_uint_eq(nflat, 3);
    ck_assert_uint_eq(flat_log[0].la, 0x3fffe);
    ck_assert_uint_eq(flat_log[1].la, 0x30000);
    ck_assert_uint_eq(flat_log[2].la, 0x30002);
    ck_assert_uint_eq(cpu.gpr[EMU_RDI], 0xabcd00000004ull);
    ck_assert_uint_eq(cpu.gpr[EMU_RCX], 0x55550000);
    ck_assert_uint_eq(cpu.rip, 0x102);
    /* IP wraps at 64 KiB. */
    cpu.rip = 0xfffe;
    memcpy(flat_code, (const uint8_t[]){0x89, 0x07}, 2);
    cpu.seg_base[EMU_CS] = FLAT_CODE - 0xfffe;
    ck_assert_int_eq(emu_run(&cpu, &flat_ops, NULL, &res), EMU_OK);
    ck_assert_uint_eq(cpu.rip, 0);
}
END_TEST

START_TEST(mode32_addressing)
{
    struct emu_cpu cpu = {.mode = 32};
    struct emu_result res;
    cpu.gpr[EMU_RBX] = 0x1000;
    cpu.gpr[EMU_RCX] = 0x10;
    cpu.gpr[EMU_RBP] = 0x2000;
    cpu.seg_base[EMU_DS] = 0x100000;
    cpu.seg_base[EMU_SS] = 0x200000;
    cpu.seg_base[EMU_ES] = 0x300000;
    /* [ebx+ecx*4+0x11223344] with DS. */
    ck_assert_int_eq(
        flat_run(&cpu, (const uint8_t[]){0x89, 0x84, 0x8b, 0x44, 0x33, 0x22, 0x11}, 7, &res),
        EMU_OK);
    ck_assert_uint_eq(flat_log[0].la, 0x100000 + 0x1000 + 0x40 + 0x11223344);
    /* mod 0 r/m 5 is an absolute disp32 outside 64-bit mode, not
     * RIP-relative. */
    ck_assert_int_eq(flat_run(&cpu, (const uint8_t[]){0x8b, 0x05, 0x78, 0x56, 0x34, 0x12}, 6, &res),
                     EMU_OK);
    ck_assert_uint_eq(flat_log[0].la, 0x100000 + 0x12345678);
    /* [ebp+8] uses SS; an ES override wins; the sum wraps at 4 GiB. */
    ck_assert_int_eq(flat_run(&cpu, (const uint8_t[]){0x89, 0x45, 0x08}, 3, &res), EMU_OK);
    ck_assert_uint_eq(flat_log[0].la, 0x200000 + 0x2008);
    ck_assert_int_eq(flat_run(&cpu, (const uint8_t[]){0x26, 0x89, 0x45, 0x08}, 4, &res), EMU_OK);
    ck_assert_uint_eq(flat_log[0].la, 0x300000 + 0x2008);
    cpu.gpr[EMU_RBX] = 0xfffffff0;
    ck_assert_int_eq(flat_run(&cpu, (const uint8_t[]){0x89, 0x43, 0x20}, 3, &res), EMU_OK);
    ck_assert_uint_eq(flat_log[0].la, 0x100000 + 0x10);
    /* 82 is 80 again outside 64-bit mode: add byte [ebx+0x20], 1. */
    ck_assert_int_eq(flat_run(&cpu, (const uint8_t[]){0x82, 0x43, 0x20, 0x01}, 4, &res), EMU_OK);
    ck_assert_uint_eq(flat_log[1].val, 0x12);
    /* 48 is DEC EAX here, not REX.W: refused, nothing accessed. */
    ck_assert_int_eq(flat_run(&cpu, (const uint8_t[]){0x48, 0x89, 0x03}, 3, &res), EMU_UNSUPPORTED);
    ck_assert_uint_eq(nflat, 0);
}
END_TEST

/* Refusals by name, and the exceptions the CPU would raise; nothing is
 * accessed and the CPU state is unchanged. */
START_TEST(refusals_and_exceptions)
{
    static const struct {
        int mode;
        uint8_t b[17];
        unsigned len;
        enum emu_status st;
        int vector;
        const char *reason;
    } t[] = {
        {64,
         {0x0f, 0xae, 0x3b},
         3,
         EMU_UNSUPPORTED,
         0,
         "MMIO access by an instruction hv does not emulate: 0f ae /7 (clflush)"},
        {64,
         {0xf7, 0x33},
         2,
         EMU_UNSUPPORTED,
         0,
         "MMIO access by an instruction hv does not emulate: f7 /6 (div)"},
        {64,
         {0xa6},
         1,
         EMU_UNSUPPORTED,
         0,
         "MMIO access by an instruction hv does not emulate: a6 (cmpsb)"},
        {64,
         {0x0f, 0x38, 0xf0, 0x03},
         4,
         EMU_UNSUPPORTED,
         0,
         "MMIO access by an instruction hv does not emulate: 0f 38"},
        {64,
         {0x66, 0x0f, 0x6f, 0x03},
         4,
         EMU_UNSUPPORTED,
         0,
         "MMIO access by an instruction hv does not emulate: 0f 6f (movq/movdqa/movdqu (MMX/SSE))"},
        {64,
         {0xff, 0x13},
         2,
         EMU_UNSUPPORTED,
         0,
         "MMIO access by an instruction hv does not emulate: ff /2 (call near indirect)"},
        {64,
         {0x89, 0xc3},
         2,
         EMU_UNSUPPORTED,
         0,
         "MMIO access by an instruction without a memory operand (89 /0, mod 3)"},
        {64,
         {0xf0, 0x89, 0x03},
         3,
         EMU_EXCEPTION,
         6,
         "LOCK prefix on an instruction that cannot be locked: the CPU raises #UD"},
        {64, {0xf0, 0x39, 0x03}, 3, EMU_EXCEPTION, 6, NULL},
        {64, {0xf0, 0xab}, 2, EMU_EXCEPTION, 6, NULL},
        {64, {0x66, 0x48, 0x0f, 0xc3, 0x03}, 5, EMU_EXCEPTION, 6, NULL},
        {64, {0x82, 0x03, 0x01}, 3, EMU_EXCEPTION, 6, "invalid encoding: the CPU raises #UD"},
        {64, {0xfe, 0x13}, 2, EMU_EXCEPTION, 6, NULL},
        {64, {0xc7, 0x0b, 0, 0, 0, 0}, 6, EMU_EXCEPTION, 6, NULL},
        {64, {0x0f, 0xba, 0x03, 0x01}, 4, EMU_EXCEPTION, 6, NULL},
        {64,
         {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x89,
          0x03},
         16,
         EMU_EXCEPTION,
         13,
         "instruction longer than 15 bytes: the CPU raises #GP(0)"},
        {32,
         {0x63, 0x03},
         2,
         EMU_UNSUPPORTED,
         0,
         "MMIO access by an instruction hv does not emulate: 63 /0 (arpl)"},
        {7, {0x89, 0x03}, 2, EMU_UNSUPPORTED, 0, "no such code size: 7-bit"},
    };
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct emu_cpu cpu = {.mode = (unsigned)t[i].mode};
        cpu.gpr[EMU_RBX] = 0x40;
        struct emu_cpu before;
        struct emu_result res;
        memset(flat_code, 0x90, sizeof(flat_code));
        memcpy(flat_code, t[i].b, t[i].len);
        cpu.seg_base[EMU_CS] = FLAT_CODE - 0x100;
        cpu.rip = 0x100;
        /* In 64-bit mode CS's base does not count: put RIP at the code. */
        if (t[i].mode == 64) {
            cpu.seg_base[EMU_CS] = 0;
            cpu.rip = FLAT_CODE;
        }
        before = cpu;
        nflat = 0;
        ck_assert_msg(emu_run(&cpu, &flat_ops, NULL, &res) == t[i].st, "case %u: %s", i,
                      res.reason);
        if (t[i].st == EMU_EXCEPTION)
            ck_assert_int_eq(res.vector, t[i].vector);
        if (t[i].reason)
            ck_assert_str_eq(res.reason, t[i].reason);
        ck_assert_uint_eq(nflat, 0);
        ck_assert(memcmp(&cpu, &before, sizeof(cpu)) == 0);
    }
}
END_TEST

/* The exceptions the emulator claims the CPU raises, and the refusals it
 * claims are valid instructions, checked against this CPU: each encoding
 * runs natively (with [rbx] in the arena) and must raise #UD (SIGILL) or
 * #GP (SIGSEGV) exactly when the emulator says so. */
START_TEST(exceptions_match_the_cpu)
{
    static const struct {
        uint8_t b[17];
        unsigned len;
        int vector; /* 0: a valid instruction */
    } t[] = {
        {{0xf0, 0x89, 0x03}, 3, 6},             /* lock mov */
        {{0xf0, 0x39, 0x03}, 3, 6},             /* lock cmp */
        {{0xf0, 0x85, 0x03}, 3, 6},             /* lock test */
        {{0xf0, 0x0f, 0xb6, 0x03}, 4, 6},       /* lock movzx */
        {{0xf0, 0x0f, 0xa3, 0x03}, 4, 6},       /* lock bt */
        {{0xf0, 0x03, 0x03}, 3, 6},             /* lock add r, m */
        {{0xf0, 0xab}, 2, 6},                   /* lock stos */
        {{0x66, 0x0f, 0xc3, 0x03}, 4, 6},       /* movnti with 66 */
        {{0x66, 0x48, 0x0f, 0xc3, 0x03}, 5, 6}, /* ... and REX.W */
        {{0x82, 0x03, 0x01}, 3, 6},             /* 82 in 64-bit mode */
        {{0xfe, 0x13}, 2, 6},                   /* fe /2 */
        {{0xc6, 0x0b, 0x00}, 3, 6},             /* c6 /1 */
        {{0xc7, 0x0b, 0, 0, 0, 0}, 6, 6},       /* c7 /1 */
        {{0x0f, 0xba, 0x03, 0x01}, 4, 6},       /* 0f ba /0 */
        {{0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x89,
          0x03},
         16,
         13}, /* 16 bytes */
        {{0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x89, 0x03},
         15,
         0},                              /* 15 bytes: still fine */
        {{0xf0, 0x01, 0x03}, 3, 0},       /* lock add m, r */
        {{0xf0, 0x0f, 0xab, 0x03}, 4, 0}, /* lock bts */
        {{0xf0, 0xf7, 0x1b}, 3, 0},       /* lock neg */
        {{0xf0, 0x87, 0x03}, 3, 0},       /* lock xchg */
        {{0x0f, 0xae, 0x3b}, 3, 0},       /* clflush: valid, refused by name */
    };
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct kase k = {.pos = 0x2800, .len = t[i].len};
        memcpy(k.b, t[i].b, t[i].len);
        small_regs(&k.in);
        k.in.gpr[EMU_RBX] = A(DEV_OFF + 0x100);
        k.in.gpr[EMU_RDI] = A(DEV_OFF + 0x200);
        memcpy(arena, initial, ARENA_SIZE);
        struct native_regs out;
        int sig = native_try(k.b, k.len, k.pos, &k.in, &out);
        int want_sig = t[i].vector == 6 ? SIGILL : t[i].vector == 13 ? SIGSEGV : 0;
        ck_assert_msg(sig == want_sig, "case %u: the CPU gave signal %d, expected %d", i, sig,
                      want_sig);
        struct emu_cpu cpu = {.mode = 64, .rip = (uint64_t)(uintptr_t)code + k.pos};
        memcpy(cpu.gpr, k.in.gpr, sizeof(cpu.gpr));
        memcpy(shadow, initial, ARENA_SIZE);
        struct emu_result res;
        enum emu_status st = emu_run(&cpu, &ops, NULL, &res);
        if (t[i].vector)
            ck_assert_msg(st == EMU_EXCEPTION && res.vector == t[i].vector,
                          "case %u: emulator says %d (%s)", i, st, res.reason);
        else
            ck_assert_msg(st != EMU_EXCEPTION, "case %u: emulator raised %u (%s)", i, res.vector,
                          res.reason);
    }
}
END_TEST

/* Single-step: TF set reports the #DB trap to the caller; a REP string
 * does one iteration per step. RF is cleared. */
START_TEST(single_step)
{
    struct emu_cpu cpu = {.mode = 64, .rflags = EMU_TF | EMU_RF | 2};
    struct emu_result res;
    cpu.gpr[EMU_RBX] = 0x40;
    /* flat_run() puts the code at CS base + 0x100, which 64-bit mode
     * ignores: place it by hand. */
    memcpy(flat_code, (const uint8_t[]){0x89, 0x03}, 2);
    cpu.seg_base[EMU_CS] = 0;
    cpu.rip = FLAT_CODE;
    ck_assert_int_eq(emu_run(&cpu, &flat_ops, NULL, &res), EMU_OK);
    ck_assert(res.single_step);
    ck_assert_uint_eq(cpu.rflags, EMU_TF | 2);
    cpu.rflags = 2;
    cpu.rip = FLAT_CODE;
    ck_assert_int_eq(emu_run(&cpu, &flat_ops, NULL, &res), EMU_OK);
    ck_assert(!res.single_step);
    /* rep stosb, RCX = 3, TF: one byte per call, RIP stays until done. */
    memcpy(flat_code, (const uint8_t[]){0xf3, 0xaa}, 2);
    cpu.rip = FLAT_CODE;
    cpu.rflags = EMU_TF | 2;
    cpu.gpr[EMU_RCX] = 3;
    for (int i = 3; i > 0; i--) {
        nflat = 0;
        ck_assert_int_eq(emu_run(&cpu, &flat_ops, NULL, &res), EMU_OK);
        ck_assert(res.single_step);
        ck_assert_uint_eq(nflat, 1);
        ck_assert_uint_eq(cpu.gpr[EMU_RCX], (uint64_t)i - 1);
        ck_assert_uint_eq(cpu.rip, i > 1 ? FLAT_CODE : FLAT_CODE + 2);
    }
}
END_TEST

/* A refused data access stops the instruction with EMU_FAULT, its address,
 * and the CPU state unchanged (flags included, for a read-modify-write
 * whose second page fails). */
START_TEST(faults)
{
    struct kase k = {.pos = 0x1f00, .len = 2, .b = {0x01, 0x03}}; /* add [rbx], eax */
    memcpy(code + k.pos, k.b, k.len);
    struct emu_cpu cpu = {.mode = 64, .rip = (uint64_t)(uintptr_t)code + k.pos, .rflags = 2};
    cpu.gpr[EMU_RBX] = A(ARENA_SIZE - 2);
    cpu.gpr[EMU_RAX] = 1;
    struct emu_cpu before = cpu;
    struct emu_result res;
    ck_assert_int_eq(emu_run(&cpu, &ops, NULL, &res), EMU_FAULT);
    ck_assert_uint_eq(res.fault_la, A(ARENA_SIZE));
    ck_assert(!res.fault_write && !res.fault_fetch);
    ck_assert(memcmp(&cpu, &before, sizeof(cpu)) == 0);
    /* A write to nowhere. */
    k.b[0] = 0x89;
    memcpy(code + k.pos, k.b, k.len);
    cpu.gpr[EMU_RBX] = 0x10;
    before = cpu;
    ck_assert_int_eq(emu_run(&cpu, &ops, NULL, &res), EMU_FAULT);
    ck_assert_uint_eq(res.fault_la, 0x10);
    ck_assert(res.fault_write);
    ck_assert_str_eq(res.reason, "cannot write to linear address 0x10");
    ck_assert(memcmp(&cpu, &before, sizeof(cpu)) == 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_emu");
    TCase *tc = tcase_create("emu");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_addressing_form);
    tcase_add_test(tc, every_opcode_and_size);
    tcase_add_test(tc, lock_prefix_on_rmw_forms);
    tcase_add_test(tc, rip_relative);
    tcase_add_test(tc, moffs_forms);
    tcase_add_test(tc, string_instructions);
    tcase_add_test(tc, long_rep_is_resumed);
    tcase_add_test(tc, page_crossing);
    tcase_add_test(tc, device_access_pattern);
    tcase_add_test(tc, fs_override);
    tcase_add_test(tc, mode16_addressing);
    tcase_add_test(tc, mode16_prefixes_and_strings);
    tcase_add_test(tc, mode32_addressing);
    tcase_add_test(tc, refusals_and_exceptions);
    tcase_add_test(tc, exceptions_match_the_cpu);
    tcase_add_test(tc, single_step);
    tcase_add_test(tc, faults);
    suite_add_tcase(s, tc);
    return check_main(s);
}
