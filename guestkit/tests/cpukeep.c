/*
 * cpukeep: a guest whose CPU registers that a hypervisor never uses must
 * stay its own while other guests share the CPU.  With `seed=N` (1 to 9)
 * it puts values of its own into
 *   - XCR0: x87 | SSE | AVX for an odd seed, x87 | SSE for an even one
 *     (SDM vol 1 13.3 "Enabling the XSAVE Feature Set and XSAVE-Enabled
 *     Features"), and with AVX on a pattern of its own in YMM15, both
 *     halves (the upper one is the XSAVE area's AVX component, not FXSAVE's);
 *   - CR2 (SDM vol 3A 4.7 "Page-Fault Exceptions" says what the processor
 *     puts there; MOV to CR2 puts anything), DR6's B0-B3 bits (SDM vol 3B
 *     18.2.3 "Debug Status Register (DR6)");
 *   - the system-call MSRs STAR, LSTAR, CSTAR, SFMASK and KernelGSbase
 *     (SDM vol 3A 5.8.8 "Fast System Calls in 64-Bit Mode"), and TSC_AUX,
 *     which RDTSCP returns (SDM vol 2B "RDTSCP"), when the CPU has it;
 * then every 20 ms of the PIT's time, for `periods=P` periods (default
 * 100, 2 s), reads them all back (with `noxsave`, all but XCR0 and YMM15,
 * as on a CPU without them): "cpukeep N: kept to period K" every 25
 * periods, or "cpukeep N: LSTAR lost at period K" and exit 1 when one
 * changed.  Nothing in the guest touches them meanwhile.
 *
 * Under hv several domains run it at once with different seeds
 * (tests/integration/cpukeep.sh), so the CPU switches between them many
 * times: each must find its own values every time.  On plain QEMU each
 * seed runs alone and prints the same lines.  Without XSAVE and AVX
 * (CPUID.1:ECX bits 26 and 28) it keeps the rest and says so.
 */
#include "guestkit/guestkit.h"
#include "guestkit/parse.h"
#include "guestkit/pic.h"

#define CR4_OSXSAVE      (1ull << 18)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_AVX   (1u << 28)
#define PERIOD           (PIT_HZ / 50)

#define MSR_STAR           0xc0000081u
#define MSR_LSTAR          0xc0000082u
#define MSR_CSTAR          0xc0000083u
#define MSR_SFMASK         0xc0000084u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_TSC_AUX        0xc0000103u

/* What the guest set, and where it reads each back. */
struct kept {
    const char *name;
    uint64_t want;
};

static uint8_t pattern[32] __attribute__((aligned(32)));
static uint8_t back[32] __attribute__((aligned(32)));

static void write_cr4(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static void write_cr2(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr2" : : "r"(v));
}

static uint64_t read_dr6(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    return v;
}

static void write_dr6(uint64_t v)
{
    __asm__ volatile("mov %0, %%dr6" : : "r"(v));
}

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

/* The MSRs in the order of `names`, canonical addresses and SFMASK's
 * defined low half, all different for each seed. */
static const uint32_t msrs[5] = {MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_KERNEL_GS_BASE};
static const char *const msr_names[5] = {"STAR", "LSTAR", "CSTAR", "SFMASK", "KERNEL_GS_BASE"};

static uint64_t msr_value(unsigned i, unsigned seed)
{
    switch (i) {
    case 0:
        return 0x0023001000000000ull + seed;
    case 1:
        return 0xffffffff81000000ull + seed * 0x1000ull;
    case 2:
        return 0xffffffff82000000ull + seed * 0x1000ull;
    case 3:
        return 0x4700u + seed;
    default:
        return 0xffff888000000000ull + seed * 0x100000ull;
    }
}

/* XCR0 and YMM15 as the seed asks, when the CPU has them; false when it
 * does not. */
static bool set_xstate(unsigned seed, uint64_t *xcr0)
{
    uint32_t ecx = cpuid(1).ecx;
    if ((ecx & (CPUID1_ECX_XSAVE | CPUID1_ECX_AVX)) != (CPUID1_ECX_XSAVE | CPUID1_ECX_AVX))
        return false;
    write_cr4(read_cr4() | CR4_OSXSAVE);
    *xcr0 = seed & 1 ? 7 : 3;
    __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)*xcr0), "d"(0u));
    if (*xcr0 & 4) {
        for (unsigned i = 0; i < sizeof(pattern); i++)
            pattern[i] = (uint8_t)(seed * 0x10 + i + 1);
        __asm__ volatile("vmovdqu %0, %%ymm15" : : "m"(pattern));
    }
    return true;
}

