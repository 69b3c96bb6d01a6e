/*
 * internal.h - declarations shared by the VT-x backend's own files.  The core
 * never includes this: it sees only `vmx_backend` (core/backend.h).
 *
 * Where SVM keeps the guest in a VMCB that is ordinary memory, VMX keeps it
 * in a VMCS whose layout is the CPU's secret: software reads and writes its
 * fields only with VMREAD and VMWRITE, by field encoding (SDM Vol. 3C 25.11.2 "VMREAD, VMWRITE, and
 * Encodings of VMCS Fields", encodings in defs.h).  The wrappers for those and the other VMX
 * instructions are here.
 */
#ifndef HV_VMX_INTERNAL_H
#define HV_VMX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/backend.h"
#include "core/benchcount.h"
#include "ctls.h"
#include "defs.h"
#include "explain.h"
#include "paging.h" /* the entry format for core/slat.c */

/* What caps.c learned about the CPU (filled by probe()). */
extern struct vmx_caps vmx_caps;

/* Per-vCPU backend data, vcpu->arch.  Compared with struct svm_vcpu it
 * holds more: the CR0/CR4 shadows and masks (SVM has no forced bits to
 * hide), the launch state (SVM's VMRUN has no launch/resume distinction),
 * and a saved copy of the VMCS for the explainer (SVM keeps a copy of the
 * VMCB for the same reason). */
struct vmx_vcpu {
    void *vmcs;             /* the guest's VMCS region (4 KiB) */
    uint8_t *io_bitmaps;    /* I/O bitmaps A and B, 4 KiB each, contiguous */
    uint8_t *msr_bitmap;    /* MSR bitmap, 4 KiB */
    uint8_t *vapic;         /* virtual-APIC page (VTPR at 0x80), or NULL without TPR shadow */
    bool launched;          /* VMLAUNCH done: the next entry is VMRESUME */
    uint64_t cr0_shadow;    /* the CR0 the guest believes it has */
    uint64_t cr4_shadow;    /* the CR4 the guest believes it has */
    uint64_t cr0_mask;      /* CR0 bits hv owns (guest/host mask) */
    uint64_t cr4_mask;      /* CR4 bits hv owns */
    uint32_t entry_ctls;    /* VM-entry controls without "IA-32e mode guest" */
    bool preempt;           /* "activate VMX-preemption timer" is on (preempt.c) */
    bool nmi_window_ok;     /* NMI-window exiting may be turned on (ctls.h) */
    uint64_t deadline;      /* the core's deadline in host TSC, or UINT64_MAX */
    bool preempt_written;   /* the VMX-preemption timer field was written ... */
    uint64_t preempt_value; /* ... with this value (preempt.c) */
    uint64_t qual;          /* the exit qualification of the last exit ... */
    bool qual_read;         /* ... once read (exit.c exit_qualification()) */
    uint32_t insn_error;    /* VM-instruction error of the last failed entry */
    uint32_t fail_kind;     /* 0, or the enter.S result of a failed VMLAUNCH/VMRESUME */
    struct vmx_state saved; /* the VMCS as it was before a failed entry */
    /* What some VMCS fields hold, as last read or written by state.c, so
     * that an entry writes only the fields whose value the core changed
     * (held_valid: the copy is complete, from the first entry on). */
    bool held_valid;
    struct {
        uint64_t rsp, rip, rflags, efer, pat, tsc_offset, entry_ctls, intr;
    } held;
};

/* caps.c: backend.probe and backend.enable. */
bool vmx_probe(char *why, size_t why_len);
int vmx_enable(void);
unsigned vmx_slat_caps(void);
/* The host TSS caps.c adds to hv's GDT (VM exits need a host TR): slot 3,
 * after hv's null, code and data descriptors, so selector 3 * 8. */
#define VMX_HOST_TSS_SEL 0x18
extern uint64_t vmx_host_tr_base;

/* vcpu.c: backend.vcpu_init and the event operations. */
int vmx_vcpu_init(struct vcpu *vcpu);
void vmx_vcpu_destroy(struct vcpu *vcpu);
void vmx_inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error, uint32_t error);
void vmx_inject_interrupt(struct vcpu *vcpu, uint8_t vector);
void vmx_irq_window(struct vcpu *vcpu, bool on);
void vmx_inject_nmi(struct vcpu *vcpu);
bool vmx_nmi_blocked(struct vcpu *vcpu);
void vmx_nmi_window(struct vcpu *vcpu, bool on);
void vmx_single_step(struct vcpu *vcpu);
/* preempt.c: backend.set_deadline, and the VMX-preemption timer's value
 * for it written just before each entry. */
void vmx_set_deadline(struct vcpu *vcpu, uint64_t deadline);
void vmx_arm_preemption(struct vmx_vcpu *vx);
void vmx_flush_slat(struct vcpu *vcpu, uint64_t gpa, uint64_t len);
void vmx_vcpu_load(struct vcpu *vcpu);
void vmx_vcpu_put(struct vcpu *vcpu);
/* Copy the current VMCS into a struct vmx_state, or a struct into it. */
void vmx_read_state(struct vmx_state *s);
void vmx_write_guest_state(const struct vmx_state *s);

