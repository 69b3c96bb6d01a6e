/*
 * emu_native.c - run one instruction natively (see emu_native.h).
 *
 * The code buffer holds, in its first page, the registers going in and
 * coming out and a short stub generated here; the instruction under test
 * goes at the offset the test chooses, followed by the stub's second half:
 *
 *   stub:  push the callee-saved registers; save RSP;
 *          RFLAGS <- in.rflags (push [in.rflags]; popfq);
 *          every register, RSP included, <- in.gpr[] (RIP-relative MOVs);
 *          jmp insn
 *   insn:  the instruction under test
 *          out.gpr[] <- every register; RSP <- the saved RSP;
 *          out.rflags <- RFLAGS (pushfq; pop [out.rflags]); cld;
 *          pop the callee-saved registers; ret
 *
 * Only MOVs (which change no flag) run between loading RFLAGS and the
 * instruction, and between the instruction and saving RFLAGS.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "emu_native.h"

/* The layout of the first page. */
#define OFF_IN   0x000 /* struct native_regs in */
#define OFF_OUT  0x100 /* struct native_regs out */
#define OFF_RSP  0x200 /* the caller's RSP */
#define OFF_STUB 0x300 /* the entry stub */

static uint8_t *code;

uint8_t *native_init(void)
{
    if (!code) {
        /* MAP_32BIT: below 2 GiB, so that the data and the instruction are
         * reachable with disp32 and 32-bit addresses. */
        void *p = mmap(NULL, NATIVE_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (p == MAP_FAILED)
            abort();
        code = p;
    }
    return code;
}

/* An emitter: bytes at `at`, RIP-relative operands computed from there. */
struct emit {
    uint8_t *at;
};

static void byte(struct emit *e, uint8_t b)
{
    *e->at++ = b;
}

/* The disp32 of a RIP-relative operand that ends the instruction: relative
 * to the address right after it. */
static void rel32(struct emit *e, const uint8_t *target)
{
    int32_t d = (int32_t)(target - (e->at + 4));
    memcpy(e->at, &d, 4);
    e->at += 4;
}

/* MOV r64, [rip + target] (8B /r) or MOV [rip + target], r64 (89 /r),
 * with ModRM mod 00 r/m 101. */
static void mov_rip(struct emit *e, uint8_t opcode, unsigned reg, const uint8_t *target)
{
    byte(e, (uint8_t)(0x48 | (reg >= 8 ? 4 : 0)));
    byte(e, opcode);
    byte(e, (uint8_t)(0x05 | ((reg & 7) << 3)));
    rel32(e, target);
}

/* The callee-saved registers of the SysV ABI: RBX RBP R12-R15. */
static const uint8_t saved[] = {3, 5, 12, 13, 14, 15};

void native_run(const uint8_t *insn, unsigned len, unsigned pos, const struct native_regs *in,
                struct native_regs *out)
{
    uint8_t *base = native_init();
    struct native_regs *rin = (void *)(base + OFF_IN), *rout = (void *)(base + OFF_OUT);
    *rin = *in;
    struct emit e = {base + OFF_STUB};
    for (unsigned i = 0; i < sizeof(saved); i++) {
        if (saved[i] >= 8)
            byte(&e, 0x41);
        byte(&e, (uint8_t)(0x50 + (saved[i] & 7)));
    }
    mov_rip(&e, 0x89, 4, base + OFF_RSP);
    /* push qword [rip + in.rflags] (FF /6); popfq */
    byte(&e, 0xff);
    byte(&e, 0x35);
    rel32(&e, (uint8_t *)&rin->rflags);
    byte(&e, 0x9d);
    for (unsigned r = 0; r < 16; r++)
        mov_rip(&e, 0x8b, r, (uint8_t *)&rin->gpr[r]);
    /* jmp rel32 to the instruction */
    byte(&e, 0xe9);
    rel32(&e, base + pos);
    e.at = base + pos;
    memcpy(e.at, insn, len);
    e.at += len;
    for (unsigned r = 0; r < 16; r++)
        mov_rip(&e, 0x89, r, (uint8_t *)&rout->gpr[r]);
    mov_rip(&e, 0x8b, 4, base + OFF_RSP);
    /* pushfq; pop qword [rip + out.rflags] (8F /0); cld */
    byte(&e, 0x9c);
    byte(&e, 0x8f);
    byte(&e, 0x05);
    rel32(&e, (uint8_t *)&rout->rflags);
    byte(&e, 0xfc);
    for (int i = (int)sizeof(saved) - 1; i >= 0; i--) {
        if (saved[i] >= 8)
            byte(&e, 0x41);
        byte(&e, (uint8_t)(0x58 + (saved[i] & 7)));
    }
    byte(&e, 0xc3);
    ((void (*)(void))(base + OFF_STUB))();
    *out = *rout;
}

/* Where a faulting instruction's signal handler goes back to. */
static sigjmp_buf fault_env;

static void on_fault(int sig)
{
    siglongjmp(fault_env, sig);
}

int native_try(const uint8_t *insn, unsigned len, unsigned pos, const struct native_regs *in,
               struct native_regs *out)
{
    /* The handler's own stack: the instruction's RSP is the test's value. */
    static uint8_t altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
    sigaltstack(&ss, NULL);
    struct sigaction sa = {.sa_handler = on_fault, .sa_flags = SA_ONSTACK | SA_NODEFER};
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = {SIGILL, SIGSEGV, SIGBUS, SIGFPE};
    struct sigaction old[4];
    for (int i = 0; i < 4; i++)
        sigaction(sigs[i], &sa, &old[i]);
    /* volatile: it must survive the siglongjmp. */
    volatile int sig = sigsetjmp(fault_env, 1);
    if (sig == 0)
        native_run(insn, len, pos, in, out);
    for (int i = 0; i < 4; i++)
        sigaction(sigs[i], &old[i], NULL);
    return sig;
}
