/*
 * internal.h - declarations shared by the SVM backend's own files.  The core
 * never includes this: it sees only `svm_backend` (core/backend.h).
 */
#ifndef HV_SVM_INTERNAL_H
#define HV_SVM_INTERNAL_H

#include <stdbool.h>

#include "core/backend.h"
#include "defs.h"
#include "paging.h" /* the entry format for core/slat.c */

/* What caps.c learned about the CPU (filled by probe()). */
struct svm_caps {
    bool nrips;         /* CPUID 0x8000000A EDX bit 3: VMCB next_rip is filled */
    unsigned phys_bits; /* CPUID 0x80000008 EAX[7:0] */
    uint32_t nasid;     /* CPUID 0x8000000A EBX: ASIDs, including the host's 0 */
};
extern struct svm_caps svm_caps;

/* Per-vCPU backend data, vcpu->arch. */
struct svm_vcpu {
    struct vmcb *vmcb;      /* the guest's VMCB */
    struct vmcb *host_save; /* VMSAVE/VMLOAD area for the host's hidden state */
    uint8_t *iopm;          /* I/O permission map, 12 KiB */
    uint8_t *msrpm;         /* MSR permission map, 8 KiB */
    uint64_t rip_before;    /* guest RIP as we entered (see exit.c) */
    bool entry_failed;      /* the last VMRUN failed (VMEXIT_INVALID) */
    /* The VMCB as it was just before the last VMRUN that could fail
     * (exit.c): after a failed VMRUN the VMCB itself may hold a half-loaded
     * state (QEMU writes its CPU state back on VMEXIT_INVALID), so the
     * explainer looks at this copy. */
    struct vmcb *before;
    /* hv edited something VMRUN checks since the last #VMEXIT: an event to
     * inject, the interrupt window, a TLB flush, or guest state other than
     * RIP, RSP, RFLAGS and the interrupt shadow.  Every edit of the VMCB
     * outside that write-back (state.c) sets it; exit.c copies the VMCB
     * into `before` only then. */
    bool vmcb_edited;
    bool before_valid; /* `before` was copied for the last VMRUN */
    /* The guest's NMI blocking, which the VMCB does not hold (nmi.c):
     * enum svm_nmi_state, the RIP of the handler's IRET being stepped and
     * the guest's DR6 before the step. */
    uint8_t nmi;
    uint64_t nmi_iret_rip;
    uint64_t nmi_dr6;
};

/* nmi.c: where the guest is in handling an injected NMI. */
enum svm_nmi_state {
    SVM_NMI_NONE,    /* NMIs not blocked */
    SVM_NMI_BLOCKED, /* the handler runs; IRET intercepted */
    SVM_NMI_STEP,    /* its IRET is being single-stepped */
};

/* caps.c: backend.probe and backend.enable. */
bool svm_probe(char *why, size_t why_len);
int svm_enable(void);
unsigned svm_slat_caps(void);

/* vcpu.c: the VMCB, its intercepts and the event-injection operations. */
int svm_vcpu_init(struct vcpu *vcpu);
void svm_vcpu_destroy(struct vcpu *vcpu);
void svm_vcpu_load(struct vcpu *vcpu);
void svm_inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error, uint32_t error);
void svm_inject_interrupt(struct vcpu *vcpu, uint8_t vector);
void svm_irq_window(struct vcpu *vcpu, bool on);
void svm_single_step(struct vcpu *vcpu);
/* nmi.c: backend.inject_nmi and nmi_blocked, and the exits of the NMI
 * blocking's end, which svm_run() hands to svm_nmi_exit() while it is not
 * NONE: AGAIN (the IRET, handled: enter again), WINDOW (*exit says
 * EXIT_NMI_WINDOW) or NONE (an exit for the usual decoding). */
void svm_inject_nmi(struct vcpu *vcpu);
bool svm_nmi_blocked(struct vcpu *vcpu);
void svm_nmi_before_run(struct vcpu *vcpu);
/* set_state (cpustate.c): NMIs blocked by a handler still running, or
 * not, whatever the vCPU was doing with its own. */