/* enter.S: load the guest GPRs, VMLAUNCH (launched = 0) or VMRESUME, store
 * them back.  Returns 0 after a VM exit, VMX_ENTER_FAIL_INVALID when the
 * instruction failed without a current VMCS (CF = 1), VMX_ENTER_FAIL_VALID
 * when it failed with an error number in the VMCS (ZF = 1; SDM Vol. 3C
 * 31.2 "Conventions"). */
#define VMX_ENTER_FAIL_INVALID 1
#define VMX_ENTER_FAIL_VALID   2
int vmx_enter(struct gprs *regs, int launched);

/* floor.c: vmx_enter() in a loop that handles CPUID exits itself, the
 * benchmark's reference host (only in an image built with BENCH_FLOOR=1). */
int vmx_floor_enter(struct gprs *regs, int launched);
/* fastloop.c: the exit fast path's loop (core/fastpath.h), from vmx_run()
 * after a VM exit with *reason: takes CPUID and port-I/O exits while the
 * core allows it, and returns 0 with *reason the first exit it left, or
 * enter.S's result for a VMRESUME that failed. */
int vmx_fastloop(struct vcpu *vcpu, struct vmx_vcpu *vx, uint32_t *reason);
/* The label VM exits continue at (HOST_RIP). */
void vmx_exit_entry(void);

/* state.c: the guest state between the VMCS and struct vcpu, by group
 * (core/vcpu.h "Lazy guest state"): backend.load_state, and the write-back
 * of the changed groups before VM entry. */
void vmx_load_state(struct vcpu *vcpu, unsigned what);
void vmx_store_state(struct vcpu *vcpu);

/* cpustate.c: backend.get_state and backend.set_state, the whole
 * architectural state between the VMCS and struct cpu_state. */
void vmx_get_state(struct vcpu *vcpu, struct cpu_state *c);
void vmx_set_state(struct vcpu *vcpu, const struct cpu_state *c);

/* exit.c: backend.run and backend.dump_state, and the exit names. */
void vmx_run(struct vcpu *vcpu, struct exit_info *exit);
void vmx_dump_state(struct vcpu *vcpu);
const char *vmx_exit_name(uint32_t reason);

/* ---- The VMX instructions (SDM Vol. 3C chapter 31 "VMX Instruction Reference") ----
 * Each one reports failure in RFLAGS: CF = 1 "VMfailInvalid" (no current
 * VMCS), ZF = 1 "VMfailValid" (error number in the VM-instruction error
 * field).  The wrappers return true on success. */

/* VMXON: enter VMX root operation with the given VMXON region. */
static inline bool vmxon(uint64_t pa)
{
    bool fail;
    /* The operand is a memory location holding the physical address, not
     * the address itself.  SETBE is true if CF = 1 or ZF = 1: either kind
     * of failure.  "memory": the CPU takes over the region. */
    __asm__ volatile("vmxon %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
    return !fail;
}

/* VMCLEAR: put a VMCS into the "clear" launch state and flush it to memory. */
static inline bool vmclear(uint64_t pa)
{
    bool fail;
    /* The same operand form and failure test as VMXON. */
    __asm__ volatile("vmclear %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
    return !fail;
}

/* VMPTRLD: make a VMCS the current one (VMREAD/VMWRITE/VMLAUNCH act on it). */
static inline bool vmptrld(uint64_t pa)
{
    bool fail;
    /* Fails with error 11 if the region's revision identifier is wrong. */
    __asm__ volatile("vmptrld %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
    return !fail;
}

/* VMREAD of one field of the current VMCS (0 if the field does not exist). */
static inline uint64_t vmread(uint32_t field)
{
    /* On failure VMREAD leaves the destination alone, so the 0 stands. */
    uint64_t v = 0;
    /* AT&T order: encoding (register) first, destination second.  No
     * failure test: callers treat a missing field as 0, which is what the
     * explainer and the dump want.  The SVM side reads a struct field. */
    __asm__ volatile("vmread %1, %0" : "+rm"(v) : "r"((uint64_t)field) : "cc");
    BENCH_COUNT(vmreads);
    return v;
}

/* VMWRITE of one field; false if the CPU has no such field or it is read-only. */
static inline bool vmwrite(uint32_t field, uint64_t value)
{
    BENCH_COUNT(vmwrites);

    bool fail;
    /* AT&T order: value first, encoding second.  Writing a 16- or 32-bit
     * field with a 64-bit value is fine: the CPU keeps the low bits. */
    __asm__ volatile("vmwrite %1, %2; setbe %0"
                     : "=qm"(fail)
                     : "rm"(value), "r"((uint64_t)field)
                     : "cc", "memory");
    return !fail;
}

/* INVEPT type 2 ("all-context"): drop cached EPT translations (29.4.3.1). */
static inline void invept_all(void)
{
    /* The 128-bit INVEPT descriptor: an EPTP (ignored by type 2) and a
     * reserved quadword that must be 0.  vcpu.c's vmx_flush_slat() calls
     * it after the core changed the tables (lazy mode, dirty logging,
     * run-time permissions). */
    struct {
        uint64_t eptp, zero;
    } desc = {0, 0};
    __asm__ volatile("invept %0, %1" : : "m"(desc), "r"(2ull) : "cc", "memory");
}

/* MOV to CR0, for caps.c's fixed bits (CR0.NE).  core/cpu.h has a CR4 write
 * but no CR0 write: only VT-x makes hv change its own CR0. */
static inline void write_cr0(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

#endif
