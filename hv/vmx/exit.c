/*
 * exit.c - one trip into the guest and back: copy the core's vCPU state into
 * the VMCS, VMLAUNCH/VMRESUME (enter.S), copy the guest state back, and
 * translate the VMX exit reason (SDM Vol. 3D appendix C "VMX Basic Exit Reasons") into the core's
 * struct exit_info.  Also the names of the exit reasons (for the trace) and
 * dump_state(), which explains a failed VM entry (explain.c).
 *
 * The shape is hv/svm/exit.c's: state in, enter, state out, decode.  What
 * differs is where the state lives.  SVM's VMRUN writes the whole guest
 * state back into the VMCB, so svm_run() reads it with ordinary loads;
 * here every field that the core needs is fetched with VMREAD after each
 * exit, and every field the core may have changed is pushed with VMWRITE
 * before each entry.  SVM describes an exit with EXITCODE and two
 * EXITINFO words; VT-x with an exit reason, an exit qualification, and a
 * handful of other read-only fields (28.2 "Recording VM-Exit Information and Updating VM-Entry
 * Control Fields"), whose meaning depends on the reason.  And VT-x forces some control-register
 * bits on the guest, so this file also keeps CR0 and CR4 looking, to the guest, the way the guest
 * set them.
 */
#include "klib.h"

#include "core/cpu.h"
#include "core/log.h"
#include "explain.h"
#include "internal.h"
#include "core/exitpath.h"

/* Names of the basic exit reasons (appendix C), for the trace.  They are the
 * SDM's names, shortened and in capitals, so that a trace line can be looked
 * up in appendix C directly.  Reasons 35, 38 and 42 are unused and stay NULL,
 * which vmx_exit_name() turns into "EXIT_?".  Most of these never occur
 * under hv: they would need a control hv leaves off (RDTSC exiting, MONITOR
 * exiting, ...), but the trace should never print a number without a name. */
static const char *const exit_names[VMX_EXIT_REASON_MAX + 1] = {
    /* 0-9: events rather than instructions.  hv sees 2 (a guest triple
     * fault, SVM's SHUTDOWN) and 7 (the interrupt window it asked for). */
    [0] = "EXCEPTION_NMI",
    [1] = "EXTERNAL_INTERRUPT",
    [2] = "TRIPLE_FAULT",
    [3] = "INIT",
    [4] = "SIPI",
    [5] = "IO_SMI",
    [6] = "OTHER_SMI",
    [7] = "INTERRUPT_WINDOW",
    [8] = "NMI_WINDOW",
    [9] = "TASK_SWITCH",
    /* 10-17: instructions.  CPUID, GETSEC and INVD exit unconditionally
     * (26.1.2 "Instructions That Cause VM Exits Unconditionally"); HLT, INVLPG, RDPMC and RDTSC
     * only if their control is on. */
    [10] = "CPUID",
    [11] = "GETSEC",
    [12] = "HLT",
    [13] = "INVD",
    [14] = "INVLPG",
    [15] = "RDPMC",
    [16] = "RDTSC",
    [17] = "RSM",
    /* 18-27: the VMX instructions, which always exit in a guest.  VMCALL
     * is hv's hypercall; the rest get #UD, since CPUID hides VMX. */
    [18] = "VMCALL",
    [19] = "VMCLEAR",
    [20] = "VMLAUNCH",
    [21] = "VMPTRLD",
    [22] = "VMPTRST",
    [23] = "VMREAD",
    [24] = "VMRESUME",
    [25] = "VMWRITE",
    [26] = "VMXOFF",
    [27] = "VMXON",
    /* 28-32: the exits hv lives on: CR0 writes, port I/O, RDMSR/WRMSR. */
    [28] = "CR_ACCESS",
    [29] = "DR_ACCESS",
    [30] = "IO_INSTRUCTION",
    [31] = "RDMSR",
    [32] = "WRMSR",
    /* 33, 34 and 41 are not exits at all but failed entries (bit 31 set). */
    [33] = "ENTRY_FAIL_GUEST_STATE",
    [34] = "ENTRY_FAIL_MSR_LOADING",
    [36] = "MWAIT",
    [37] = "MONITOR_TRAP_FLAG",
    [39] = "MONITOR",
    [40] = "PAUSE",
    [41] = "ENTRY_FAIL_MACHINE_CHECK",
    /* 43-47: APIC virtualization and descriptor-table exiting, all off. */
    [43] = "TPR_BELOW_THRESHOLD",
    [44] = "APIC_ACCESS",
    [45] = "VIRTUALIZED_EOI",
    [46] = "GDTR_IDTR_ACCESS",
    [47] = "LDTR_TR_ACCESS",
    /* 48-49: EPT, the counterpart of SVM's nested page fault (0x400). */
    [48] = "EPT_VIOLATION",
    [49] = "EPT_MISCONFIG",
    /* 50-64: later additions, each behind a control or a CPUID feature. */
    [50] = "INVEPT",
    [51] = "RDTSCP",
    [52] = "PREEMPTION_TIMER",
    [53] = "INVVPID",
    [54] = "WBINVD",
    [55] = "XSETBV",
    [56] = "APIC_WRITE",
    [57] = "RDRAND",
    [58] = "INVPCID",
    [59] = "VMFUNC",
    [60] = "ENCLS",
    [61] = "RDSEED",
    [62] = "PML_FULL",
    [63] = "XSAVES",
    [64] = "XRSTORS",
};

