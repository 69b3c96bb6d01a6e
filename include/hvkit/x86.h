/*
 * x86.h - the x86-64 instruction wrappers that hv and the guests share.
 *
 * Each function is one instruction (CPUID, RDMSR, WRMSR, IN, OUT, MOV from
 * a control register) and is named after it, so that a reader who knows
 * the Intel SDM vol. 2 or the AMD APM vol. 3 recognises it at once.  hv
 * (hv/core/cpu.h) and guestkit (guestkit/include/guestkit/x86.h) include
 * this header and add their own helpers: only hv writes CR4 and reads the
 * TSC, only a guest toggles the interrupt flag.  Bit names stay with each
 * side, in plain headers.
 *
 * Every wrapper uses `asm volatile`: the instruction has effects the
 * compiler cannot see (it talks to a device, to the CPU's state or to the
 * hypervisor that intercepts it), so it must never be removed, merged with
 * another or moved across one.
 *
 * The header is also compiled hosted (hv's CPUID policy is unit tested on
 * Linux); the functions are then defined but never called.
 */
#ifndef HVKIT_X86_H
#define HVKIT_X86_H

#include <stdint.h>

/* ---- CPUID (SDM vol. 2A "CPUID-CPU Identification"; APM vol. 3 "CPUID") -- */

/* The four registers CPUID returns, as one value. */
struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

/*
 * CPUID with the leaf in EAX and the subleaf in ECX.  Some leaves (4, 7,
 * 0xB, 0xD) answer differently per subleaf; the others ignore ECX.  Under
 * hv, CPUID always exits to the hypervisor (VMX: unconditionally, SDM vol.
 * 3C 26.1.2 "Instructions That Cause VM Exits Unconditionally"; SVM: hv sets the intercept, APM
 * vol. 2 15.9 "Instruction Intercepts"), which answers with the host's values filtered by
 * hv/core/cpuid.c.
 */
static inline struct cpuid_regs cpuid_count(uint32_t leaf, uint32_t subleaf)
{
    /* CPUID writes all four registers, whatever the leaf. */
    struct cpuid_regs r;
    __asm__ volatile("cpuid"
                     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf));
    return r;
}

/* CPUID of a leaf that has no subleaves; ECX is given a defined 0. */
static inline struct cpuid_regs cpuid(uint32_t leaf)
{
    return cpuid_count(leaf, 0);
}

/* ---- MSRs (SDM vol. 2B "RDMSR", "WRMSR"; APM vol. 3 "RDMSR", "WRMSR") ----- */

/*
 * RDMSR: EDX:EAX = MSR[ECX].  The value comes in two 32-bit halves even in
 * 64-bit mode (the upper halves of RAX and RDX are zeroed).  An MSR the CPU
 * does not have raises #GP(0): in hv, hv/core/trap.c reports it; a guest
 * that wants to survive it uses guestkit's msr.h.
 */
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

/*
 * WRMSR: MSR[ECX] = EDX:EAX, so the 64-bit value is split in two.  The
 * "memory" clobber keeps memory accesses on their side of the write: an
 * MSR may change how memory is accessed (EFER, PAT) or name memory the CPU
 * will use (SVM's VM_HSAVE_PA).
 */
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* ---- Port I/O (SDM vol. 1 ch. 19 "Input/Output"; vol. 2A "IN", 2B "OUT") - */

/*
 * OUT of 1, 2 or 4 bytes.  The value must be in AL, AX or EAX ("a"); the
 * port is an 8-bit immediate when the compiler can (ports below 0x100)
 * and DX otherwise ("Nd"), the only two forms OUT has.
 */
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

/* IN of 1, 2 or 4 bytes into AL, AX or EAX, with the same port forms. */
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

/* ---- Control registers (SDM vol. 2B "MOV-Move to/from Control Registers";
 *      APM vol. 3 "MOV CRn") ---------------------------------------------- */

/*
 * read_cr0(), read_cr2(), read_cr3(), read_cr4(): MOV from a control
 * register names the register inside the instruction, so each one needs
 * its own function.  Only CPL 0 may execute them (#GP otherwise).
 */
#define HVKIT_DEFINE_READ_CR(n)                                                                    \
    static inline uint64_t read_cr##n(void)                                                        \
    {                                                                                              \
        uint64_t v;                                                                                \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                          \
        return v;                                                                                  \
    }
HVKIT_DEFINE_READ_CR(0)
HVKIT_DEFINE_READ_CR(2)
HVKIT_DEFINE_READ_CR(3)
HVKIT_DEFINE_READ_CR(4)
/* CR8 exists in 64-bit mode only: the local APIC's task priority, TPR bits
 * 7:4 (SDM vol 3A 11.8.6.1 "Interaction of Task Priorities between CR8 and
 * APIC"). */
HVKIT_DEFINE_READ_CR(8)
#undef HVKIT_DEFINE_READ_CR

/* write_cr8(): MOV to CR8, the TPR's class (bits 3:0 of v). */
static inline void write_cr8(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr8" : : "r"(v) : "memory");
}

#endif
