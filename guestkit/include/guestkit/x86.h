/*
 * The x86 instructions a guest needs.  Port I/O, CPUID, MSRs and reading
 * the control registers are shared with hv in include/hvkit/x86.h; what is
 * here only a guest does: read RFLAGS and control the interrupt flag.
 * Each is one instruction, named after it, so that a reader who knows the
 * Intel SDM (vol. 2) or AMD APM (vol. 3) recognises them at once.
 */
#ifndef GUESTKIT_X86_H
#define GUESTKIT_X86_H

#include <stdint.h>

#include "hvkit/x86.h"

/* RFLAGS has no MOV form: push it and pop it into a register (SDM vol. 2B
 * "PUSHF/PUSHFD/PUSHFQ"). */
static inline uint64_t read_rflags(void)
{
    uint64_t v;
    __asm__ volatile("pushfq; popq %0" : "=r"(v));
    return v;
}

/* ---- Interrupt flag and halting ------------------------------------------- */
static inline void cli(void)
{
    __asm__ volatile("cli" ::: "memory");
}
static inline void sti(void)
{
    __asm__ volatile("sti" ::: "memory");
}
/* STI delays interrupt recognition by one instruction (SDM vol. 2B, "STI"),
 * so "sti; hlt" cannot lose an interrupt that arrives between the two. */
static inline void safe_halt(void)
{
    __asm__ volatile("sti; hlt" ::: "memory");
}

/* The time-stamp counter (SDM vol. 2B "RDTSC"): under hv the host's, plus
 * the offset a write to the TSC set; no exit. */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* ---- Bit names ------------------------------------------------------------ */
#define X86_RFLAGS_TF (1ull << 8)
#define X86_RFLAGS_IF (1ull << 9)
#define X86_CR0_PE    (1ull << 0)
#define X86_CR0_PG    (1ull << 31)
#define X86_CR4_PAE   (1ull << 5)
#define X86_EFER_SCE  (1ull << 0)
#define X86_EFER_LME  (1ull << 8)
#define X86_EFER_LMA  (1ull << 10)

/* CPUID.1:EDX and ECX */
#define X86_CPUID1_EDX_FPU        (1u << 0)
#define X86_CPUID1_EDX_TSC        (1u << 4)
#define X86_CPUID1_EDX_MSR        (1u << 5)
#define X86_CPUID1_EDX_PAE        (1u << 6)
#define X86_CPUID1_EDX_APIC       (1u << 9)
#define X86_CPUID1_EDX_SEP        (1u << 11)
#define X86_CPUID1_ECX_HYPERVISOR (1u << 31)
/* CPUID.80000001h:EDX */
#define X86_CPUID_EXT1_EDX_NX     (1u << 20)
#define X86_CPUID_EXT1_EDX_RDTSCP (1u << 27)
#define X86_CPUID_EXT1_EDX_LM     (1u << 29)

/* Exception vectors (SDM vol. 3A, table 6-1 "Protected-Mode Exceptions and Interrupts"). */
#define DE_VECTOR  0
#define DB_VECTOR  1
#define NMI_VECTOR 2
#define BP_VECTOR  3
#define OF_VECTOR  4
#define BR_VECTOR  5
#define UD_VECTOR  6
#define NM_VECTOR  7
#define DF_VECTOR  8
#define TS_VECTOR  10
#define NP_VECTOR  11
#define SS_VECTOR  12
#define GP_VECTOR  13
#define PF_VECTOR  14
#define MF_VECTOR  16
#define AC_VECTOR  17
#define MC_VECTOR  18
#define XM_VECTOR  19
#define VE_VECTOR  20
#define CP_VECTOR  21

#endif