/* The name of a raw exit reason, for the core's trace and dump_state(). */
EXIT_PATH const char *vmx_exit_name(uint32_t reason)
{
    /* Bits 15:0 are the basic reason; bit 31 marks a failed entry. */
    uint32_t basic = reason & 0xffff;
    if (basic <= VMX_EXIT_REASON_MAX && exit_names[basic])
        return exit_names[basic];
    return "EXIT_?";
}

/* Decode the I/O exit qualification (28.2.1 "Basic VM-Exit Information", table 28-5).  The address
 * size of INS/OUTS is in the VM-exit instruction-information field where the CPU reports it
 * (IA32_VMX_BASIC bit 54, 28.2.5); otherwise it follows the code segment, as it does without an
 * address-size prefix. */
EXIT_PATH static void decode_io(struct exit_info *e, uint64_t q, struct vcpu *vcpu)
{
    /* The qualification packs everything SVM spreads over EXITINFO1:
     * port in bits 31:16, direction in bit 3, string in bit 4, REP in
     * bit 5, size minus one in bits 2:0.  The value for OUT is not here:
     * it is still in the guest's RAX, which the core reads. */
    e->io.port = IOQ_PORT(q);
    e->io.in = q & IOQ_IN;
    e->io.string = q & IOQ_STRING;
    e->io.rep = q & IOQ_REP;
    e->io.size = IOQ_SIZE(q);
    /* The address size matters only to INS/OUTS, for RSI/RDI and RCX:
     * IN and OUT need no more VMREADs. */
    if (!e->io.string)
        return;
    if (vmx_caps.basic & (1ull << 54)) {
        /* Instruction information bits 9:7: 0 = 16-bit, 1 = 32-bit,
         * 2 = 64-bit addresses, hence 2 << n bytes. */
        uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSN_INFO);
        e->io.addr_size = (uint8_t)(2u << ((info >> 7) & 7));
    } else {
        /* No address-size prefix assumed: 64-bit code uses 8-byte
         * addresses, otherwise CS.D/B chooses 4 or 2 (the same fallback
         * svm/exit.c uses for QEMU's missing IOIO address-size bits). */
        vmx_load_state(vcpu, VCPU_SEGS & ~vcpu->loaded);
        e->io.addr_size = vcpu->cs_long ? 8 : vcpu->cs_db ? 4 : 2;
    }
}

/*
 * Control-register accesses (exit reason 28, exit qualification table 28-3).
 *
 * CR0: every bit is in the guest/host mask (vcpu.c), so every write that
 * changes CR0 exits, as SVM's CR0 write intercept does; the core checks and
 * applies it (core/cr.h, EXIT_CR_WRITE).  Unlike SVM without decode assists,
 * VMX says which instruction it was and which register it used, so the new
 * value is known here (has_value).  Returns false if the access is not a CR0
 * write.
 */
static bool decode_cr0_write(struct vcpu *vcpu, uint64_t q, struct exit_info *e)
{
    uint64_t value;
    /* Qualification bits 3:0: which control register (0, 3, 4 or 8). */
    if (CRQ_CR(q) != 0)
        return false;
    /* The old CR0 and the source register, which may be RSP. */
    vmx_load_state(vcpu, (VCPU_CR | VCPU_RSP) & ~vcpu->loaded);
    /* Bits 5:4: the access type, 0 MOV to CR, 1 MOV from CR, 2 CLTS,
     * 3 LMSW.  Each gives the would-be new CR0 a different way. */
    switch (CRQ_TYPE(q)) {
    case 0: /* MOV to CR0: from a general register */
        value = *gpr_by_number(&vcpu->regs, CRQ_GPR(q));
        break;
    case 2: /* CLTS: clears CR0.TS */
        value = vcpu->cr0 & ~CR0_TS;
        break;
    case 3: /* LMSW: loads PE, MP, EM, TS, but cannot clear PE (SDM Vol. 2A) */
        value = (vcpu->cr0 & ~0xeull) | (CRQ_LMSW_DATA(q) & 0xf);
        break;
    default: /* MOV from CR0 never exits */
        return false;
    }
    /* The core validates the value (core/cr.c), injects #GP(0) if a CPU
     * would, or stores it in vcpu->cr0, which load_cr0() brings back into
     * the VMCS before the next entry. */
    e->reason = EXIT_CR_WRITE;
    e->cr.cr = 0;
    e->cr.has_value = true;
    e->cr.value = value;
    return true;
}

