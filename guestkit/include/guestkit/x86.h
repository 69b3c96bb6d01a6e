/*
 * Thin wrappers around the x86 instructions a guest needs: port I/O, CPUID,
 * MSRs, control registers and interrupt-flag control.  Each is one
 * instruction; the names follow the instruction so that a reader who knows
 * the Intel SDM (vol. 2) or AMD APM (vol. 3) recognises them at once.
 */
#ifndef GUESTKIT_X86_H
#define GUESTKIT_X86_H

#include <stdint.h>

/* ---- Port I/O (SDM vol. 1, 19.2 "I/O Port Addressing") ------------------- */
static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* ---- CPUID (SDM vol. 2A, "CPUID") ---------------------------------------- */
struct cpuid_regs {
    uint32_t a, b, c, d;
};
static inline struct cpuid_regs cpuid_count(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid"
                     : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d)
                     : "a"(leaf), "c"(subleaf));
    return r;
}
static inline struct cpuid_regs cpuid(uint32_t leaf)
{
    return cpuid_count(leaf, 0);
}

/* ---- MSRs (SDM vol. 2B, "RDMSR"/"WRMSR"); see msr.h for the safe forms ---- */
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* ---- Control registers ---------------------------------------------------- */
static inline uint64_t read_cr0(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
static inline uint64_t read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
static inline uint64_t read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
static inline uint64_t read_cr4(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
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

/* ---- Bit names ------------------------------------------------------------ */
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

/* Exception vectors (SDM vol. 3A, table 6-1). */
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
