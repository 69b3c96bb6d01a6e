/*
 * mmio: memory-mapped I/O through the instruction forms drivers and
 * compilers use, against the local APIC's task-priority register (TPR,
 * offset 0x80 of the xAPIC page at 0xfee00000; SDM vol. 3A 11.8.3.1 "Task
 * and Processor Priorities").  The TPR is the one xAPIC register that reads
 * back what was written (bits 7:0), so every form can be checked by value.
 *
 * On plain QEMU the APIC is QEMU's own; under hv each of these accesses is
 * a nested page fault / EPT violation that hv's instruction emulator
 * (hv/core/emu*.c) must carry out exactly as the CPU would: the value, the
 * flags (only those the SDM defines for the instruction), and the registers
 * the instruction changes.  Each line prints what it saw, so that a
 * difference between the two shows in the line itself.  Only aligned
 * 32-bit accesses are used: the xAPIC defines no other (SDM vol. 3A 11.4.1
 * "The Local APIC Block Diagram": "registers are 128-bit aligned ... and
 * must be accessed using 32-bit loads and stores").  Without a local APIC
 * (CPUID.1:EDX.APIC = 0) the guest says so and skips.
 */
#include "guestkit/guestkit.h"

#define APIC_BASE 0xfee00000ul
#define TPR       (APIC_BASE + 0x80)

/* The status flags (SDM vol. 1 3.4.3.1 "Status Flags"). */
#define CF    0x001u
#define PF    0x004u
#define AF    0x010u
#define ZF    0x040u
#define SF    0x080u
#define OF    0x800u
#define ARITH (CF | PF | AF | ZF | SF | OF)
/* Logic instructions leave AF undefined: not compared. */
#define LOGIC (CF | PF | ZF | SF | OF)

static volatile uint32_t *const tpr = (volatile uint32_t *)TPR;

/* An arithmetic form on the TPR: set it to `start`, run `op` (which leaves
 * RFLAGS in `flags`), then read it back. */
#define RMW(name, start, asm_text, in, want, want_flags, mask)                                     \
    do {                                                                                           \
        *tpr = (start);                                                                            \
        uint64_t flags;                                                                            \
        __asm__ volatile(asm_text "\n\tpushfq\n\tpopq %0"                                          \
                         : "=r"(flags)                                                             \
                         : "r"(TPR), "r"((uint32_t)(in))                                           \
                         : "memory", "cc");                                                        \
        uint32_t got = *tpr;                                                                       \
        unsigned f = (unsigned)flags & (mask);                                                     \
        report(got == (want) && f == ((want_flags) & (mask)),                                      \
               "%s: tpr %#x -> %#x, flags %#x (want %#x, %#x)", name, (unsigned)(start), got, f,   \
               (unsigned)(want), (unsigned)((want_flags) & (mask)));                               \
    } while (0)

static void stores_and_loads(void)
{
    /* MOV m32, imm32 (C7 /0) and MOV r32, m32 (8B). */
    uint32_t v;
    __asm__ volatile("movl $0x35, (%1)\n\tmovl (%1), %0" : "=r"(v) : "r"(TPR) : "memory");
    report(v == 0x35, "mov imm to tpr, mov back: %#x", v);
    /* MOV m32, r32 (89) through base + index * 8 + disp8. */
    __asm__ volatile("movl %0, 0x40(%1,%2,8)" : : "r"(0x47u), "r"(APIC_BASE), "r"(8ul) : "memory");
    report(*tpr == 0x47, "mov to [base + index*8 + 0x40]: %#x", *tpr);
    /* MOV moffs64, EAX (A3) and MOV EAX, moffs64 (A1). */
    uint32_t a = 0x5a, b;
    __asm__ volatile("movabsl %%eax, 0xfee00080" : : "a"(a) : "memory");
    __asm__ volatile("movabsl 0xfee00080, %%eax" : "=a"(b) : : "memory");
    report(b == 0x5a, "mov moffs64 store and load: %#x", b);
    /* A 32-bit address (67 prefix): [ebx]. */
    __asm__ volatile("addr32 movl %0, (%%ebx)" : : "r"(0x66u), "b"(TPR) : "memory");
    report(*tpr == 0x66, "mov with a 67 prefix to [ebx]: %#x", *tpr);
}