void svm_nmi_restore(struct vcpu *vcpu, bool blocked);
enum svm_nmi_exit { SVM_NMI_EXIT_NONE, SVM_NMI_EXIT_AGAIN, SVM_NMI_EXIT_WINDOW };
enum svm_nmi_exit svm_nmi_exit(struct vcpu *vcpu, struct exit_info *exit);
/* preempt.c: the NMI watchdog.  svm_preempt_init() (from svm_enable())
 * routes the outer PIT to this CPU as an NMI and leaves GIF = 0 for good
 * outside VMRUN; backend.set_deadline starts the PIT's one-shot; after
 * #VMEXIT(NMI), svm_preempt_ack() lets the pending NMI into hv's IDT;
 * backend.host_wait halts until the same timer's NMI. */
void svm_preempt_init(void);
void svm_set_deadline(struct vcpu *vcpu, uint64_t deadline);
bool svm_host_wait(uint64_t until);
void svm_preempt_ack(void);
void svm_flush_slat(struct vcpu *vcpu, uint64_t gpa, uint64_t len);

/* Fixed lengths of the instructions hv skips, for CPUs without NRIPS
 * (QEMU): CPUID 0F A2, RDMSR 0F 32 / WRMSR 0F 30, VMMCALL 0F 01 D9, HLT F4.
 * A prefix would make the real instruction longer; hv's guests use none. */
static inline uint32_t svm_fixed_len(uint32_t code)
{
    /* 0 means "not an instruction hv skips": the core then never advances
     * RIP by it (it only does for the exits listed here and for IOIO). */
    switch (code) {
    /* 0F A2 and 0F 32 / 0F 30. */
    case VMEXIT_CPUID:
    case VMEXIT_MSR:
        return 2;
    /* 0F 01 D9. */
    case VMEXIT_VMMCALL:
        return 3;
    /* F4. */
    case VMEXIT_HLT:
        return 1;
    default:
        return 0;
    }
}

/* The length of the instruction that exited at `rip` with exit code
 * `code`: for IOIO, EXITINFO2 always holds the next RIP (APM vol 2 15.10.2
 * "IN and OUT Behavior"); otherwise the next RIP NRIPS saves when the CPU
 * has it (`nrips`, caps.c; 15.7.1 "State Saved on Exit"), else the table
 * of fixed lengths.  Inline, and `nrips` a parameter: the fast loop
 * (fastloop.c) keeps its code on one page and reads svm_caps once. */
static inline uint32_t svm_insn_length(const struct vmcb_control *c, uint32_t code, uint64_t rip,
                                       bool nrips)
{
    if (code == VMEXIT_IOIO)
        return (uint32_t)(c->exitinfo2 - rip);
    if (nrips && c->next_rip > rip)
        return (uint32_t)(c->next_rip - rip);
    return svm_fixed_len(code);
}

/* enter.S: load the guest GPRs, VMLOAD/VMRUN/VMSAVE, store them back. */
void svm_enter(uint64_t vmcb_pa, struct gprs *regs, uint64_t host_save_pa);

/* floor.c: svm_enter() in a loop that handles CPUID exits itself, the
 * benchmark's reference host (only in an image built with BENCH_FLOOR=1). */
void svm_floor_enter(struct vmcb *v, struct gprs *regs, uint64_t host_save_pa);

/* fastloop.c: the exit fast path's loop (core/fastpath.h), from svm_run()
 * after a #VMEXIT: takes CPUID and port-I/O exits while the core allows
 * it, and returns with the first exit it left in the VMCB. */
void svm_fastloop(struct vcpu *vcpu, struct svm_vcpu *sv);

/* state.c: the guest state between the VMCB and struct vcpu, by group
 * (core/vcpu.h "Lazy guest state"): backend.load_state, and the write-back
 * of the changed groups before VMRUN. */
void svm_load_state(struct vcpu *vcpu, unsigned what);
const struct vmcb_save *svm_saved_state(const struct svm_vcpu *sv);
void svm_store_state(struct vcpu *vcpu);

/* cpustate.c: backend.get_state and backend.set_state, the whole
 * architectural state between the VMCB and struct cpu_state. */
void svm_get_state(struct vcpu *vcpu, struct cpu_state *c);
void svm_set_state(struct vcpu *vcpu, const struct cpu_state *c);

/* exit.c: one world switch with its bookkeeping, the exit decoder, the
 * exit-code names for the trace and the state dump for a crashed guest. */
void svm_run(struct vcpu *vcpu, struct exit_info *exit);
void svm_dump_state(struct vcpu *vcpu);
const char *svm_exit_name(uint64_t code);

#endif
