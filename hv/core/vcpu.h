/*
 * vcpu.h - the vendor-neutral state of one virtual CPU of a domain.
 *
 * The core reads and writes the guest's registers only through this
 * structure, never in a VMCB or VMCS.  Most of that state is copied lazily
 * (see "Lazy guest state" below): after an exit struct vcpu holds the
 * general registers and RIP; the rest comes from the VMCB / VMCS when the
 * core asks for it, and goes back only when the core changed it.
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

#include "cpuid.h"
#include "dev/lapic.h"

struct domain;

/*
 * Lazy guest state.  Copying the whole guest state out of the VMCB or VMCS
 * after every exit and back before every entry is the slow way: on VT-x
 * each field is a VMREAD or VMWRITE, an instruction the CPU (and, nested,
 * the emulator) carries out with care, and a CPUID exit needs only RAX,
 * RCX, RIP and RFLAGS.  So the state is split into the groups below and
 * kept with two plain bit masks in struct vcpu:
 *
 *   loaded  the groups whose fields in struct vcpu hold the guest's
 *           current values.  After an exit only VCPU_STATE_EAGER (RIP,
 *           RFLAGS, the interrupt shadow) and the general registers,
 *           which enter.S stores every time, are loaded.
 *   dirty   the groups the core changed since the exit; before the next
 *           entry the backend writes back exactly these, then clears both
 *           masks.
 *
 * The core asks for a group with vcpu_need() before it reads one of its
 * fields (which calls backend->load_state() for the groups not yet loaded)
 * and says vcpu_changed() after it wrote one (both in hv.h).  A group is
 * written only after it was loaded: the write-back stores the whole group.
 * VCPU_PAT and VCPU_TSC_OFFSET are the core's own values, which the guest
 * cannot change without an exit: they are always loaded and only ever
 * dirty.
 */
enum vcpu_state {
    VCPU_RIP = 1u << 0,        /* rip */
    VCPU_RSP = 1u << 1,        /* regs.rsp (the VMCB / VMCS holds it, not enter.S) */
    VCPU_RFLAGS = 1u << 2,     /* rflags */
    VCPU_CR = 1u << 3,         /* cr0, cr2, cr3, cr4 */
    VCPU_EFER = 1u << 4,       /* efer */
    VCPU_SEGS = 1u << 5,       /* cpl, cs_long, cs_db, seg_base[] */
    VCPU_IDTR = 1u << 6,       /* idtr_base, idtr_limit */
    VCPU_INT_SHADOW = 1u << 7, /* int_shadow */
    VCPU_PAT = 1u << 8,        /* pat */
    VCPU_TSC_OFFSET = 1u << 9, /* tsc_offset */
};
/* Every group. */
#define VCPU_STATE_ALL 0x3ffu
/* The core's own groups, never out of date in struct vcpu. */
#define VCPU_STATE_CORE (VCPU_PAT | VCPU_TSC_OFFSET)
/* What every exit brings into struct vcpu, besides the general registers:
 * RIP, and RFLAGS and the interrupt shadow, which every emulated
 * instruction reads and changes (advance() in dispatch.c), so that asking
 * for them one by one would only add a call to each exit. */
#define VCPU_STATE_EAGER (VCPU_STATE_CORE | VCPU_RIP | VCPU_RFLAGS | VCPU_INT_SHADOW)

/* vcpu->mp_state (core/smp.c). */
enum vcpu_mp_state {
    VCPU_MP_RUNNING,   /* scheduled (running or blocked in HLT) */
    VCPU_MP_WAIT_SIPI, /* an AP before its start, or after an INIT */
    VCPU_MP_STOPPED,   /* halted with IF=0: only an INIT moves it */
};

struct gprs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

struct vcpu {
    /* Which groups of guest state (enum vcpu_state above) struct vcpu
     * holds, and which of them the core changed since the last exit. */
    unsigned loaded;
    unsigned dirty;

    /* General registers, RIP and RFLAGS: the core may change any of them
     * during an exit (e.g. RAX for IN, RIP to skip an instruction); the
     * backend loads them into the hardware before the next entry.  regs
     * (except RSP) and RIP are always loaded; RSP and RFLAGS on demand. */
    struct gprs regs;
    uint64_t rip;
    uint64_t rflags;

