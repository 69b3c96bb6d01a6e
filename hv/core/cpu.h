/*
 * cpu.h - thin wrappers around privileged x86 instructions, for hv.  The
 * ones guests use too (CPUID, RDMSR/WRMSR, port I/O, reading CR0-CR4) are
 * in include/hvkit/x86.h; here are those only hv needs.  SDM vol 2 / AMD
 * APM vol 3 describe each instruction.  Compiled hosted as well (through
 * cpuid.h, for the unit tests), where nothing here is called.
 */
#ifndef HV_CORE_CPU_H
#define HV_CORE_CPU_H

#include <stdint.h>

#include "hvkit/x86.h"

/* asm volatile, as in include/hvkit/x86.h: each instruction has effects
 * the compiler cannot see, so it must never be removed or moved. */

/* The time-stamp counter (SDM vol 3B "Time-Stamp Counter"), hv's clock for
 * the guest's PIT; not serializing, which is fine at PIT resolution. */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* The "memory" clobber: a CR4 change (e.g. VMXE) must not be reordered
 * with the memory accesses around it. */
static inline void write_cr4(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

/* Load extended control register `index` (XCR0 for 0) from EDX:EAX (SDM
 * vol 2D "XSETBV"); needs CR4.OSXSAVE, which hv_main() sets. */
static inline void xsetbv(uint32_t index, uint64_t v)
{
    __asm__ volatile("xsetbv" : : "c"(index), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* Read extended control register `index` into EDX:EAX (SDM vol 2D
 * "XGETBV"); needs CR4.OSXSAVE too. */
static inline uint64_t xgetbv(uint32_t index)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
    return (uint64_t)hi << 32 | lo;
}

/* DR6, the debug status register (SDM vol 3B 18.2.3 "Debug Status
 * Register (DR6)"): VT-x leaves the guest's in the processor, where the
 * VT-x backend sets BS for a single-step trap (vmx/vcpu.c). */
static inline uint64_t read_dr6(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    return v;
}

static inline void write_dr6(uint64_t v)
{
    __asm__ volatile("mov %0, %%dr6" : : "r"(v));
}

/* CR2, the page-fault linear address: VT-x leaves the guest's in the
 * processor too.  MOV to it needs CPL 0, which hv has (SDM vol 2B
 * "MOV-Move to/from Control Registers"); read_cr2() is hvkit/x86.h's. */
static inline void write_cr2(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr2" : : "r"(v));
}

/* Stop this CPU for good (interrupts are off in hv). */
static inline __attribute__((noreturn)) void cpu_halt_forever(void)
{
    /* HLT can still be left by an NMI or SMI: halt again each time. */
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* Architectural MSR numbers used by the core and both backends. */
#define MSR_TSC             0x10u
#define MSR_APIC_BASE       0x1bu
#define MSR_FEATURE_CONTROL 0x3au
#define MSR_SYSENTER_CS     0x174u
#define MSR_SYSENTER_ESP    0x175u
#define MSR_SYSENTER_EIP    0x176u
#define MSR_PAT             0x277u
#define MSR_EFER            0xc0000080u
#define MSR_STAR            0xc0000081u
#define MSR_LSTAR           0xc0000082u
#define MSR_CSTAR           0xc0000083u
#define MSR_SFMASK          0xc0000084u
#define MSR_FS_BASE         0xc0000100u
#define MSR_GS_BASE         0xc0000101u
#define MSR_KERNEL_GS_BASE  0xc0000102u
#define MSR_TSC_AUX         0xc0000103u

/* EFER bits (AMD APM vol 2 3.1.7 "Extended Feature Enable Register (EFER)", SDM vol 3A 2.2.1
 * "Extended Feature Enable Register"). */
#define EFER_SCE   (1ull << 0)
#define EFER_LME   (1ull << 8)
#define EFER_LMA   (1ull << 10)
#define EFER_NXE   (1ull << 11)
#define EFER_SVME  (1ull << 12)
#define EFER_LMSLE (1ull << 13)
#define EFER_FFXSR (1ull << 14)
#define EFER_TCE   (1ull << 15)

/* CR0 and CR4 bits (SDM vol 3A 2.5 "Control Registers", APM vol 2 3.1 "System-Control Registers").
 */
#define CR0_PE      (1ull << 0)
#define CR0_MP      (1ull << 1)
#define CR0_EM      (1ull << 2)
#define CR0_TS      (1ull << 3)
#define CR0_ET      (1ull << 4)
#define CR0_NE      (1ull << 5)
#define CR0_WP      (1ull << 16)
#define CR0_AM      (1ull << 18)
#define CR0_NW      (1ull << 29)
#define CR0_CD      (1ull << 30)
#define CR0_PG      (1ull << 31)
#define CR4_PSE     (1ull << 4)
#define CR4_PAE     (1ull << 5)
#define CR4_PGE     (1ull << 7)
#define CR4_OSFXSR  (1ull << 9)
#define CR4_VMXE    (1ull << 13)
#define CR4_OSXSAVE (1ull << 18)

/* RFLAGS bits. */
#define RFLAGS_FIXED (1ull << 1) /* reserved, always 1 */
#define RFLAGS_TF    (1ull << 8) /* trap flag: single-step */
#define RFLAGS_IF    (1ull << 9)
#define RFLAGS_DF    (1ull << 10)
/* RF, the resume flag (SDM vol 3B 18.3.1.1 "Instruction-Breakpoint
 * Exception Condition"). */
#define RFLAGS_RF (1ull << 16)

/* DR6.BS: the #DB came from single-stepping (SDM vol 3B 18.2.3 "Debug
 * Status Register (DR6)"). */
#define DR6_BS (1ull << 14)
/* The debug exception's vector (SDM vol 3A 6.15 "Exception and Interrupt
 * Reference", "Interrupt 1-Debug Exception (#DB)"). */
#define VEC_DB 1

#endif
