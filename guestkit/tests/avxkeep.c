/*
 * avxkeep: a guest whose AVX state must survive a snapshot.  It enables
 * the XSAVE feature set and AVX (CR4.OSXSAVE, then XCR0 = x87 | SSE | AVX
 * with XSETBV, SDM vol 1 13.3 "Enabling the XSAVE Feature Set and
 * XSAVE-Enabled Features"), puts a pattern into YMM15, both halves, and
 * counts like the counter guest: every 20 ms of the PIT's time it reads
 * YMM15 back and prints "avx N kept", or "avx: YMM15 lost at N" and exits
 * 1 when a half changed, up to 100 (2 s).
 *
 * A snapshot taken while it counts and loaded into another guest's boot
 * (tests/integration/vmstate-hv.sh) brings it back only if the state held
 * XCR0 -- without AVX enabled in XCR0 the next VMOVDQU is #UD (SDM vol 2A
 * 2.8 "Exception Classifications of AVX Instructions") -- and the upper
 * halves of the YMM registers, which the FXSAVE image does not hold.
 * Without AVX (CPUID.1:ECX bits 26 XSAVE and 28 AVX) it says so and exits
 * 0.  The same guest runs on plain QEMU (-cpu max has AVX).
 */
#include "guestkit/guestkit.h"
#include "guestkit/pic.h"

#define CR4_OSXSAVE      (1ull << 18)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_AVX   (1u << 28)
#define PERIOD           (PIT_HZ / 50)
#define LIMIT            100

/* The pattern YMM15 holds: 32 bytes, none zero, so neither half reads as
 * AVX's initial state. */
static uint8_t pattern[32] __attribute__((aligned(32)));
static uint8_t back[32] __attribute__((aligned(32)));
/* In RAM, as the counter guest keeps its count. */
static volatile unsigned long count;

static void write_cr4(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint32_t ecx = cpuid(1).ecx;
    if ((ecx & (CPUID1_ECX_XSAVE | CPUID1_ECX_AVX)) != (CPUID1_ECX_XSAVE | CPUID1_ECX_AVX)) {
        printf("avxkeep: no XSAVE or AVX on this CPU\n");
        return 0;
    }
    write_cr4(read_cr4() | CR4_OSXSAVE);
    /* XCR0 = 7: x87, SSE and AVX (EDX:EAX, ECX = 0 names XCR0). */
    __asm__ volatile("xsetbv" : : "c"(0), "a"(7u), "d"(0u));
    for (unsigned i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)(0xa0 + i);
    __asm__ volatile("vmovdqu %0, %%ymm15" : : "m"(pattern));
    printf("avxkeep: YMM15 holds the pattern\n");
    pit_stop();
    for (count = 1; count <= LIMIT; count++) {
        pit_oneshot(PERIOD);
        while (!pit_out())
            ;
        __asm__ volatile("vmovdqu %%ymm15, %0" : "=m"(back));
        if (memcmp(back, pattern, sizeof(back)) != 0) {
            printf("avx: YMM15 lost at %lu\n", count);
            return 1;
        }
        printf("avx %lu kept\n", count);
    }
    return 0;
}