    /* The exit fast path's fields (fastpath.h): with regs above, all that
     * a fast exit reads or writes in struct vcpu, in its first 256 bytes,
     * which lie on one page as the struct is aligned to 256 (checked
     * below).  On an emulator that empties its TLB at every world switch
     * (Bochs) each page a round trip touches costs a walk of hv's page
     * tables (bench/hv/README.md). */
    /* How many more exits the fast path may take before the backend's
     * run() returns: what fastpath_arm() found before the entry (0: none
     * at all; the exits left before the one that spends the exit budget,
     * max-exits=; UINT64_MAX without a budget). */
    uint64_t fast_left;
    /* The host TSC by which the run loop wants this vCPU back, as it last
     * told the backend (backend.h set_deadline), or UINT64_MAX: the exit
     * fast path returns to the loop once it has passed. */
    uint64_t deadline;
    /* The CPUID and port-I/O exits the fast path took during the
     * backend's current run(), which the run loop adds to exit_count and
     * the domain's statistics when run() returns (fastpath_account()): a
     * fast exit then writes to no page but the vCPU's and the guest
     * state's, and only one counter there. */
    uint64_t fast_cpuid, fast_io;
    /* The fast path's last answers, copied from the domain's pages into
     * the vCPU's: the CPUID table's entry it used last (cpuid.h), and the
     * last IN or OUT it found void (fast_port_size bytes at fast_port; 0:
     * none).  The domain's table and port bus change only on the full
     * path, and fastpath_arm() forgets both copies before each entry, so
     * a copy is never older than what it copies; a guest that repeats one
     * CPUID leaf or port then reads only its vCPU's page. */
    struct cpuid_entry fast_leaf;
    uint16_t fast_port;
    uint8_t fast_port_size;

    /* Control state (VCPU_CR), for the core's page walks (gva.c), CPUID's
     * OSXSAVE bit and the CR0/CR4 write checks.  The core writes cr0 only
     * when it emulates an EXIT_CR_WRITE (and cr4 on SVM); a backend that
     * produces EXIT_CR_WRITE loads them back at the next entry. */
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

    /* The guest's IDTR (VCPU_IDTR): for an intercepted #DF (EXIT_EXCEPTION
     * vector 8) the core looks at the IDT to tell whether the double fault
     * can still be delivered. */
    uint64_t idtr_base;
    uint16_t idtr_limit;

    /* Guest CPL and code-segment mode (VCPU_SEGS), for the core's checks
     * (hypercalls only from ring 0, hypercall.c) and its string I/O. */
    uint8_t cpl;
    uint8_t cs_long; /* CS.L: 64-bit code */
    uint8_t cs_db;   /* CS.D: 32-bit default operand size */

    /* The segment bases ES, CS, SS, DS, FS, GS (in the SDM's Sreg order,
     * emu.h enum emu_seg; VCPU_SEGS), for the MMIO
     * emulator's linear addresses: real-mode and 16/32-bit guests address
     * memory through them, 64-bit guests through FS and GS. */
    uint64_t seg_base[6];

    /* Interrupt delivery state, for the core's interrupt injection:
     * int_shadow is 1 while the guest is in the one-instruction interrupt
     * shadow after STI or MOV SS (SVM VMCB INTERRUPT_SHADOW, APM vol 2
     * 15.21.5 "Interrupt Shadows"; VMX interruptibility state bits 0-1, SDM vol 3C 25.4.2 "Guest
     * Non-Register State"); VCPU_INT_SHADOW (the core clears it when it skips an instruction).
     * event_pending is set by the backend while an event is queued for the next entry (an injected
     * exception or interrupt, or one whose delivery an exit interrupted and which must be
     * re-injected), so that the core never queues a second one. */
    uint8_t int_shadow;
    uint8_t event_pending;

    /* The local APIC's TPR as the guest's CR8 sees it (64-bit mode: CR8 is
     * TPR bits 7:4, SDM vol 3A 11.8.6.1 "Interaction of Task Priorities
     * between CR8 and APIC").  The core sets it from the APIC before each
     * entry (irq.c); the backend loads it into its virtual TPR (SVM's
     * V_TPR, VT-x's VTPR on the virtual-APIC page), which the guest's MOV
     * to/from CR8 use without an exit, and stores the guest's value back
     * after the exit; the core then takes a change into the APIC. */
    uint8_t tpr;