/* The exit qualification (28.2.1 "Basic VM-Exit Information"), read only
 * for the reasons that define one hv uses (I/O, control-register access,
 * EPT): a VMREAD fewer on every CPUID, HLT or MSR exit.  Read at most once
 * per exit (vx->qual_read, cleared by enter_once()): the fast path, a CR4
 * write and decode_exit() may each want it.  Kept in raw_info1 for a
 * reader of struct exit_info. */
FAST_PATH static uint64_t exit_qualification(struct vmx_vcpu *vx, struct exit_info *e)
{
    if (!vx->qual_read) {
        vx->qual = vmread(VMCS_EXIT_QUALIFICATION);
        vx->qual_read = true;
    }
    e->raw_info1 = vx->qual;
    return vx->qual;
}

/* Fill *e from the VMCS after a VM exit: the vendor-neutral reason the core
 * dispatches on (core/exit.h), with the decoded details, and the raw vendor
 * values for the trace.  The counterpart of decode_exit() in svm/exit.c. */
static void decode_exit(uint32_t reason, struct vcpu *vcpu, struct exit_info *e)
{
    /* Bits 15:0 of the exit-reason field are the basic reason. */
    uint32_t basic = reason & 0xffff;
    *e = (struct exit_info){0};
    /* RIP of the instruction that exited (faults and fault-like exits
     * leave RIP on it; hv has no trap-like exits enabled). */
    e->rip = vcpu->rip;
    e->raw_code = reason;
    e->raw_name = vmx_exit_name(reason);
    /* Exits caused by an instruction report its length (28.2.5, "Information
     * for VM Exits Due to Instruction Execution"): no table of fixed lengths
     * as on QEMU's SVM without NRIPS.  For other exits the field is
     * undefined, so the cases below that are not instructions set it to 0. */
    e->insn_len = (uint32_t)vmread(VMCS_EXIT_INSN_LEN);

    /* Bit 31: the VM entry itself failed, after loading part of the guest
     * state (27.8 "VM-Entry Failures During or After Loading Guest State"); the basic reason says
     * which class of check. */
    if (reason & VMX_EXIT_REASON_ENTRY_FAILED) {
        e->reason = EXIT_ENTRY_FAILED;
        e->insn_len = 0;
        /* Only the class is known here; vmx_dump_state() runs the checks of
         * explain.c on the saved state to say which rule was broken. */
        e->why = basic == VMX_EXIT_INVALID_GUEST_STATE
                     ? "VM entry failed: invalid guest state (exit reason 33, SDM vol 3C 27.3.1 "
                       "\"Checks on the Guest State Area\")"
                 : basic == VMX_EXIT_MSR_LOADING
                     ? "VM entry failed while loading MSRs (exit reason 34, SDM vol 3C 27.4 "
                       "\"Loading MSRs\")"
                     : "VM entry failed (machine-check event, exit reason 41)";
        return;
    }
    switch (basic) {
    /* An exception the exception bitmap intercepts (hv's is 0, so this
     * should not happen) or an NMI: hand it to the core as SVM's
     * exception intercepts are. */
    case VMX_EXIT_EXCEPTION_NMI: {
        /* VM-exit interruption information (25.9.2 "Information for VM Exits Due to Vectored
         * Events"): vector, error code valid. */
        uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
        e->reason = EXIT_EXCEPTION;
        e->exc.vector = (uint8_t)(info & INTR_INFO_VECTOR_MASK);
        e->exc.has_error = info & INTR_INFO_DELIVER_ERROR;
        e->exc.error = e->exc.has_error ? (uint32_t)vmread(VMCS_EXIT_INTR_ERROR) : 0;
        e->insn_len = 0;
        break;
    }
    /* CPUID exits unconditionally in VMX non-root operation (26.1.2 "Instructions That Cause VM
     * Exits Unconditionally"); SVM needs the CPUID intercept bit for the same result. */
    case VMX_EXIT_CPUID:
        e->reason = EXIT_CPUID;
        break;
    /* "HLT exiting" is on (ctls.c). */
    case VMX_EXIT_HLT:
        e->reason = EXIT_HLT;
        break;
    /* Every port is set in I/O bitmaps A and B (vcpu.c). */
    case VMX_EXIT_IO:
        e->reason = EXIT_IO;
        decode_io(e, exit_qualification(vcpu->arch, e), vcpu);
        break;
    case VMX_EXIT_RDMSR:
    case VMX_EXIT_WRMSR:
        /* Separate reasons for read and write (SVM has one, with EXITINFO1);
         * the index is the guest's ECX. */
        e->reason = basic == VMX_EXIT_RDMSR ? EXIT_MSR_READ : EXIT_MSR_WRITE;
        e->msr = (uint32_t)vcpu->regs.rcx;
        break;
    /* VMCALL always exits (26.1.2 "Instructions That Cause VM Exits Unconditionally"): hv's
     * hypercall, SVM's VMMCALL.  The guest must use the instruction of the CPU it runs on; the
     * other vendor's is #UD (include/hvkit/abi.h). */
    case VMX_EXIT_VMCALL:
        e->reason = EXIT_HYPERCALL;
        break;
    /* CR4 writes were handled in vmx_run() before this; what reaches here
     * is CR0 (for the core) or an access nothing should have caused. */
    case VMX_EXIT_CR_ACCESS:
        if (!decode_cr0_write(vcpu, exit_qualification(vcpu->arch, e), e)) {
            e->reason = EXIT_UNHANDLED;
            e->why = "a control-register access hv does not intercept";
        }
        break;
    /* XSETBV always exits (26.1.2 "Instructions That Cause VM Exits Unconditionally"); the core
     * checks the new XCR0 and loads it (SVM lets the CPU execute XSETBV itself). */
    case VMX_EXIT_XSETBV:
        e->reason = EXIT_XSETBV;
        break;
    /* A guest triple fault always exits (26.2 "Other Causes of VM Exits"): the same as SVM's
     * SHUTDOWN intercept, which the core reports as a crash. */
    case VMX_EXIT_TRIPLE_FAULT:
        e->reason = EXIT_SHUTDOWN;
        e->insn_len = 0;
        break;
    /* A physical interrupt, with "external-interrupt exiting" on.  hv
     * keeps the outer PIC masked, so this is rare; the core just re-enters.
     * The VMX-preemption timer ran out (26.5.1 "VMX-Preemption Timer"):
     * the core's deadline has come, which is the same to the core, an
     * exit with nothing to emulate after which it decides who runs. */
    case VMX_EXIT_EXTERNAL_INTERRUPT:
    case VMX_EXIT_PREEMPTION_TIMER:
        e->reason = EXIT_INTERRUPT;
        e->insn_len = 0;
        break;
    case VMX_EXIT_INTERRUPT_WINDOW:
        /* The window the core asked for with irq_window() is open (27.7.5 "Interrupt-Window Exiting
         * and Virtual-Interrupt Delivery", "Interrupt-Window Exiting and Virtual-Interrupt
         * Delivery"). */
        e->reason = EXIT_IRQ_WINDOW;
        e->insn_len = 0;
        break;
    case VMX_EXIT_NMI_WINDOW:
        /* The NMI window the core asked for with nmi_window() is open
         * (27.7.6 "NMI-Window Exiting"): the guest's NMI handler is past
         * its IRET. */
        e->reason = EXIT_NMI_WINDOW;
        e->insn_len = 0;
        break;
    case 19:
    case 20:
    case 21:
    case 22:
    case 23: /* VMCLEAR .. VMREAD */
    case 24:
    case 25:
    case 26:
    case 27: /* VMRESUME .. VMXON */
    case 50:
    case 53:
    case 59: /* INVEPT, INVVPID, VMFUNC */
        /* The VMX instructions always exit in VMX non-root operation
         * (26.1.2 "Instructions That Cause VM Exits Unconditionally"); the core answers with #UD,
         * as CPUID hides VMX. */
        e->reason = EXIT_VIRT_INSN;
        break;
    case VMX_EXIT_EPT_VIOLATION:
    case VMX_EXIT_EPT_MISCONFIG: {
        /* Exit qualification (table 28-7): the access that faulted, what the
         * entry allowed, and whether the address was the final translation
         * of a guest-linear address or one of the guest's own page tables. */
        uint64_t q = exit_qualification(vcpu->arch, e);
        e->reason = EXIT_MEM_VIOLATION;
        e->insn_len = 0;
        e->mem.gpa = e->raw_info2 = vmread(VMCS_GUEST_PHYS_ADDR);
        e->mem.access = (q & EPTQ_FETCH)   ? MEM_ACCESS_FETCH
                        : (q & EPTQ_WRITE) ? MEM_ACCESS_WRITE
                                           : MEM_ACCESS_READ;
        /* "Present" in NPT terms: the EPT entry allowed some access (bits
         * 5:3 of the qualification).  A misconfiguration has no such bits:
         * it means hv built a bad entry, which should never happen. */
        e->mem.present = basic == VMX_EXIT_EPT_VIOLATION && (q & EPTQ_PERMS_MASK);
        e->mem.misconfig = basic == VMX_EXIT_EPT_MISCONFIG;
        /* Bit 7: the guest-linear address field is valid; bit 8 clear with
         * it: the access was to one of the guest's own paging structures,
         * like bit 33 of SVM's NPF EXITINFO1. */
        e->mem.gla_valid = basic == VMX_EXIT_EPT_VIOLATION && (q & EPTQ_LINEAR_VALID);
        e->mem.gla = e->mem.gla_valid ? vmread(VMCS_GUEST_LINEAR_ADDR) : 0;
        e->mem.during_walk = (q & EPTQ_LINEAR_VALID) && !(q & EPTQ_FINAL);
        break;
    }
    /* Anything else means a control hv did not ask for was forced on, or
     * an emulator bug: the core ends the guest and dumps its state. */
    default:
        e->reason = EXIT_UNHANDLED;
        e->why = "unexpected VMX exit";
        break;
    }
}

