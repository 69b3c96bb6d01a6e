/*
 * vcpu.h - the vendor-neutral state of one virtual CPU of a domain.
 *
 * The core owns the guest's general-purpose registers, RIP and RFLAGS here,
 * and the architectural control state it emulates.  The backend copies them
 * into its VMCB / VMCS before each entry and back after each exit (see
 * backend.h, run()), so core code reads and writes guest registers only
 * through this structure.
 *
 * Plain definitions, compiled hosted too.
 */
#ifndef HV_CORE_VCPU_H
#define HV_CORE_VCPU_H

/*
 * Guest general-purpose registers in a fixed order: the backends' assembly
 * entry code (hv/svm/enter.S, hv/vmx/enter.S) loads and stores them by the
 * offsets below, so do not reorder the fields.  RSP and RAX are here for the
 * core's benefit; an SVM backend also keeps them in the VMCB (APM vol 2
 * 15.5.1 "Basic Operation": VMRUN loads only RAX, RSP, RIP and RFLAGS), a VMX backend keeps RSP
 * in the VMCS (SDM vol 3C 25.4.1 "Guest Register State").
 */
/* Byte offsets of struct gprs for assembly (checked below). */
#define GPRS_RAX 0
#define GPRS_RBX 8
#define GPRS_RCX 16
#define GPRS_RDX 24
#define GPRS_RSI 32
#define GPRS_RDI 40
#define GPRS_RBP 48
#define GPRS_RSP 56
#define GPRS_R8  64
#define GPRS_R9  72
#define GPRS_R10 80
#define GPRS_R11 88
#define GPRS_R12 96
#define GPRS_R13 104
#define GPRS_R14 112
#define GPRS_R15 120

/* The C part; enter.S includes this file only for the offsets above. */
#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

#include "dev/lapic.h"

struct domain;

struct gprs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

struct vcpu {
    /* General registers, RIP and RFLAGS: the core may change any of them
     * during an exit (e.g. RAX for IN, RIP to skip an instruction); the
     * backend loads them into the hardware before the next entry. */
    struct gprs regs;
    uint64_t rip;
    uint64_t rflags;

    /* Control state, copied out by the backend after every exit so the core
     * (trace, string I/O address translation, crash reports) can read it.
     * The core writes cr0 only when it emulates an EXIT_CR_WRITE; a backend
     * that produces EXIT_CR_WRITE loads cr0 back at the next entry. */
    uint64_t cr0, cr2, cr3, cr4;

    /* The EFER the guest sees (AMD APM vol 2 3.1.7 "Extended Feature Enable Register (EFER)", SDM
     * vol 3A 2.2.1 "Extended Feature Enable Register").  The core emulates RDMSR/WRMSR of EFER
     * against this value; the backend derives the hardware value from it (SVM adds SVME, which
     * VMRUN requires; VMX uses the VM-entry "load IA32_EFER" control) and copies back the bits the
     * CPU changes itself (LMA) after each exit. */
    uint64_t efer;

    /* Guest PAT (MSR 0x277); emulated by the core, loaded by the backend
     * (SVM: VMCB G_PAT; VMX: guest IA32_PAT field). */
    uint64_t pat;

    /* The guest's TSC is the host's plus tsc_offset, which the backend
     * loads into its TSC offset field (SVM: VMCB offset 0x50, APM vol 2
     * appendix B "Layout of VMCB"; VMX: "use TSC offsetting" and the
     * TSC-offset field, SDM vol 3C 25.6.5 "Time-Stamp Counter Offset and
     * Multiplier").  A guest WRMSR to the TSC or to IA32_TSC_ADJUST changes
     * it; it is also the guest's IA32_TSC_ADJUST, since both start at 0
     * and move together (SDM vol 3B 18.17.3 "Time-Stamp Counter
     * Adjustment"). */
    uint64_t tsc_offset;

    /* MSRs the core emulates as plain registers (core/msr.c):
     * IA32_MISC_ENABLE (0x1a0), IA32_DS_AREA (0x600). */
    uint64_t misc_enable;
    uint64_t ds_area;

