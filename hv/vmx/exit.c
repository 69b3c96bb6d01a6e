/*
 * exit.c - one trip into the guest and back: copy the core's vCPU state into
 * the VMCS, VMLAUNCH/VMRESUME (enter.S), copy the guest state back, and
 * translate the VMX exit reason (SDM Vol. 3D appendix C) into the core's
 * struct exit_info.  Also the names of the exit reasons (for the trace) and
 * dump_state(), which explains a failed VM entry (explain.c).
 */
#include "klib.h"

#include "core/cpu.h"
#include "core/log.h"
#include "explain.h"
#include "internal.h"

/* Names of the basic exit reasons (appendix C), for the trace. */
static const char *const exit_names[VMX_EXIT_REASON_MAX + 1] = {
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
    [10] = "CPUID",
    [11] = "GETSEC",
    [12] = "HLT",
    [13] = "INVD",
    [14] = "INVLPG",
    [15] = "RDPMC",
    [16] = "RDTSC",
    [17] = "RSM",
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
    [28] = "CR_ACCESS",
    [29] = "DR_ACCESS",
    [30] = "IO_INSTRUCTION",
    [31] = "RDMSR",
    [32] = "WRMSR",
    [33] = "ENTRY_FAIL_GUEST_STATE",
    [34] = "ENTRY_FAIL_MSR_LOADING",
    [36] = "MWAIT",
    [37] = "MONITOR_TRAP_FLAG",
    [39] = "MONITOR",
    [40] = "PAUSE",
    [41] = "ENTRY_FAIL_MACHINE_CHECK",
    [43] = "TPR_BELOW_THRESHOLD",
    [44] = "APIC_ACCESS",
    [45] = "VIRTUALIZED_EOI",
    [46] = "GDTR_IDTR_ACCESS",
    [47] = "LDTR_TR_ACCESS",
    [48] = "EPT_VIOLATION",
    [49] = "EPT_MISCONFIG",
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

const char *vmx_exit_name(uint32_t reason)
{
    /* Bits 15:0 are the basic reason; bit 31 marks a failed entry. */
    uint32_t basic = reason & 0xffff;
    if (basic <= VMX_EXIT_REASON_MAX && exit_names[basic])
        return exit_names[basic];
    return "EXIT_?";
}

/* Decode the I/O exit qualification (28.2.1, table 28-5).  The address size
 * of INS/OUTS is in the VM-exit instruction-information field where the CPU
 * reports it (IA32_VMX_BASIC bit 54, 28.2.5); otherwise it follows the code
 * segment, as it does without an address-size prefix. */
static void decode_io(struct exit_info *e, uint64_t q, const struct vcpu *vcpu)
{
    e->io.port = (uint16_t)(q >> IOQ_PORT_SHIFT);
    e->io.in = q & IOQ_IN;
    e->io.string = q & IOQ_STRING;
    e->io.rep = q & IOQ_REP;
    e->io.size = (uint8_t)((q & IOQ_SIZE_MASK) + 1);
    if (e->io.string && (vmx_caps.basic & (1ull << 54))) {
        uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSN_INFO);
        e->io.addr_size = (uint8_t)(2u << ((info >> 7) & 7));
    } else {
        e->io.addr_size = vcpu->cs_long ? 8 : vcpu->cs_db ? 4 : 2;
    }
}