/*
 * CR4: only the bits VMX forces (VMXE) are hv's; a MOV that would change one
 * exits.  The core has no CR4 emulation (SVM does not intercept CR4), so the
 * backend does what the CPU would: the guest sees its value in the read
 * shadow, the register gets it with the fixed bits forced.  Setting VMXE, or
 * a bit this CPU does not have (clear in IA32_VMX_CR4_FIXED1), raises #GP(0)
 * as on a CPU without VMX, which is what CPUID tells the guest (SDM Vol. 2B
 * "MOV-Move to/from Control Registers": reserved CR4 bits).
 */
/* What handle_cr4_write() did: not a CR4 write (decode_exit() takes it),
 * applied (skip the MOV), or refused (inject #GP, RIP stays on the MOV). */
enum cr4_result { CR4_NOT_MINE, CR4_DONE, CR4_FAULT };

static enum cr4_result handle_cr4_write(struct vcpu *vcpu, struct vmx_vcpu *vx, uint64_t q)
{
    /* Only MOV to CR4 reaches here; CR0 goes to the core. */
    if (CRQ_CR(q) != 4 || CRQ_TYPE(q) != 0)
        return CR4_NOT_MINE;
    /* Qualification bits 11:8: the source register of the MOV, which may
     * be RSP (in the VMCS, not in enter.S's registers). */
    if (!(vcpu->loaded & VCPU_RSP))
        vmx_load_state(vcpu, VCPU_RSP);
    uint64_t value = *gpr_by_number(&vcpu->regs, CRQ_GPR(q));
    /* VMX is hidden from the guest, and unsupported bits are reserved. */
    if ((value & CR4_VMXE) || (value & ~vmx_caps.cr4_fixed1))
        return CR4_FAULT;
    /* The guest reads back exactly what it wrote ... */
    vx->cr4_shadow = value;
    /* ... while the CPU runs it with VMXE forced on. */
    vmwrite(VMCS_GUEST_CR4, vmx_fixed_apply(value, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0));
    vmwrite(VMCS_CR4_SHADOW, value);
    /* The core's copy, for the page-walk code in core/gva.c. */
    vcpu->cr4 = value;
    return CR4_DONE;
}