/* RDTSCP (CPUID.80000001H:EDX bit 27) brings TSC_AUX; the value this
 * seed puts there. */
static bool has_tsc_aux(void)
{
    return cpuid(0x80000000u).eax >= 0x80000001u &&
           (cpuid(0x80000001u).edx & X86_CPUID_EXT1_EDX_RDTSCP);
}

static uint64_t tsc_aux_value(unsigned seed)
{
    return 0xc0de0000u + seed;
}

/* Which value changed, or NULL when all are as set. */
static const char *first_lost(unsigned seed, bool xstate, uint64_t xcr0, uint64_t dr6, bool aux)
{
    if (xstate && xgetbv0() != xcr0)
        return "XCR0";
    if (xstate && (xcr0 & 4)) {
        __asm__ volatile("vmovdqu %%ymm15, %0" : "=m"(back));
        if (memcmp(back, pattern, sizeof(back)) != 0)
            return "YMM15";
    }
    if (read_cr2() != 0x12340000ull + seed)
        return "CR2";
    if (read_dr6() != dr6)
        return "DR6";
    for (unsigned i = 0; i < 5; i++)
        if (rdmsr(msrs[i]) != msr_value(i, seed))
            return msr_names[i];
    if (aux && rdmsr(MSR_TSC_AUX) != tsc_aux_value(seed))
        return "TSC_AUX";
    return NULL;
}

int main(int argc, char **argv)
{
    const char *s = gk_arg_value(argc, argv, "seed"), *p = gk_arg_value(argc, argv, "periods");
    unsigned seed = s ? (unsigned)kstrtoull(s, NULL, 0) : 1;
    unsigned periods = p ? (unsigned)kstrtoull(p, NULL, 0) : 100;
    if (seed < 1 || seed > 9) {
        printf("cpukeep: seed=%s: want 1 to 9\n", s);
        return 2;
    }
    uint64_t xcr0 = 0;
    bool xstate = !gk_arg_value(argc, argv, "noxsave") && set_xstate(seed, &xcr0);
    write_cr2(0x12340000ull + seed);
    /* B0-B3 say which breakpoint condition was met; the seed's low bits. */
    write_dr6(0xffff0ff0ull | (seed & 0xf));
    uint64_t dr6 = read_dr6();
    for (unsigned i = 0; i < 5; i++)
        wrmsr(msrs[i], msr_value(i, seed));
    bool aux = has_tsc_aux();
    if (aux)
        wrmsr(MSR_TSC_AUX, tsc_aux_value(seed));
    if (xstate)
        printf("cpukeep %u: XCR0 %#llx%s, CR2, DR6, STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE%s "
               "set\n",
               seed, (unsigned long long)xcr0, xcr0 & 4 ? ", YMM15" : "", aux ? ", TSC_AUX" : "");
    else
        printf("cpukeep %u: XCR0 and YMM15 left alone; CR2, DR6, STAR, LSTAR, CSTAR, SFMASK, "
               "KERNEL_GS_BASE%s set\n",
               seed, aux ? ", TSC_AUX" : "");
    pit_stop();
    for (unsigned k = 1; k <= periods; k++) {
        pit_oneshot(PERIOD);
        while (!pit_out())
            ;
        const char *lost = first_lost(seed, xstate, xcr0, dr6, aux);
        if (lost) {
            printf("cpukeep %u: %s lost at period %u\n", seed, lost, k);
            return 1;
        }
        if (k % 25 == 0)
            printf("cpukeep %u: kept to period %u\n", seed, k);
    }
    return 0;
}