/* Fill *e from the VMCS after a VM exit. */
static void decode_exit(uint32_t reason, const struct vcpu *vcpu, struct exit_info *e)
{
    uint32_t basic = reason & 0xffff;
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    memset(e, 0, sizeof(*e));
    e->rip = vcpu->rip;
    e->raw_code = reason;
    e->raw_name = vmx_exit_name(reason);
    e->raw_info1 = q;
    /* The guest-physical address for EPT exits, else the guest-linear one. */
    e->raw_info2 = (basic == VMX_EXIT_EPT_VIOLATION || basic == VMX_EXIT_EPT_MISCONFIG)
                       ? vmread(VMCS_GUEST_PHYS_ADDR)
                       : vmread(VMCS_GUEST_LINEAR_ADDR);
    /* Exits caused by an instruction report its length (28.2.4): no table of
     * fixed lengths as on QEMU's SVM without NRIPS. */
    e->insn_len = (uint32_t)vmread(VMCS_EXIT_INSN_LEN);

    /* Bit 31: the VM entry itself failed, after loading part of the guest
     * state (27.8); the basic reason says which class of check. */
    if (reason & VMX_EXIT_REASON_ENTRY_FAILED) {
        e->reason = EXIT_ENTRY_FAILED;
        e->insn_len = 0;
        e->why = basic == VMX_EXIT_INVALID_GUEST_STATE
                     ? "VM entry failed: invalid guest state (exit reason 33, SDM Vol. 3C 27.3.1)"
                 : basic == VMX_EXIT_MSR_LOADING
                     ? "VM entry failed while loading MSRs (exit reason 34, SDM Vol. 3C 27.4)"
                     : "VM entry failed (machine-check event, exit reason 41)";
        return;
    }
    switch (basic) {
    case VMX_EXIT_EXCEPTION_NMI: {
        /* VM-exit interruption information (25.9.2): vector, error code valid. */
        uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
        e->reason = EXIT_EXCEPTION;
        e->exc.vector = (uint8_t)(info & INTR_INFO_VECTOR_MASK);
        e->exc.has_error = info & INTR_INFO_DELIVER_ERROR;
        e->exc.error = e->exc.has_error ? (uint32_t)vmread(VMCS_EXIT_INTR_ERROR) : 0;
        e->insn_len = 0;
        break;
    }
    case VMX_EXIT_CPUID:
        e->reason = EXIT_CPUID;
        break;
    case VMX_EXIT_HLT:
        e->reason = EXIT_HLT;
        break;
    case VMX_EXIT_IO:
        e->reason = EXIT_IO;
        decode_io(e, q, vcpu);
        break;
    case VMX_EXIT_RDMSR:
    case VMX_EXIT_WRMSR:
        /* Separate reasons for read and write (SVM has one, with EXITINFO1);
         * the index is the guest's ECX. */
        e->reason = basic == VMX_EXIT_RDMSR ? EXIT_MSR_READ : EXIT_MSR_WRITE;
        e->msr = (uint32_t)vcpu->regs.rcx;
        break;
    case VMX_EXIT_VMCALL:
        e->reason = EXIT_HYPERCALL;
        break;
    case VMX_EXIT_TRIPLE_FAULT:
        e->reason = EXIT_SHUTDOWN;
        e->insn_len = 0;
        break;
    case VMX_EXIT_EXTERNAL_INTERRUPT:
        e->reason = EXIT_INTERRUPT;
        e->insn_len = 0;
        break;
    case VMX_EXIT_INTERRUPT_WINDOW:
        /* The window the core asked for with irq_window() is open (26.7.5). */
        e->reason = EXIT_IRQ_WINDOW;
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
         * (26.1.2); the core answers with #UD, as CPUID hides VMX. */
        e->reason = EXIT_VIRT_INSN;
        break;
    case VMX_EXIT_EPT_VIOLATION:
    case VMX_EXIT_EPT_MISCONFIG:
        /* Exit qualification (table 28-7): the access that faulted, what the
         * entry allowed, and whether the address was the final translation
         * of a guest-linear address or one of the guest's own page tables. */
        e->reason = EXIT_NESTED_PAGE_FAULT;
        e->insn_len = 0;
        e->npf.gpa = e->raw_info2;
        e->npf.write = q & EPTQ_WRITE;
        e->npf.fetch = q & EPTQ_FETCH;
        e->npf.present = basic == VMX_EXIT_EPT_VIOLATION && (q & EPTQ_PERMS_MASK);
        e->npf.during_walk = (q & EPTQ_LINEAR_VALID) && !(q & EPTQ_FINAL);
        break;
    default:
        e->reason = EXIT_UNHANDLED;
        e->why = "unexpected VMX exit";
        break;
    }
}

