/*
 * exit.h - the vendor-neutral description of one VM exit.
 *
 * Both backends (hv/svm/ for AMD, hv/vmx/ for Intel) translate their own exit
 * codes (an SVM EXITCODE from the VMCB, APM vol 2 appendix C "SVM Intercept Exit Codes"; a VMX
 * basic exit reason from the VMCS, SDM vol 3D appendix C "VMX Basic Exit Reasons") into one of the
 * reasons below and fill a struct exit_info.  The core dispatcher (hv/core/dispatch.c) only ever
 * looks at this structure: it never sees a VMCB or a VMCS, which is what lets one emulation of
 * CPUID, port I/O, MSRs and hypercalls serve both vendors.
 *
 * This header is plain definitions and is compiled hosted too (unit tests).
 */
#ifndef HV_CORE_EXIT_H
#define HV_CORE_EXIT_H

#include <stdbool.h>
#include <stdint.h>

/* Why the guest stopped running, in the core's own words. */
enum exit_reason {
    /* The guest executed CPUID (SVM 0x72, VMX reason 10). */
    EXIT_CPUID,
    /* The guest executed IN/OUT/INS/OUTS on an intercepted port (SVM IOIO
     * 0x7b, VMX reason 30); details in exit_info.io. */
    EXIT_IO,
    /* The guest executed HLT (SVM 0x78, VMX reason 12). */
    EXIT_HLT,
    /* RDMSR / WRMSR on an intercepted MSR (SVM 0x7c with EXITINFO1 0 or 1,
     * VMX reasons 31 and 32); the index is in exit_info.msr. */
    EXIT_MSR_READ,
    EXIT_MSR_WRITE,
    /* VMMCALL (SVM 0x81) or VMCALL (VMX reason 18): an hvkit hypercall, the
     * call number and arguments are in the guest's RAX/RBX/RCX/RDX. */
    EXIT_HYPERCALL,
    /* The guest shut down: a triple fault (SVM SHUTDOWN 0x7f, VMX reason 2). */
    EXIT_SHUTDOWN,
    /* A guest-physical access the second-level tables did not allow: SVM
     * VMEXIT_NPF (0x400, APM vol 2 15.25.6 "Nested versus Guest Page
     * Faults, Fault Ordering"), VMX EPT violation (48) or EPT
     * misconfiguration (49) (SDM vol 3C 29.3.3 "EPT-Induced VM Exits").
     * One core exit for both vendors; the core decides what it is (RAM,
     * MMIO, nothing) in violation.c.  See exit_info.mem. */
    EXIT_MEM_VIOLATION,
    /* An intercepted guest exception (SVM 0x40..0x5f, VMX reason 0). */
    EXIT_EXCEPTION,
    /* A physical interrupt arrived while the guest ran (SVM INTR 0x60, VMX
     * reason 1).  Nothing to emulate: the core just runs the guest again. */
    EXIT_INTERRUPT,
    /* The guest could not be entered at all: SVM VMEXIT_INVALID, or a VMX
     * VM-entry failure (reason with bit 31 set, or VMLAUNCH/VMRESUME failing
     * with VMfailValid).  The backend's dump_state explains why. */
    EXIT_ENTRY_FAILED,
    /* Anything else the backend did not expect (an intercept we never set,
     * an instruction we do not emulate).  Ends the guest as a crash. */
    EXIT_UNHANDLED,
    /* The guest executed one of the virtualization instructions hv hides
     * from it (SVM: VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT; VMX: VMXON,
     * VMPTRLD, ...).  The CPUID bits say the feature is absent, so the core
     * injects #UD, as a CPU without the feature would (APM vol 3 / SDM vol
     * 2: these instructions #UD when the feature is off). */
    EXIT_VIRT_INSN,
    /* The guest can take an interrupt now: the interrupt window the core
     * asked for with backend->irq_window() opened (SVM VINTR 0x64, APM vol
     * 2 15.21.4 "Injecting Virtual (INTR) Interrupts"; VMX interrupt-window exiting, reason 7, SDM
     * vol 3C 25.6.2 "Processor-Based VM-Execution Controls").  The core injects the pending
     * interrupt before the next entry. */
    EXIT_IRQ_WINDOW,
    /* The guest wrote a control register hv intercepts (SVM CR0 write
     * 0x10, APM vol 2 15.9 "Instruction Intercepts"; VMX control-register access, reason 28).  See
     * exit_info.cr; the core checks the value as a CPU would (cr.h). */
    EXIT_CR_WRITE,
    /* The guest executed XSETBV (VMX reason 55, which always exits, SDM
     * vol 3C 26.1.2 "Instructions That Cause VM Exits Unconditionally"; SVM leaves it to the CPU).
     * The core checks the new XCR0 as the CPU would (xcr.h) and loads it. */
    EXIT_XSETBV,
    /* The guest can take an NMI now: the NMI blocking of its last NMI has
     * ended, the handler's IRET has run (VMX NMI-window exiting, reason 8,
     * SDM vol 3C 27.7.6 "NMI-Window Exiting"; SVM: the IRET intercept
     * 0x74 and one single step past the IRET, svm/nmi.c).  The core
     * injects the waiting NMI before the next entry (core/nmi.c). */
    EXIT_NMI_WINDOW,
    EXIT_REASON_COUNT
};