/* VMLAUNCH or VMRESUME failed before entering, with enter.S's result `r`
 * (31.2 "Conventions"): nothing of the guest state changed.  Fills *e for
 * the core.  From enter_once(), and from vmx_run() for a VMRESUME of the
 * fast loop (fastloop.c). */
static void entry_refused(struct vcpu *vcpu, struct vmx_vcpu *vx, struct exit_info *e, int r)
{
    /* The reason must outlive this call: the core prints it last. */
    static char why[160];
    /* Remember how it failed for dump_state(), and the state it was
     * given, for the explainer: a VMLAUNCH/VMRESUME that fails changes
     * nothing in the VMCS but its error field. */
    vx->fail_kind = (uint32_t)r;
    vmx_read_state(&vx->saved);
    /* A failed entry looks to the core like an exit of its own kind,
     * EXIT_ENTRY_FAILED, which ends the guest as "exit: error". */
    memset(e, 0, sizeof(*e));
    e->reason = EXIT_ENTRY_FAILED;
    e->rip = vcpu->rip;
    /* Which of the two instructions failed: the error numbers differ
     * (4 for VMLAUNCH on a launched VMCS, 5 for VMRESUME on a clear one). */
    e->raw_name = vx->launched ? "VMRESUME" : "VMLAUNCH";
    if (r == VMX_ENTER_FAIL_VALID) {
        /* VMfailValid: the VMCS holds an error number (31.4 "VM Instruction Error Numbers"). */
        vx->insn_error = (uint32_t)vmread(VMCS_VM_INSN_ERROR);
        e->raw_code = vx->insn_error;
        ksnprintf(why, sizeof(why),
                  "%s failed: VM-instruction error %u, %s (SDM vol 3C 31.4 \"VM "
                  "Instruction Error Numbers\")",
                  e->raw_name, vx->insn_error, vmx_insn_error_name(vx->insn_error));
    } else {
        /* VMfailInvalid: no current VMCS, so no error number either. */
        ksnprintf(why, sizeof(why), "%s failed: no current VMCS (VMfailInvalid)", e->raw_name);
    }
    e->why = why;
}

/* Enter once: true with *reason after a VM exit, or false with *e filled in
 * when VMLAUNCH/VMRESUME itself failed. */