/*
 * MOV to CR0 or CR4 that would change a bit hv owns (the guest/host mask,
 * vcpu.c) exits with reason 28 (25.6.6).  hv does what the CPU would: the
 * guest sees its value in the read shadow, and the real register gets the
 * value with VMX's fixed bits forced.  If the guest turns paging on with
 * EFER.LME set this way, hv also performs what the CPU does on such a MOV:
 * EFER.LMA = 1 (SDM Vol. 3A 10.8.5).  Returns false for accesses hv does not
 * emulate (they end the guest as unhandled).
 */
static bool handle_cr_access(struct vcpu *vcpu, struct vmx_vcpu *vx, uint64_t q)
{
    uint64_t *gpr = &vcpu->regs.rax;
    /* Only "MOV to CR" (access type 0) to CR0 or CR4 can reach us. */
    if (CRQ_TYPE(q) != 0 || (CRQ_CR(q) != 0 && CRQ_CR(q) != 4))
        return false;
    /* The source register, numbered as in struct gprs (RAX..R15). */
    uint64_t value = gpr[CRQ_GPR(q)];
    if (CRQ_CR(q) == 0) {
        vx->cr0_shadow = value;
        uint64_t real =
            vmx_fixed_apply(value, vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1, CR0_PE | CR0_PG);
        vmwrite(VMCS_GUEST_CR0, real);
        vmwrite(VMCS_CR0_SHADOW, value);
        /* Paging on with LME: long mode becomes active. */
        if ((value & CR0_PG) && (vcpu->efer & EFER_LME))
            vcpu->efer |= EFER_LMA;
        else if (!(value & CR0_PG))
            vcpu->efer &= ~EFER_LMA;
    } else {
        vx->cr4_shadow = value;
        vmwrite(VMCS_GUEST_CR4,
                vmx_fixed_apply(value, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0));
        vmwrite(VMCS_CR4_SHADOW, value);
    }
    return true;
}

/* The entry controls for this entry: "IA-32e mode guest" must equal the
 * guest's EFER.LMA (27.3.1.1), which the guest changes itself. */
static void sync_entry_controls(const struct vcpu *vcpu, const struct vmx_vcpu *vx)
{
    uint32_t entry = vx->entry_ctls;
    if (vcpu->efer & EFER_LMA)
        entry |= ENTRY_IA32E_MODE_GUEST;
    vmwrite(VMCS_ENTRY_CONTROLS, entry);
}