/* The short upper-case name of a core reason, e.g. "IO" (never NULL). */
const char *exit_reason_name(enum exit_reason r);

/* Decoded port I/O (APM vol 2 15.10.2 "IN and OUT Behavior", SDM vol 3C
 * 28.2.1 "Basic VM-Exit Information" table 28-5 "Exit Qualification for I/O Instructions"). */
struct exit_io {
    uint16_t port;
    uint8_t size;      /* access width in bytes: 1, 2 or 4 */
    bool in;           /* true for IN/INS (device to guest) */
    bool string;       /* INS/OUTS: data is in guest memory at RDI/RSI */
    bool rep;          /* REP prefix: RCX iterations */
    uint8_t addr_size; /* for string I/O: address size in bytes (2, 4, 8) */
};

/* The kind of a memory access, as both vendors report it. */
enum mem_access { MEM_ACCESS_READ, MEM_ACCESS_WRITE, MEM_ACCESS_FETCH };

/* Decoded second-level violation (SVM: EXITINFO1/EXITINFO2, APM vol 2
 * 15.25.6 "Nested versus Guest Page Faults, Fault Ordering"; VMX: exit
 * qualification and guest-physical/linear address fields, SDM vol 3C
 * 28.2.1 "Basic VM-Exit Information" table 28-7). */
struct exit_mem_violation {
    uint64_t gpa;           /* the guest-physical address that faulted */
    enum mem_access access; /* read, write or instruction fetch */
    bool present;           /* a translation existed but forbade the access */
    bool misconfig;         /* VMX: an EPT entry hv built is invalid (reason 49) */
    bool during_walk;       /* hit while the CPU walked the guest's own page tables */
    bool gla_valid;         /* the CPU gave the guest-linear address (VMX only) */
    uint64_t gla;           /* that address, when gla_valid */
};

/* "read", "write" or "fetch", for messages and the trace. */
static inline const char *mem_access_name(enum mem_access a)
{
    return a == MEM_ACCESS_WRITE ? "write" : a == MEM_ACCESS_FETCH ? "fetch" : "read";
}

/* Decoded control-register write.  A backend that knows the value (VMX:
 * exit qualification + register) sets has_value; otherwise (SVM without
 * decode assists) the core decodes the instruction at RIP itself. */
struct exit_cr {
    uint8_t cr;
    bool has_value;
    uint64_t value;
};

/* Decoded intercepted exception. */
struct exit_exception {
    uint8_t vector;
    bool has_error;
    uint32_t error;
};

/*
 * Everything the core needs to know about one exit.  The backend's run()
 * fills it after each exit; fields that do not apply to the reason are zero.
 */
struct exit_info {
    enum exit_reason reason;
    /* Guest RIP of the instruction that caused the exit (not yet advanced). */
    uint64_t rip;
    /* Length in bytes of that instruction, when the exit is for an
     * instruction the core emulates and then skips (CPUID, IO, HLT, MSR,
     * HYPERCALL).  The backend finds it from NRIPS / the VM-exit
     * instruction length field, or computes it itself where the CPU does
     * not say (QEMU has no NRIPS).  0 when not applicable. */
    uint32_t insn_len;
    /* The vendor's own exit code and its name, for the trace only
     * (e.g. 0x7b and "VMEXIT_IOIO", or 30 and "IO_INSTRUCTION"). */
    uint64_t raw_code;
    const char *raw_name;
    /* The vendor's extra exit information, as the backend read it to
     * decode the exit (SVM EXITINFO1/EXITINFO2; VMX exit qualification and
     * guest-physical address, 0 for the reasons that need neither: VT-x
     * reads a field only when it needs it).  The core does not use them;
     * dump_state() prints the backend's own view after a crash. */
    uint64_t raw_info1;
    uint64_t raw_info2;
    /* Per-reason details (valid only for the matching reason). */
    struct exit_io io;             /* EXIT_IO */
    uint32_t msr;                  /* EXIT_MSR_READ/WRITE: the index from ECX */
    struct exit_mem_violation mem; /* EXIT_MEM_VIOLATION */
    struct exit_exception exc;     /* EXIT_EXCEPTION */
    struct exit_cr cr;             /* EXIT_CR_WRITE */
    /* EXIT_ENTRY_FAILED / EXIT_UNHANDLED: a short plain-words reason that
     * ends up in "[hv] exit: guest crashed (...)" or "error (...)". */
    const char *why;
};

#endif