FAST_PATH static bool enter_once(struct vcpu *vcpu, struct vmx_vcpu *vx, struct exit_info *e,
                                 uint32_t *reason)
{
    /* Core -> VMCS: the groups of guest state the core changed since the
     * last exit (state.c), and only the fields among them whose value
     * changed. */
    vmx_store_state(vcpu);
    /* The guest's CR8 is VTPR bits 7:4 with the TPR shadow: the APIC's TPR,
     * in the virtual-APIC page, which the CPU reads at the MOV itself.
     * Written only when it differs: after a fast exit has read the page,
     * a write would cost an emulator that keeps read and write permission
     * apart in its TLB (Bochs) a second walk of hv's page tables. */
    if (vx->vapic && vx->vapic[VAPIC_VTPR] != vcpu->tpr)
        vx->vapic[VAPIC_VTPR] = vcpu->tpr;
    /* The time left until the core's deadline, counting down in the
     * guest (preempt.c). */
    if (vx->preempt)
        vmx_arm_preemption(vx);

        /* enter.S: the guest runs until the next VM exit. */
#ifdef HV_BENCH_FLOOR
    /* The benchmark's reference image: CPUID exits never leave floor.c. */
    int r = vmx_floor_enter(&vcpu->regs, vx->launched);
#else
    int r = vmx_enter(&vcpu->regs, vx->launched);
#endif
    if (r != 0) {
        entry_refused(vcpu, vx, e, r);
        return false;
    }
    /* A VM exit: from now on VMRESUME (25.11.3 "Initializing a VMCS"). */
    vx->launched = true;
    /* Its qualification not read yet (exit_qualification()). */
    vx->qual_read = false;
    /* Exit reason (28.2.1 "Basic VM-Exit Information"): basic reason in bits 15:0, bit 31 for an
     * entry that failed after VMLAUNCH/VMRESUME had already committed to it. */
    *reason = (uint32_t)vmread(VMCS_EXIT_REASON);
    return true;
}

/* VMCS -> core: what every exit needs (the other GPRs were stored by
 * enter.S straight into vcpu->regs): RIP, and RFLAGS and the interrupt
 * shadow, which every emulated instruction reads (core/vcpu.h
 * VCPU_STATE_EAGER), read here rather than through vmx_load_state(), whose
 * test of every group would cost more than the reads.  The rest of the
 * guest state stays in the VMCS until the core asks for it (state.c,
 * core/vcpu.h "Lazy guest state"), and the VMCS now holds everything the
 * core had changed. */
FAST_PATH static void copy_out(struct vcpu *vcpu, struct vmx_vcpu *vx)
{
    /* RIP still points at the instruction that exited; the core adds
     * exit->insn_len when it emulates the instruction. */
    vcpu->rip = vx->held.rip = vmread(VMCS_GUEST_RIP);
    vcpu->rflags = vx->held.rflags = vmread(VMCS_GUEST_RFLAGS);
    /* Blocking by STI or MOV SS: the one-instruction interrupt shadow
     * (25.4.2 "Guest Non-Register State"); the NMI and SMI blocking bits
     * are kept in held.intr for the write-back (state.c). */
    vx->held.intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    vcpu->int_shadow = (vx->held.intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) != 0;
    vcpu->loaded = VCPU_STATE_EAGER;
    vcpu->dirty = 0;
}

/*
 * backend.run for VT-x: run the guest until an exit the core must see, and
 * describe it in *exit.  An exit that only VMX causes (a CR4 write touching
 * a bit VMX forces) is handled here and the guest re-entered, so the core
 * sees the same set of reasons from both backends; so are the exits the
 * fast loop takes (fastloop.c, core/fastpath.h).
 */