/* Enter once; returns the exit reason, or fills *e for a failed instruction. */
static bool enter_once(struct vcpu *vcpu, struct vmx_vcpu *vx, struct exit_info *e,
                       uint32_t *reason)
{
    /* Core -> VMCS: the registers VM entry loads from the VMCS (27.3.2). */
    vmwrite(VMCS_GUEST_RSP, vcpu->regs.rsp);
    vmwrite(VMCS_GUEST_RIP, vcpu->rip);
    vmwrite(VMCS_GUEST_RFLAGS, vcpu->rflags);
    vmwrite(VMCS_GUEST_EFER, vcpu->efer);
    vmwrite(VMCS_GUEST_PAT, vcpu->pat);
    /* The interrupt shadow (interruptibility state bits 0-1, 25.4.2): the
     * core clears it when it skips an instruction. */
    uint32_t intr = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (!vcpu->int_shadow)
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
                intr & ~(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
    sync_entry_controls(vcpu, vx);
    /* Keep a copy of what we are about to enter with: after a failed entry
     * the explainer checks exactly this. */
    vmx_read_state(&vx->saved);

    int r = vmx_enter(&vcpu->regs, vx->launched);
    if (r != 0) {
        /* VMLAUNCH/VMRESUME failed before entering (31.2): nothing of the
         * guest state changed. */
        static char why[160];
        vx->fail_kind = (uint32_t)r;
        memset(e, 0, sizeof(*e));
        e->reason = EXIT_ENTRY_FAILED;
        e->rip = vcpu->rip;
        e->raw_name = vx->launched ? "VMRESUME" : "VMLAUNCH";
        if (r == VMX_ENTER_FAIL_VALID) {
            vx->insn_error = (uint32_t)vmread(VMCS_VM_INSN_ERROR);
            e->raw_code = vx->insn_error;
            ksnprintf(why, sizeof(why), "%s failed: VM-instruction error %u, %s (SDM Vol. 3C 31.4)",
                      e->raw_name, vx->insn_error, vmx_insn_error_name(vx->insn_error));
        } else {
            ksnprintf(why, sizeof(why), "%s failed: no current VMCS (VMfailInvalid)", e->raw_name);
        }
        e->why = why;
        return false;
    }
    /* A VM exit: from now on VMRESUME (25.11.3). */
    vx->launched = true;
    *reason = (uint32_t)vmread(VMCS_EXIT_REASON);
    return true;
}

/* VMCS -> core: the guest's state as the VM exit saved it (28.3). */
static void copy_out(struct vcpu *vcpu, const struct vmx_vcpu *vx)
{
    vcpu->regs.rsp = vmread(VMCS_GUEST_RSP);
    vcpu->rip = vmread(VMCS_GUEST_RIP);
    vcpu->rflags = vmread(VMCS_GUEST_RFLAGS);
    /* CR0 and CR4 as the guest sees them: its own bits from the register,
     * hv's from the read shadow. */
    uint64_t cr0 = vmread(VMCS_GUEST_CR0), cr4 = vmread(VMCS_GUEST_CR4);
    vcpu->cr0 = (cr0 & ~vx->cr0_mask) | (vx->cr0_shadow & vx->cr0_mask);
    vcpu->cr4 = (cr4 & ~vx->cr4_mask) | (vx->cr4_shadow & vx->cr4_mask);
    vcpu->cr3 = vmread(VMCS_GUEST_CR3);
    /* CR2 is not in the VMCS: VMX leaves it alone, so the register still
     * holds the guest's value (hv itself takes no page faults). */
    vcpu->cr2 = read_cr2();
    /* The CPU sets EFER.LMA itself when the guest enables paging with LME
     * (saved by "save IA32_EFER", 28.3.1). */
    vcpu->efer = vmread(VMCS_GUEST_EFER);
    uint32_t cs_ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2u * SEG_CS);
    uint32_t ss_ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2u * SEG_SS);
    /* The CPL is SS.DPL (25.4.1). */
    vcpu->cpl = (uint8_t)AR_DPL(ss_ar);
    vcpu->cs_long = !!(cs_ar & AR_L);
    vcpu->cs_db = !!(cs_ar & AR_DB);
    /* Blocking by STI or MOV SS: the one-instruction interrupt shadow. */
    vcpu->int_shadow = (vmread(VMCS_GUEST_INTERRUPTIBILITY) &
                        (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) != 0;
}

void vmx_run(struct vcpu *vcpu, struct exit_info *exit)
{
    struct vmx_vcpu *vx = vcpu->arch;
    for (;;) {
        uint32_t reason;
        if (!enter_once(vcpu, vx, exit, &reason))
            return;
        copy_out(vcpu, vx);
        /* An event hv injected has been delivered: do not deliver it again
         * (VM exits clear the valid bit themselves, 25.8.3; after a failed
         * entry we keep it for the explainer).  But if the exit interrupted
         * the delivery of an event (an injected one, or the guest's own), the
         * IDT-vectoring information holds it and it must be injected again
         * (28.2.4, 29.3.3.1: SVM's EXITINTINFO). */
        vcpu->event_pending = 0;
        if (!(reason & VMX_EXIT_REASON_ENTRY_FAILED)) {
            uint32_t idt = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
            vmwrite(VMCS_ENTRY_INTR_INFO, 0);
            if (idt & INTR_INFO_VALID) {
                /* Same layout as the entry field, minus the undefined bits 30:12. */
                vmwrite(VMCS_ENTRY_INTR_INFO, idt & (INTR_INFO_VALID | 0xfffu));
                vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
                vmwrite(VMCS_ENTRY_INSN_LEN, vmread(VMCS_EXIT_INSN_LEN));
                vcpu->event_pending = 1;
            }
        }
        /* CR0/CR4 shadow updates are VMX's own business: the core has no
         * such exit (SVM does not need one), so handle them here and go on. */
        if ((reason & 0xffff) == VMX_EXIT_CR_ACCESS && !(reason & VMX_EXIT_REASON_ENTRY_FAILED)) {
            uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
            if (handle_cr_access(vcpu, vx, q)) {
                vcpu->rip += vmread(VMCS_EXIT_INSN_LEN);
                continue;
            }
        }
        decode_exit(reason, vcpu, exit);
        return;
    }
}