    /* An interrupt window is being asked for (backend->irq_window): kept
     * so that irq.c calls the backend only when the request changes. */
    bool irq_window;
    /* The CPU's NMI latch (core/nmi.c): an NMI has arrived and waits to
     * be delivered.  One at most, as on hardware: while NMIs are blocked
     * (the guest's handler has not executed IRET yet) a second NMI is
     * held here and further ones are lost (SDM vol 3A 6.7.1 "Handling
     * Multiple NMIs").  nmi_window: the backend was asked to exit when the
     * guest can take it (backend->nmi_window), kept like irq_window. */
    bool nmi_pending;
    bool nmi_window;
    /* irq.c's last look found nothing to deliver and no timer running, at
     * the domain's irq_epoch irq_seen_epoch (domain.h): until that count
     * moves, the next look would find nothing either. */
    bool irq_idle;
    uint64_t irq_seen_epoch;
    /* Number of VM exits of this vCPU so far (HC_EXIT_COUNT); the fast
     * path's are added when the backend's run() returns. */
    uint64_t exit_count;

    /* The scheduler's view (run.c).  blocked: the vCPU is in HLT with
     * IF=1, waiting for an interrupt, and is not entered until one is due
     * (Xen's "blocked").  run_tsc: host TSC ticks it spent in guest mode,
     * from just before the entry to just after the exit, its CPU time. */
    bool blocked;
    uint64_t run_tsc;

    /* Its place in a multiprocessor domain (core/smp.c), as SDM vol 3A
     * 9.4 "Multiple-Processor (MP) Initialization" describes a CPU's
     * life: an application processor waits for a STARTUP IPI after
     * power-up or an INIT (VCPU_MP_WAIT_SIPI) and starts in real mode at
     * the page the SIPI's vector names; a CPU halted with IF=0 while
     * others run stays so until an INIT (VCPU_MP_STOPPED).  Only
     * VCPU_MP_RUNNING vCPUs are scheduled.  start_pending: a SIPI arrived
     * with start_vector, and the run loop loads the real-mode start state
     * when the vCPU is next scheduled (its control structure loaded). */
    uint8_t mp_state;
    bool start_pending;
    uint8_t start_vector;

    /* What the CPU holds for the guest because hv never touches it, the
     * x87/SSE registers (an FXSAVE image, SDM vol 1 10.5.1 "FXSAVE
     * Area") and DR0-DR3: kept here while another vCPU has the CPU, and
     * swapped on every switch (core/vcpustate.c: vcpu_cpu_regs_put and
     * _load), so that no vCPU, of this domain or another, sees another's.
     * cpu_regs_valid: false until the first put, when the vCPU gets the
     * state of a reset instead. */
    uint8_t fxsave[512] __attribute__((aligned(16)));
    uint64_t dr[4];
    bool cpu_regs_valid;
    /* The same for the XSAVE state beyond FXSAVE's: the upper halves of
     * YMM0-15 (XSAVE state component 2, SDM vol 1 13.4 "XSAVE Area"),
     * which neither vendor's world switch touches; the guest's XCR0 is
     * `xcr0` above, swapped with them. */
    uint8_t ymm_hi[256];
    /* And what only SVM's world switch keeps (backend.h `keeps`), swapped
     * for a backend that does not: CR2, DR6 and the system-call MSRs
     * STAR, LSTAR, CSTAR, SFMASK and KernelGSbase, in that order. */
    uint64_t cpu_cr2, cpu_dr6;
    uint64_t cpu_msr[5];
    /* IA32_TSC_AUX, which RDTSCP and RDPID return: neither world switch
     * holds it, so the core swaps it for both vendors. */
    uint64_t cpu_tsc_aux;

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
} __attribute__((aligned(256)));

/* The fast path's fields in the first 256 bytes (see fast_left). */
_Static_assert(__builtin_offsetof(struct vcpu, fast_port_size) < 256, "fast fields on one page");

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

/* RAX after an IN of `size` bytes read `val`: IN AL and IN AX replace only
 * the low byte or word and keep the bits above, IN EAX zero-extends into
 * RAX like every 32-bit register write in 64-bit mode (SDM vol 1 3.4.1.1
 * "General-Purpose Registers in 64-Bit Mode").  For the dispatcher and the
 * exit fast path (fastpath.h). */
static inline uint64_t gpr_in_merge(uint64_t old, uint32_t val, uint8_t size)
{
    /* A 32-bit destination: the upper half of RAX becomes 0. */
    if (size == 4)
        return val;
    /* 8- and 16-bit destinations: only AL or AX changes. */
    uint64_t mask = size == 2 ? 0xffffull : 0xffull;
    return (old & ~mask) | (val & mask);
}

_Static_assert(__builtin_offsetof(struct gprs, rsi) == GPRS_RSI, "GPRS_RSI");
_Static_assert(__builtin_offsetof(struct gprs, r15) == GPRS_R15, "GPRS_R15");
_Static_assert(sizeof(struct gprs) == 128, "struct gprs is 16 registers");

#endif /* __ASSEMBLER__ */

#endif