static void read_modify_write(void)
{
    /* Flags worked out by hand from the SDM's "Flags Affected". */
    RMW("or $0x40", 0x21, "orl $0x40, (%1)", 0, 0x61, 0, LOGIC);
    RMW("and $0x0f", 0xf3, "andl $0x0f, (%1)", 0, 0x03, PF, LOGIC);
    RMW("and $0x0c -> 0", 0xf3, "andl $0x0c, (%1)", 0, 0x00, ZF | PF, LOGIC);
    RMW("xor $0xff", 0x0f, "xorl $0xff, (%1)", 0, 0xf0, PF, LOGIC);
    RMW("add r32", 0x18, "addl %2, (%1)", 0x08, 0x20, AF, ARITH);
    RMW("sub $1 (AF)", 0x10, "subl $1, (%1)", 0, 0x0f, AF | PF, ARITH);
    RMW("adc with CF=1", 0x10, "stc\n\tadcl %2, (%1)", 0x0f, 0x20, AF, ARITH);
    RMW("sbb with CF=1", 0x30, "stc\n\tsbbl %2, (%1)", 0x0f, 0x20, AF, ARITH);
    RMW("inc", 0x7f, "incl (%1)", 0, 0x80, AF, ARITH & ~CF);
    RMW("dec", 0x01, "decl (%1)", 0, 0x00, ZF | PF, ARITH & ~CF);
    /* CMP and TEST only set flags: a borrow, and a zero. */
    RMW("cmp $0x50 (borrow)", 0x40, "cmpl $0x50, (%1)", 0, 0x40, CF | SF | PF, ARITH);
    RMW("test $0x80", 0x7f, "testl $0x80, (%1)", 0, 0x7f, ZF | PF, LOGIC);
    RMW("cmp r32, m32", 0x40, "cmpl (%1), %2", 0x41, 0x40, 0, ARITH);
}

static void exchange_and_bits(void)
{
    /* XCHG m32, r32: the old value comes back, the new one stays. */
    *tpr = 0x12;
    uint32_t r = 0x34;
    __asm__ volatile("xchgl %0, (%1)" : "+r"(r) : "r"(TPR) : "memory");
    report(r == 0x12 && *tpr == 0x34, "xchg: got %#x, tpr %#x", r, *tpr);
    /* BT: only CF is defined (SDM vol. 2A "BT"); BTS sets the bit. */
    *tpr = 0x10;
    uint64_t flags;
    __asm__ volatile("btl $4, (%1)\n\tpushfq\n\tpopq %0" : "=r"(flags) : "r"(TPR) : "memory", "cc");
    report((flags & CF) != 0, "bt $4 on 0x10: CF %u", (unsigned)(flags & CF));
    __asm__ volatile("btsl $1, (%1)\n\tpushfq\n\tpopq %0"
                     : "=r"(flags)
                     : "r"(TPR)
                     : "memory", "cc");
    report(!(flags & CF) && *tpr == 0x12, "bts $1: CF %u, tpr %#x", (unsigned)(flags & CF), *tpr);
}

static void strings(void)
{
    /* REP STOSD of one dword (memset_io), REP MOVSD from RAM and back
     * (memcpy_toio / memcpy_fromio), LODSD; RCX, RSI and RDI as the CPU
     * leaves them. */
    uint64_t count = 1, dst = TPR;
    __asm__ volatile("rep stosl" : "+c"(count), "+D"(dst) : "a"(0x2du) : "memory");
    report(*tpr == 0x2d && count == 0 && dst == TPR + 4, "rep stosd: tpr %#x, rcx %lu, rdi +%lu",
           *tpr, (unsigned long)count, (unsigned long)(dst - TPR));
    static uint32_t ram[2] = {0x3c, 0};
    uint64_t src = (uint64_t)&ram[0];
    count = 1;
    dst = TPR;
    __asm__ volatile("rep movsl" : "+c"(count), "+S"(src), "+D"(dst) : : "memory");
    report(*tpr == 0x3c && src == (uint64_t)&ram[1], "rep movsd RAM -> tpr: %#x", *tpr);
    src = TPR;
    dst = (uint64_t)&ram[1];
    __asm__ volatile("movsl" : "+S"(src), "+D"(dst) : : "memory");
    report(ram[1] == 0x3c && src == TPR + 4, "movsd tpr -> RAM: %#x", ram[1]);
    /* Backwards (DF = 1): the pointers step down. */
    src = TPR;
    uint32_t got;
    __asm__ volatile("std\n\tlodsl\n\tcld" : "=a"(got), "+S"(src) : : "memory");
    report(got == 0x3c && src == TPR - 4, "lodsd with DF=1: %#x, rsi -%lu", got,
           (unsigned long)(TPR - src));
}

/* Encodings the CPU itself refuses: the same exception with or without a
 * hypervisor in between (SDM vol. 2A "LOCK" raises #UD on MOV; 2.3.11
 * "AVX Instruction Length": more than 15 bytes is #GP(0)). */
static void lock_mov(void *arg)
{
    (void)arg;
    __asm__ volatile(".byte 0xf0\n\tmovl %%eax, (%0)" : : "r"(TPR), "a"(0) : "memory");
}