/* explain.c callback: one log line per broken rule. */
static void explain_line(void *ctx, const char *section, const char *text)
{
    (void)ctx;
    hv_log("  VM-entry check failed (SDM Vol. 3C %s): %s", section, text);
}

/* Log one segment register. */
static void log_seg(const char *name, const struct vmx_seg *s)
{
    hv_log("  %-4s sel %04x ar %05x limit %08x base %016llx", name, s->sel, s->ar, s->limit,
           (unsigned long long)s->base);
}

void vmx_dump_state(const struct vcpu *vcpu)
{
    const struct vmx_vcpu *vx = vcpu->arch;
    const struct gprs *r = &vcpu->regs;
    struct vmx_state now;
    vmx_read_state(&now);
    hv_log("guest state (VMX):");
    hv_log("  rax %016llx rbx %016llx rcx %016llx rdx %016llx", (unsigned long long)r->rax,
           (unsigned long long)r->rbx, (unsigned long long)r->rcx, (unsigned long long)r->rdx);
    hv_log("  rsi %016llx rdi %016llx rbp %016llx rsp %016llx", (unsigned long long)r->rsi,
           (unsigned long long)r->rdi, (unsigned long long)r->rbp, (unsigned long long)r->rsp);
    hv_log("  r8  %016llx r9  %016llx r10 %016llx r11 %016llx", (unsigned long long)r->r8,
           (unsigned long long)r->r9, (unsigned long long)r->r10, (unsigned long long)r->r11);
    hv_log("  r12 %016llx r13 %016llx r14 %016llx r15 %016llx", (unsigned long long)r->r12,
           (unsigned long long)r->r13, (unsigned long long)r->r14, (unsigned long long)r->r15);
    hv_log("  rip %016llx rflags %08llx cpl %u", (unsigned long long)vcpu->rip,
           (unsigned long long)vcpu->rflags, vcpu->cpl);
    hv_log("  cr0 %016llx (guest view %016llx) cr3 %016llx cr4 %016llx (guest view %016llx)",
           (unsigned long long)now.cr0, (unsigned long long)vcpu->cr0, (unsigned long long)now.cr3,
           (unsigned long long)now.cr4, (unsigned long long)vcpu->cr4);
    hv_log("  efer %016llx dr7 %llx entry controls %08x", (unsigned long long)now.efer,
           (unsigned long long)now.dr7, now.entry_ctls);
    log_seg("cs", &now.seg[SEG_CS]);
    log_seg("ss", &now.seg[SEG_SS]);
    log_seg("ds", &now.seg[SEG_DS]);
    log_seg("es", &now.seg[SEG_ES]);
    log_seg("tr", &now.seg[SEG_TR]);
    hv_log("  gdtr base %016llx limit %04x idtr base %016llx limit %04x",
           (unsigned long long)now.gdtr_base, now.gdtr_limit, (unsigned long long)now.idtr_base,
           now.idtr_limit);
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
        n = vmx_check_guest(&vx->saved, &vmx_caps, explain_line, NULL);
    } else {
        return;
    }
    if (n == 0)
        hv_log("  no check of SDM Vol. 3C 27.2/27.3.1 that hv knows explains the failure");
}