FAST_PATH void vmx_run(struct vcpu *vcpu, struct exit_info *exit)
{
    struct vmx_vcpu *vx = vcpu->arch;
    /* Usually one round trip; more only for exits the backend absorbs. */
    for (;;) {
        uint32_t reason;
        /* A failed VMLAUNCH/VMRESUME has filled *exit already. */
        if (!enter_once(vcpu, vx, exit, &reason))
            return;
#ifndef HV_BENCH_FLOOR
        /* The fast loop (fastloop.c): CPUIDs and port I/O nobody answers,
         * while the core allows it, until an exit it leaves to what
         * follows here.  (Not in the benchmark's reference image, whose
         * exits other than CPUID take this whole path.) */
        int refused = vmx_fastloop(vcpu, vx, &reason);
        if (refused != 0) {
            /* A VMRESUME of the loop failed: RIP and the rest as the VMCS
             * holds them, for the report. */
            copy_out(vcpu, vx);
            entry_refused(vcpu, vx, exit, refused);
            return;
        }
#endif
        /* Such a failed entry saves no guest state (28.3 "Saving Guest
         * State" is a step of VM exits that are not entry failures): the
         * VMCS still holds what we tried to enter with, and the explainer
         * checks a copy of it.  Copying it here, only after a failure,
         * rather than before every entry, saves about a hundred VMREADs per
         * exit. */
        if (reason & VMX_EXIT_REASON_ENTRY_FAILED)
            vmx_read_state(&vx->saved);
        /* Copied out even after a failed entry with reason bit 31: the core
         * prints RIP and the registers from struct vcpu. */
        copy_out(vcpu, vx);
        /* A MOV to CR8 set VTPR bits 7:4 and cleared 3:0 (SDM vol 3C 30.3
         * "Virtualizing CR8-Based TPR Accesses"). */
        if (vx->vapic)
            vcpu->tpr = vx->vapic[VAPIC_VTPR];
        /* An event hv injected has been delivered: do not deliver it again
         * (VM exits clear the valid bit themselves, 25.8.3; after a failed
         * entry we keep it for the explainer).  But if the exit interrupted
         * the delivery of an event (an injected one, or the guest's own), the
         * IDT-vectoring information holds it and it must be injected again
         * (28.2.4, "Information for VM Exits During Event Delivery"; SVM's
         * EXITINTINFO).  Without that, an EPT violation in the middle of an
         * interrupt's delivery would lose the interrupt. */
        vcpu->event_pending = 0;
        if (!(reason & VMX_EXIT_REASON_ENTRY_FAILED)) {
            uint32_t idt = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
            /* The VM exit cleared the valid bit of the entry field (SDM vol
             * 3C 28.2 "Recording VM-Exit Information and Updating VM-Entry
             * Control Fields"): it holds nothing unless we re-inject here. */
            if (idt & INTR_INFO_VALID) {
                /* Same layout as the entry field, minus the undefined bits 30:12. */
                vmwrite(VMCS_ENTRY_INTR_INFO, idt & (INTR_INFO_VALID | 0xfffu));
                /* The error code and, for software interrupts, the length of
                 * the INT n, which delivery needs to push the return RIP. */
                vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
                vmwrite(VMCS_ENTRY_INSN_LEN, vmread(VMCS_EXIT_INSN_LEN));
                vcpu->event_pending = 1;
            }
        }
        /* A CR4 write touching VMXE is VMX's own business (the core has no
         * CR4 exit: SVM does not need one): handle it here and go on. */
        if ((reason & 0xffff) == VMX_EXIT_CR_ACCESS && !(reason & VMX_EXIT_REASON_ENTRY_FAILED)) {
            enum cr4_result r = handle_cr4_write(vcpu, vx, exit_qualification(vx, exit));
            if (r == CR4_DONE) {
                /* Applied: on to the next instruction, which ends an STI
                 * or MOV SS shadow, as advance() does in the core. */
                if (!(vcpu->loaded & VCPU_INT_SHADOW))
                    vmx_load_state(vcpu, VCPU_INT_SHADOW);
                vcpu->rip += vmread(VMCS_EXIT_INSN_LEN);
                vcpu->int_shadow = 0;
                vcpu->dirty |= VCPU_RIP | VCPU_INT_SHADOW;
                continue;
            }
            if (r == CR4_FAULT) {
                /* Refused: #GP(0) with RIP on the MOV, as a fault does. */
                vmx_inject_exception(vcpu, 13, true, 0);
                continue;
            }
        }
        decode_exit(reason, vcpu, exit);
        return;
    }
}

/* Log one segment register.  The access rights are printed in VMX's format
 * (25.4.1 "Guest Register State": the descriptor's type/S/DPL/P in bits 7:0, AVL/L/D/G in 15:12,
 * "unusable" in bit 16), which is not SVM's packed 12-bit attribute. */
static void log_seg(const char *name, const struct vmx_seg *s)
{
    hv_log("  %-4s sel %04x ar %05x limit %08x base %016llx", name, s->sel, s->ar, s->limit,
           (unsigned long long)s->base);
}

/* explain.c callback: one log line per broken rule. */
static void explain_line(void *ctx, const char *section, const char *text)
{
    /* Unused: hv_log needs no context.  The unit tests pass one to collect
     * the lines instead of printing them. */
    (void)ctx;
    hv_log("  VM-entry check failed (SDM vol 3C %s \"%s\"): %s", section, vmx_check_title(section),
           text);
}

/*
 * backend.dump_state for VT-x: log the guest's registers after a crash or a
 * failed entry, then, for a failed entry, which rule was broken.  The
 * general-register and RIP lines are those of svm_dump_state(), so that
 * the two logs can be compared; the rest shows what only VMX has.
 */