static void too_long(void *arg)
{
    (void)arg;
    /* 14 operand-size prefixes, then C7 /0 with its ModRM and imm16: 18 bytes. */
    __asm__ volatile(".byte 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, "
                     "0x66, 0x66, 0x66, 0xc7, 0x03, 0x11, 0x00"
                     :
                     : "b"(TPR)
                     : "memory");
}

/* An instruction whose bytes straddle two pages: copied to the end of a
 * page and called there (guestkit maps RAM executable). */
static uint8_t code_pages[2 * 4096] __attribute__((aligned(4096)));

static void refused_encodings(void)
{
    struct exception_info ex;
    /* QEMU 7.2's TCG executes both (it checks neither LOCK on MOV nor the
     * length), so plain QEMU cannot be the reference here; hv must do what
     * the hardware does. */
    if (on_qemu_tcg()) {
        report_skip("lock mov: QEMU TCG executes it instead of raising #UD");
        report_skip("18-byte mov: QEMU TCG executes it instead of raising #GP");
    } else {
        *tpr = 0x11;
        bool ud = expect_exception(UD_VECTOR, lock_mov, NULL, &ex);
        report(ud && *tpr == 0x11, "lock mov: raises #UD, tpr stays %#x", *tpr);
        bool gp = expect_exception(GP_VECTOR, too_long, NULL, &ex);
        report(gp && *tpr == 0x11, "18-byte mov: raises #GP, tpr stays %#x", *tpr);
    }
    /* mov dword [rbx+0x80], imm32 (c7 83 80 00 00 00 imm32: 10 bytes),
     * then ret, placed so that the page boundary falls after byte 3. */
    static const uint8_t insn[] = {0xc7, 0x83, 0x80, 0x00, 0x00, 0x00,
                                   0x3f, 0x00, 0x00, 0x00, 0xc3};
    uint8_t *at = code_pages + 4096 - 3;
    memcpy(at, insn, sizeof(insn));
    __asm__ volatile("call *%0" : : "r"(at), "b"(APIC_BASE) : "memory");
    report(*tpr == 0x3f, "mov across a page boundary of the code: tpr %#x", *tpr);
}

/*
 * Single-stepping over an instruction hv emulates: with RFLAGS.TF = 1 the
 * CPU raises #DB, with DR6.BS set, after the instruction completes, RIP on
 * the next one (SDM vol. 3B 18.3.1.4 "Single-Step Exception Condition").
 * POPF sets TF, the instruction after it runs, then the trap comes.
 */
static uint64_t step_label;

static void step_over_mmio(void *arg)
{
    (void)arg;
    __asm__ volatile("leaq 1f(%%rip), %%rcx\n\tmovq %%rcx, %0\n\t"
                     "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
                     "movl $0x29, (%1)\n"
                     "1:\tnop\n\tnop"
                     : "=m"(step_label)
                     : "r"(TPR)
                     : "rcx", "memory", "cc");
}

static void step_over_cpuid(void *arg)
{
    (void)arg;
    __asm__ volatile("leaq 1f(%%rip), %%rcx\n\tmovq %%rcx, %0\n\t"
                     "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
                     "cpuid\n"
                     "1:\tnop\n\tnop"
                     : "=m"(step_label)
                     : "a"(0)
                     : "rbx", "rcx", "rdx", "memory", "cc");
}

static void single_step(void)
{
    struct exception_info ex;
    static const struct {
        const char *name;
        void (*fn)(void *);
    } cases[] = {{"an MMIO store", step_over_mmio}, {"cpuid", step_over_cpuid}};
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* DR6 as after reset, so that BS is the trap's own. */
        __asm__ volatile("mov %0, %%dr6" : : "r"(0xffff0ff0ul));
        bool db = expect_exception(DB_VECTOR, cases[i].fn, NULL, &ex);
        uint64_t dr6;
        __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
        report(db && ex.rip == step_label && (dr6 & (1u << 14)),
               "single-step over %s: #DB after it (rip at the next instruction: %s), DR6.BS %u",
               cases[i].name, ex.rip == step_label ? "yes" : "no", (unsigned)((dr6 >> 14) & 1));
    }
    report(*tpr == 0x29, "the single-stepped store wrote tpr: %#x", *tpr);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!(cpuid(1).edx & X86_CPUID1_EDX_APIC)) {
        report_skip("no local APIC (CPUID.1:EDX.APIC = 0): nothing memory-mapped to test");
        return report_summary();
    }
    stores_and_loads();
    read_modify_write();
    exchange_and_bits();
    strings();
    refused_encodings();
    single_step();
    /* Leave the TPR as the firmware did: accept every interrupt. */
    *tpr = 0;
    return report_summary();
}