    /* The guest's XCR0, as its last XSETBV set it (dispatch.c; on SVM the
     * CPU executes XSETBV itself and this stays at its reset value). */
    uint64_t xcr0;

    /* The vCPU's local APIC (dev/lapic.h): its registers, timer and
     * interrupt requests; irq.c delivers what it hands the CPU. */
    struct lapic lapic;

    /* The guest's IDTR, copied out after every exit by backends that
     * intercept #DF (EXIT_EXCEPTION vector 8): the core looks at the IDT to
     * tell whether the double fault can still be delivered. */
    uint64_t idtr_base;
    uint16_t idtr_limit;

    /* Guest CPL and code-segment mode, copied out after every exit, for the
     * core's checks (hypercalls only from ring 0, hypercall.c) and its string I/O. */
    uint8_t cpl;
    uint8_t cs_long; /* CS.L: 64-bit code */
    uint8_t cs_db;   /* CS.D: 32-bit default operand size */

    /* The segment bases ES, CS, SS, DS, FS, GS (in the SDM's Sreg order,
     * emu.h enum emu_seg), copied out after every exit, for the MMIO
     * emulator's linear addresses: real-mode and 16/32-bit guests address
     * memory through them, 64-bit guests through FS and GS. */
    uint64_t seg_base[6];

    /* Interrupt delivery state, for the core's interrupt injection:
     * int_shadow is 1 while the guest is in the one-instruction interrupt
     * shadow after STI or MOV SS (SVM VMCB INTERRUPT_SHADOW, APM vol 2
     * 15.21.5 "Interrupt Shadows"; VMX interruptibility state bits 0-1, SDM vol 3C 25.4.2 "Guest
     * Non-Register State"). The backend copies it out after each exit and back in before each entry
     * (the core clears it when it skips an instruction). event_pending is set by the backend while
     * an event is queued for the next entry (an injected exception or interrupt, or one whose
     * delivery an exit interrupted and which must be re-injected), so that the core never queues a
     * second one. */
    uint8_t int_shadow;
    uint8_t event_pending;

    /* An interrupt window is being asked for (backend->irq_window): kept
     * so that irq.c calls the backend only when the request changes. */
    bool irq_window;

    /* Number of VM exits of this vCPU so far (HC_EXIT_COUNT). */
    uint64_t exit_count;

    /* The domain this vCPU belongs to (domain.h): its memory, buses,
     * devices and run state.  Handlers reach all of those through here. */
    struct domain *dom;
    /* The vCPU's number within its domain (0 = the bootstrap processor). */
    unsigned id;

    /* Host-physical address of the second-level tables' root, which the
     * core builds (core/guestmem.h) before vcpu_init: N_CR3 / the EPT
     * pointer's address. */
    uint64_t slat_root;

    /* The backend's private per-vCPU data (its VMCB or VMCS and tables). */
    void *arch;
};

/* A general register by its x86 encoding number (SDM vol 2A 2.1.5
 * "Addressing-Mode Encoding of ModR/M and SIB Bytes"): 0 RAX, 1 RCX,
 * 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15.  For the
 * core's decoders (CR0 writes, the MMIO emulator) and VT-x's exit
 * qualifications, since struct gprs is in the assembly's order instead.
 * RSP is there too: backends copy the guest's RSP into regs at every exit. */
static inline uint64_t *gpr_by_number(struct gprs *r, unsigned n)
{
    uint64_t *by_number[16] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp,
                               &r->rsi, &r->rdi, &r->r8,  &r->r9,  &r->r10, &r->r11,
                               &r->r12, &r->r13, &r->r14, &r->r15};
    /* The mask keeps a bad number from ever indexing outside the table. */
    return by_number[n & 15];
}

_Static_assert(__builtin_offsetof(struct gprs, rsi) == GPRS_RSI, "GPRS_RSI");
_Static_assert(__builtin_offsetof(struct gprs, r15) == GPRS_R15, "GPRS_R15");
_Static_assert(sizeof(struct gprs) == 128, "struct gprs is 16 registers");

#endif /* __ASSEMBLER__ */

#endif