void vmx_dump_state(struct vcpu *vcpu)
{
    const struct vmx_vcpu *vx = vcpu->arch;
    /* RSP, RFLAGS and the CPL below come from the core's copy: complete
     * it. */
    vmx_load_state(vcpu, VCPU_STATE_ALL & ~vcpu->loaded);
    const struct gprs *r = &vcpu->regs;
    /* The VMCS as it is now (after the exit or the failed entry), for the
     * registers that only the VMCS holds. */
    struct vmx_state now;
    vmx_read_state(&now);
    /* The general registers, from the core's copy (enter.S stored them). */
    hv_log("guest state (VMX):");
    hv_log("  rax %016llx rbx %016llx rcx %016llx rdx %016llx", (unsigned long long)r->rax,
           (unsigned long long)r->rbx, (unsigned long long)r->rcx, (unsigned long long)r->rdx);
    hv_log("  rsi %016llx rdi %016llx rbp %016llx rsp %016llx", (unsigned long long)r->rsi,
           (unsigned long long)r->rdi, (unsigned long long)r->rbp, (unsigned long long)r->rsp);
    hv_log("  r8  %016llx r9  %016llx r10 %016llx r11 %016llx", (unsigned long long)r->r8,
           (unsigned long long)r->r9, (unsigned long long)r->r10, (unsigned long long)r->r11);
    hv_log("  r12 %016llx r13 %016llx r14 %016llx r15 %016llx", (unsigned long long)r->r12,
           (unsigned long long)r->r13, (unsigned long long)r->r14, (unsigned long long)r->r15);
    /* RIP, RFLAGS and the privilege level copy_out() derived from SS. */
    hv_log("  rip %016llx rflags %08llx cpl %u", (unsigned long long)vcpu->rip,
           (unsigned long long)vcpu->rflags, vcpu->cpl);
    /* Both values of CR0 and CR4: the real one in the VMCS, with VMX's
     * forced bits, and the one the guest reads (the core's copy). */
    hv_log("  cr0 %016llx (guest view %016llx) cr3 %016llx cr4 %016llx (guest view %016llx)",
           (unsigned long long)now.cr0, (unsigned long long)vcpu->cr0, (unsigned long long)now.cr3,
           (unsigned long long)now.cr4, (unsigned long long)vcpu->cr4);
    hv_log("  efer %016llx dr7 %llx entry controls %08x", (unsigned long long)now.efer,
           (unsigned long long)now.dr7, now.entry_ctls);
    /* The segments a teaching guest uses; FS, GS and LDTR are rarely the
     * culprit, and the explainer names them when they are. */
    log_seg("cs", &now.seg[SEG_CS]);
    log_seg("ss", &now.seg[SEG_SS]);
    log_seg("ds", &now.seg[SEG_DS]);
    log_seg("es", &now.seg[SEG_ES]);
    log_seg("tr", &now.seg[SEG_TR]);
    hv_log("  gdtr base %016llx limit %04x idtr base %016llx limit %04x",
           (unsigned long long)now.gdtr_base, now.gdtr_limit, (unsigned long long)now.idtr_base,
           now.idtr_limit);
    /* The last exit, raw, for a reader who has appendix C open. */
    uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
    /* Before the first VM exit the exit fields hold nothing. */
    if (vx->launched)
        hv_log("  last exit %s (%u%s) qualification %#llx", vmx_exit_name(reason), reason & 0xffff,
               (reason & VMX_EXIT_REASON_ENTRY_FAILED) ? ", entry failed" : "",
               (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
    else
        hv_log("  no VM exit yet: the first VM entry (VMLAUNCH) did not happen");

    /* After a failed entry, say which check failed, on the state we tried
     * to enter with. */
    unsigned n = 0;
    /* VMfailValid: the error number says which of the first two groups of
     * checks failed (27.2 "Checks on VMX Controls and Host-State Area"), so only that group is run.
     */
    if (vx->fail_kind == VMX_ENTER_FAIL_VALID) {
        hv_log("  VM-instruction error %u: %s", vx->insn_error,
               vmx_insn_error_name(vx->insn_error));
        if (vx->insn_error == VMXERR_VMENTRY_INVALID_CONTROLS)
            n = vmx_check_controls(&vx->saved, &vmx_caps, explain_line, NULL);
        else if (vx->insn_error == VMXERR_VMENTRY_INVALID_HOST_STATE)
            n = vmx_check_host(&vx->saved, &vmx_caps, explain_line, NULL);
        else
            n = 1; /* the error number is the whole story */
    } else if ((reason & VMX_EXIT_REASON_ENTRY_FAILED) &&
               (reason & 0xffff) == VMX_EXIT_INVALID_GUEST_STATE) {
        /* Exit reason 33: the controls and host state passed, the guest
         * state did not (27.3.1 "Checks on the Guest State Area"). */
        n = vmx_check_guest(&vx->saved, &vmx_caps, explain_line, NULL);
    } else {
        /* Not a failed entry (a crash): the register dump is all. */
        return;
    }
    /* The CPU refused the state but none of hv's checks did: say so rather
     * than stay silent, since the explainer covers only part of the SDM. */
    if (n == 0)
        hv_log("  no check of SDM vol 3C 27.2 \"Checks on VMX Controls and Host-State Area\" "
               "or 27.3.1 \"Checks on the Guest State Area\" that hv knows explains the "
               "failure");
}
