/*
 * exit.c - one trip into the guest and back: copy the core's vCPU state into
 * the VMCB, VMRUN (enter.S), copy the guest state back, and translate the
 * SVM exit code (APM vol 2 appendix C "SVM Intercept Exit Codes") into the core's struct exit_info.
 * Also the names of the exit codes (for the trace) and dump_state().
 */
#include "klib.h"

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/log.h"
#include "explain.h"
#include "internal.h"
#include "core/exitpath.h"

/* Names of the exit codes hv may see (APM vol 2 appendix C "SVM Intercept Exit Codes"), for the
 * trace and crash reports.  Exceptions 0x40-0x5f share one name.  Only the codes of intercepts hv
 * enables, plus INTR/NMI (which any SVM guest can cause) and INVALID: a name missing here prints as
 * "VMEXIT_?", which itself says "hv did not expect this". */
static const struct {
    uint32_t code;
    const char *name;
} exit_names[] = {
    /* The exits a guest causes most come first: the search runs on every
     * exit, and on an emulator that interprets hv each step counts. */
    {VMEXIT_IOIO, "VMEXIT_IOIO"},
    {VMEXIT_CPUID, "VMEXIT_CPUID"},
    {VMEXIT_MSR, "VMEXIT_MSR"},
    {VMEXIT_VMMCALL, "VMEXIT_VMMCALL"},
    {VMEXIT_HLT, "VMEXIT_HLT"},
    {VMEXIT_NPF, "VMEXIT_NPF"},
    {VMEXIT_VINTR, "VMEXIT_VINTR"},
    {VMEXIT_NMI, "VMEXIT_NMI"},
    {VMEXIT_CR0_WRITE, "VMEXIT_CR0_WRITE"},
    {VMEXIT_CR4_WRITE, "VMEXIT_CR4_WRITE"},
    {VMEXIT_INTR, "VMEXIT_INTR"},
    {VMEXIT_IRET, "VMEXIT_IRET"},
    {VMEXIT_EXCP_BASE + VEC_DB, "VMEXIT_EXCP_DB"},
    {VMEXIT_SHUTDOWN, "VMEXIT_SHUTDOWN"},
    {VMEXIT_VMRUN, "VMEXIT_VMRUN"},
    {VMEXIT_VMLOAD, "VMEXIT_VMLOAD"},
    {VMEXIT_VMSAVE, "VMEXIT_VMSAVE"},
    {VMEXIT_STGI, "VMEXIT_STGI"},
    {VMEXIT_CLGI, "VMEXIT_CLGI"},
    {VMEXIT_SKINIT, "VMEXIT_SKINIT"},
    {VMEXIT_INVALID, "VMEXIT_INVALID"},
};

/*
 * The name of SVM exit code `code`, for the core's trace line, the crash
 * report and dump_state().  Never NULL: an unknown code gets "VMEXIT_?".
 */
EXIT_PATH const char *svm_exit_name(uint64_t code)
{
    /* Compare the low 32 bits: QEMU stores VMEXIT_INVALID as 0xffffffff
     * rather than the 64-bit -1 the APM specifies. */
    uint32_t c = (uint32_t)code;
    /* Intercepted exceptions: 0x40 + vector. */
    if (c >= VMEXIT_EXCP_BASE && c < VMEXIT_EXCP_BASE + 32)
        return "VMEXIT_EXCP";
    /* A short table, searched from the most frequent exit on. */
    for (size_t i = 0; i < KARRAY_SIZE(exit_names); i++)
        if (exit_names[i].code == c)
            return exit_names[i].name;
    /* An exit hv never asked for. */
    return "VMEXIT_?";
}

/* Decode the IOIO EXITINFO1 word (15.10.2 "IN and OUT Behavior", figure 15-2).  `mode_addr` is
 * the default address size of the guest's code segment, used when the CPU
 * leaves the A16/A32/A64 bits all clear, as QEMU 7.2 does (seen: EXITINFO1
 * 0x3f8001c for a 64-bit REP OUTSB).  An address-size prefix would be
 * missed then; hv's guests use none. */
EXIT_PATH static void decode_io(struct exit_info *e, uint64_t info1, uint8_t mode_addr)
{
    /* Bits 31:16: the port, from DX or the immediate operand. */
    e->io.port = IOIO_PORT(info1);
    /* Bit 0: 1 for IN/INS, 0 for OUT/OUTS. */
    e->io.in = info1 & IOIO_TYPE_IN;
    /* Bits 2 and 3: INS/OUTS, and a REP prefix (the count is in RCX). */
    e->io.string = info1 & IOIO_STR;
    e->io.rep = info1 & IOIO_REP;
    /* Bits 6:4: the operand size, one-hot. */
    e->io.size = IOIO_SIZE(info1);
    /* Bits 9:7, one-hot too: the address size a string instruction uses
     * for RSI/RDI and RCX, which core/gva.c needs to walk the buffer. */
    if (info1 & IOIO_A64)
        e->io.addr_size = 8;
    else if (info1 & IOIO_A32)
        e->io.addr_size = 4;
    else if (info1 & IOIO_A16)
        e->io.addr_size = 2;
    /* None set: QEMU's omission, fall back on the code segment. */
    else
        e->io.addr_size = mode_addr;
}

/* Exit codes that map one-to-one onto a core reason with no details to
 * decode (the detail lives in guest registers the core reads itself). */
static const struct {
    uint32_t code;
    enum exit_reason reason;
} simple_exits[] = {
    /* CPUID: the leaf is in the guest's EAX/ECX (15.9 "Instruction Intercepts"). */
    {VMEXIT_CPUID, EXIT_CPUID},
    /* HLT (15.9 "Instruction Intercepts"). */
    {VMEXIT_HLT, EXIT_HLT},
    /* VMMCALL: the hypercall number and arguments are in RAX..RDX. */
    {VMEXIT_VMMCALL, EXIT_HYPERCALL},
    /* Shutdown, e.g. a triple fault (15.12 "Intercepting Shutdown"). */
    {VMEXIT_SHUTDOWN, EXIT_SHUTDOWN},
    /* Physical interrupts while the guest ran (15.13 "Interrupt
     * Intercepts"): hv intercepts only NMI, its time-slice watchdog's
     * (preempt.c). */
    {VMEXIT_INTR, EXIT_INTERRUPT},
    {VMEXIT_NMI, EXIT_INTERRUPT},
    /* The interrupt window the core asked for opened (15.21.4). */
    {VMEXIT_VINTR, EXIT_IRQ_WINDOW},
    /* SVM instructions the guest may not use: CPUID hides SVM (15.5-15.7,
     * 15.17, 15.27). */
    {VMEXIT_VMRUN, EXIT_VIRT_INSN},
    {VMEXIT_VMLOAD, EXIT_VIRT_INSN},
    {VMEXIT_VMSAVE, EXIT_VIRT_INSN},
    {VMEXIT_STGI, EXIT_VIRT_INSN},
    {VMEXIT_CLGI, EXIT_VIRT_INSN},
    {VMEXIT_SKINIT, EXIT_VIRT_INSN},
};

/* Decode the exits that carry details in EXITINFO1/EXITINFO2; returns false
 * for an exit code this function does not know. */
static bool decode_detailed(const struct vmcb_control *c, uint32_t code, uint8_t mode_addr,
                            struct exit_info *e)
{
    /* Every case fills e->reason and only the union member of that reason
     * (exit.h), so the core never reads details of another exit kind. */
    switch (code) {
    case VMEXIT_IOIO:
        /* Port, size, direction, string/REP in EXITINFO1 (15.10.2 "IN and OUT Behavior"). */
        e->reason = EXIT_IO;
        decode_io(e, c->exitinfo1, mode_addr);
        return true;
    case VMEXIT_MSR:
        /* EXITINFO1 = 0 for RDMSR, 1 for WRMSR (15.11 "MSR Intercepts"); the index is in
         * the guest's ECX, which the core reads from vcpu->regs. */
        e->reason = c->exitinfo1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
        return true;
    case VMEXIT_NPF:
        /* EXITINFO1 is a page-fault error code plus bits 32/33, EXITINFO2
         * the guest-physical address (15.25.6). */
        e->reason = EXIT_MEM_VIOLATION;
        /* The guest-physical address that had no nested translation. */
        e->mem.gpa = c->exitinfo2;
        /* P=0: no translation at all; P=1: one that forbade the access. */
        e->mem.present = c->exitinfo1 & NPF_P;
        /* Bit 4: an instruction fetch; bit 1: a write; else a read. */
        e->mem.access = (c->exitinfo1 & NPF_ID)   ? MEM_ACCESS_FETCH
                        : (c->exitinfo1 & NPF_RW) ? MEM_ACCESS_WRITE
                                                  : MEM_ACCESS_READ;
        /* Bit 33: the address was one of the guest's own page-table
         * entries, e.g. a CR3 pointing outside RAM. */
        e->mem.during_walk = c->exitinfo1 & NPF_IN_WALK;
        /* SVM gives no guest-linear address (decode assists give the
         * instruction bytes, not the address), so gla_valid stays 0. */
        return true;
    case VMEXIT_CR0_WRITE:
    case VMEXIT_CR4_WRITE:
        /* Without decode assists (QEMU) EXITINFO1 says nothing about the
         * source: the core decodes the instruction (15.33.1). */
        e->reason = EXIT_CR_WRITE;
        /* CR0 and CR4 writes are intercepted (vcpu.c). */
        e->cr.cr = code == VMEXIT_CR4_WRITE ? 4 : 0;
        return true;
    case VMEXIT_INVALID:
        /* VMRUN refused the VMCB (15.5.1 "Basic Operation"): dump_state() explains why. */
        e->reason = EXIT_ENTRY_FAILED;
        e->why = "VMRUN failed: invalid guest state (VMEXIT_INVALID)";
        return true;
    /* Not an exit with details: decode_exit() reports it as unhandled. */
    default:
        return false;
    }
}

/* Fill *e from the VMCB after #VMEXIT, for svm_run(): this is the one place
 * where SVM exit codes become the core's vendor-neutral reasons.  `rip` is
 * the guest RIP of the exiting instruction, `mode_addr` its default
 * address size (for string I/O). */
static void decode_exit(const struct vmcb *v, uint64_t rip, uint8_t mode_addr, struct exit_info *e)
{
    const struct vmcb_control *c = &v->control;
    /* Only the low 32 bits are meaningful (VMEXIT_INVALID, see above). */
    uint32_t code = (uint32_t)c->exitcode;
    /* Start from zero: fields that do not apply must read 0 (exit.h). */
    *e = (struct exit_info){0};
    /* The RIP of the instruction that exited (the trace prints it). */
    e->rip = rip;
    /* The raw vendor view, for the trace line and crash reports. */
    e->raw_code = code;
    e->raw_name = svm_exit_name(code);
    e->raw_info1 = c->exitinfo1;
    e->raw_info2 = c->exitinfo2;
    e->insn_len = svm_insn_length(c, code, rip, svm_caps.nrips);

    /* Exception intercepts (15.12 "Exception Intercepts"): EXITINFO1 holds the error code.  hv
     * intercepts only #DF (vcpu.c), whose error code is always 0; the core
     * decides whether the guest can still take it. */
    if (code >= VMEXIT_EXCP_BASE && code < VMEXIT_EXCP_BASE + 32) {
        e->reason = EXIT_EXCEPTION;
        /* Exit code 0x40 + n is an intercepted exception with vector n. */
        e->exc.vector = (uint8_t)(code - VMEXIT_EXCP_BASE);
        e->exc.error = (uint32_t)c->exitinfo1;
        return;
    }
    /* Exits with details in EXITINFO1/2 (a switch: IOIO, the most
     * frequent exit, is decoded without a search). */
    if (decode_detailed(c, code, mode_addr, e))
        return;
    /* Exits whose details are in the guest's registers. */
    for (size_t i = 0; i < KARRAY_SIZE(simple_exits); i++) {
        if (simple_exits[i].code == code) {
            /* Nothing more to decode: the core reads what it needs from
             * the guest's registers in struct vcpu. */
            e->reason = simple_exits[i].reason;
            return;
        }
    }
    /* Anything else: an intercept hv never set, so a bug or a CPU quirk;
     * the core ends the guest and dumps its state. */
    e->reason = EXIT_UNHANDLED;
    e->why = "unexpected SVM exit";
}

/* VMCB -> core: what every exit needs.  RAX (the other GPRs were stored
 * into vcpu->regs by enter.S), and RIP, on a normal exit the intercepted
 * instruction itself (SVM reports the instruction's address, not the next
 * one); then RFLAGS and the interrupt shadow (core/vcpu.h
 * VCPU_STATE_EAGER), copied here rather than through svm_load_state(),
 * whose test of every group would cost more than the copies.  Nothing
 * else is loaded until the core asks (core/vcpu.h "Lazy guest state"), and
 * the VMCB now holds everything the core had changed. */
FAST_PATH static void copy_out(struct vcpu *vcpu, const struct svm_vcpu *sv)
{
    const struct vmcb_save *s = svm_saved_state(sv);
    vcpu->regs.rax = s->rax;
    vcpu->rip = sv->entry_failed ? sv->rip_before : s->rip;
    vcpu->rflags = s->rflags;
    /* Set when the guest exited right after STI or MOV SS (15.21.5
     * "Interrupt Shadows"). */
    vcpu->int_shadow = (sv->vmcb->control.int_state & INT_STATE_SHADOW) ? 1 : 0;
    vcpu->loaded = VCPU_STATE_EAGER;
    vcpu->dirty = 0;
}

/* Core -> VMCB, the world switch, and what every exit needs first; the
 * fast loop (fastloop.c) repeats the last part for its own VMRUNs. */
FAST_PATH static void enter_guest(struct vcpu *vcpu, struct svm_vcpu *sv)
{
    struct vmcb *v = sv->vmcb;

    /* Core -> VMCB: RAX, and what the core changed since the last exit
     * (state.c). */
    svm_store_state(vcpu);
    /* The guest's CR8 is V_TPR while V_INTR_MASKING is on (APM vol 2
     * 15.21.2 "Virtualizing APIC.TPR"): the APIC's priority class. */
    v->control.v_intr = (v->control.v_intr & ~V_TPR_MASK) | (vcpu->tpr >> 4);
    /* QEMU corrupts the saved RIP when VMRUN fails on a bad EVENTINJ
     * (docs/emulators.md): remember where we entered. */
    sv->rip_before = vcpu->rip;
    /* Keep what VMRUN is about to check, for explaining a failure: the
     * control area up to the instruction bytes and the save area up to the
     * last field hv sets (a full 4 KiB copy would cost more).  Only when hv
     * edited something VMRUN checks since the last #VMEXIT (vmcb_edited,
     * internal.h): the state the CPU itself saved at that exit, with only
     * RIP, RSP, RFLAGS and the interrupt shadow changed, passes every
     * check, and the copy, over 800 bytes, is most of this function's
     * work on an emulator that interprets hv (Bochs). */
    sv->before_valid = sv->vmcb_edited;
    if (sv->vmcb_edited) {
        memcpy(&sv->before->control, &v->control, offsetof(struct vmcb_control, insn_len));
        memcpy(&sv->before->save, &v->save, offsetof(struct vmcb_save, dbgctl));
        sv->vmcb_edited = false;
    }

    /* The world switch itself (enter.S): the other 14 GPRs go in and out
     * through vcpu->regs; the CPU wants physical addresses. */
#ifdef HV_BENCH_FLOOR
    /* The benchmark's reference image: CPUID exits never leave floor.c. */
    svm_floor_enter(v, &vcpu->regs, virt_to_phys(sv->host_save));
#else
    svm_enter(virt_to_phys(v), &vcpu->regs, virt_to_phys(sv->host_save));
#endif

    /* One flush per request: the first VMRUN's, a change of CR0 or CR4
     * (state.c) or of the nested tables (vcpu.c: svm_flush_slat). */
    v->control.tlb_control = TLB_CONTROL_DO_NOTHING;
    /* VMEXIT_INVALID: the guest never ran; everything below must cope.
     * svm_load_state() then reads the copy made before the attempt. */
    sv->entry_failed = (uint32_t)v->control.exitcode == VMEXIT_INVALID;
}

/*
 * backend.run for SVM: one trip into the guest and back, for the core's run
 * loop (run.c).  On return the core's `vcpu` holds the general registers
 * and RIP as the exit left them, the rest of the guest state is in the
 * VMCB for svm_load_state() (state.c) to copy when the core asks, and
 * `exit` says why the guest stopped.  A failed VMRUN is an exit too
 * (EXIT_ENTRY_FAILED), so this always returns.  Exits the fast loop takes
 * (fastloop.c, core/fastpath.h) never return: the guest is entered again
 * at once.
 */
FAST_PATH void svm_run(struct vcpu *vcpu, struct exit_info *exit)
{
    struct svm_vcpu *sv = vcpu->arch;
    struct vmcb *v = sv->vmcb;

again:
    /* Stepping the guest's IRET after an NMI (nmi.c): the TF it needs. */
    if (sv->nmi == SVM_NMI_STEP)
        svm_nmi_before_run(vcpu);
    enter_guest(vcpu, sv);
#ifndef HV_BENCH_FLOOR
    /* The fast loop (fastloop.c): CPUIDs and port I/O nobody answers,
     * while the core allows it, until an exit it leaves to what follows
     * here.  (Not in the benchmark's reference image, whose exits other
     * than CPUID take this whole path.) */
    svm_fastloop(vcpu, sv);
#endif

    const struct vmcb_save *s = svm_saved_state(sv);
    copy_out(vcpu, sv);
    /* A MOV to CR8 wrote V_TPR: the class changes, the sub-class goes to 0
     * as a CR8 write clears TPR bits 3:0; an unchanged class keeps the
     * sub-class the guest set through the APIC page. */
    if ((v->control.v_intr & V_TPR_MASK) != (uint64_t)(vcpu->tpr >> 4))
        vcpu->tpr = (uint8_t)((v->control.v_intr & V_TPR_MASK) << 4);
    /* A failed VMRUN injected nothing: keep EVENTINJ as it was. */
    if (!sv->entry_failed) {
        /* An event VMRUN injected has been delivered, unless the exit came
         * in the middle of delivering it (or a guest event): then
         * EXITINTINFO holds it, in EVENTINJ's format, and it must be
         * injected again (15.7.2). */
        v->control.eventinj = 0;
        vcpu->event_pending = 0;
        if (v->control.exitintinfo & EVENTINJ_VALID) {
            v->control.eventinj = v->control.exitintinfo;
            sv->vmcb_edited = true;
            vcpu->event_pending = 1;
        }
    }

    /* While an injected NMI blocks NMIs, its handler's IRET and the step
     * past it are this backend's business (nmi.c). */
    if (sv->nmi != SVM_NMI_NONE) {
        enum svm_nmi_exit r = svm_nmi_exit(vcpu, exit);
        if (r == SVM_NMI_EXIT_AGAIN)
            goto again;
        if (r == SVM_NMI_EXIT_WINDOW)
            return;
    }
    /* The code segment's default address size, for string I/O: 8 in
     * 64-bit mode (CS.L), else 4 or 2 by CS.D (APM vol 3 1.2.3
     * "Address-Size Override Prefix"). */
    uint8_t mode_addr = (s->cs.attrib & SEG_ATTR_L) ? 8 : (s->cs.attrib & SEG_ATTR_DB) ? 4 : 2;
    /* Last: the decoder needs the RIP copied back above. */
    decode_exit(v, vcpu->rip, mode_addr, exit);
    /* The time-slice watchdog's NMI ended the guest's run: let hv take
     * it, or the next VMRUN would exit at once (preempt.c). */
    if ((uint32_t)v->control.exitcode == VMEXIT_NMI)
        svm_preempt_ack();
}

/* Log one segment register as the VMCB holds it (selector, the packed
 * attribute word of 15.5.1, limit, base). */
static void log_seg(const char *name, const struct vmcb_seg *s)
{
    /* attr is the 12-bit packed form: type, S, DPL, P in the low byte,
     * AVL, L, D/B, G in bits 11:8. */
    hv_log("  %-4s sel %04x attr %03x limit %08x base %016llx", name, s->selector, s->attrib,
           s->limit, (unsigned long long)s->base);
}

/* svm_explain_invalid() callback: one log line per broken rule.  Indented
 * under the state dump, so a reader sees it as part of it. */
static void explain_line(void *ctx, const char *problem)
{
    (void)ctx;
    hv_log("  VMRUN check failed: %s", problem);
}

/*
 * Log the guest's state after a crash or a failed entry: the general
 * registers from the core's copy (enter.S saved them), everything else
 * straight from the VMCB save area, which #VMEXIT filled (15.6 "#VMEXIT").  Each
 * line is an "[hv] " line so bin/hvrun can show it with the verdict.
 */
void svm_dump_state(struct vcpu *vcpu)
{
    const struct svm_vcpu *sv = vcpu->arch;
    /* RSP and RFLAGS below come from the core's copy: complete it. */
    svm_load_state(vcpu, VCPU_STATE_ALL & ~vcpu->loaded);
    const struct vmcb *real = sv->vmcb;
    /* After a failed VMRUN show the state it was given (see svm_run()),
     * from the copy kept for a VMRUN that could fail; had hv edited
     * nothing VMRUN checks, there is no copy, and the VMCB as the failure
     * left it is the best there is. */
    bool failed = sv->entry_failed;
    const struct vmcb *v = failed && sv->before_valid ? sv->before : real;
    /* The GPRs as enter.S and svm_run() left them in the core's copy. */
    const struct gprs *r = &vcpu->regs;
    hv_log("guest state (SVM)%s:", !failed            ? ""
                                   : sv->before_valid ? ", as given to the failed VMRUN"
                                                      : ", as the failed VMRUN left it");
    /* General registers, four per line. */
    hv_log("  rax %016llx rbx %016llx rcx %016llx rdx %016llx", (unsigned long long)r->rax,
           (unsigned long long)r->rbx, (unsigned long long)r->rcx, (unsigned long long)r->rdx);
    hv_log("  rsi %016llx rdi %016llx rbp %016llx rsp %016llx", (unsigned long long)r->rsi,
           (unsigned long long)r->rdi, (unsigned long long)r->rbp, (unsigned long long)r->rsp);
    hv_log("  r8  %016llx r9  %016llx r10 %016llx r11 %016llx", (unsigned long long)r->r8,
           (unsigned long long)r->r9, (unsigned long long)r->r10, (unsigned long long)r->r11);
    hv_log("  r12 %016llx r13 %016llx r14 %016llx r15 %016llx", (unsigned long long)r->r12,
           (unsigned long long)r->r13, (unsigned long long)r->r14, (unsigned long long)r->r15);
    /* Where the guest was and at which privilege (CPL from the VMCB). */
    hv_log("  rip %016llx rflags %08llx cpl %u", (unsigned long long)vcpu->rip,
           (unsigned long long)vcpu->rflags, v->save.cpl);
    /* Control registers: paging mode and the last page-fault address. */
    hv_log("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx", (unsigned long long)v->save.cr0,
           (unsigned long long)v->save.cr2, (unsigned long long)v->save.cr3,
           (unsigned long long)v->save.cr4);
    /* The hardware EFER has SVME; the guest's view does not. */
    hv_log("  efer %016llx (guest view %016llx) dr6 %llx dr7 %llx",
           (unsigned long long)v->save.efer, (unsigned long long)vcpu->efer,
           (unsigned long long)v->save.dr6, (unsigned long long)v->save.dr7);
    /* The segments that matter for "which mode was it in". */
    log_seg("cs", &v->save.cs);
    log_seg("ss", &v->save.ss);
    log_seg("ds", &v->save.ds);
    log_seg("es", &v->save.es);
    log_seg("gdtr", &v->save.gdtr);
    log_seg("idtr", &v->save.idtr);
    log_seg("tr", &v->save.tr);
    /* The exit that brought us here, with EXITINTINFO: an event being
     * delivered when the exit happened (15.7.2), e.g. the #DF of a triple
     * fault. */
    hv_log("  last exit %s (%#llx) exitinfo1 %#llx exitinfo2 %#llx exitintinfo %#llx",
           svm_exit_name(real->control.exitcode), (unsigned long long)real->control.exitcode,
           (unsigned long long)real->control.exitinfo1, (unsigned long long)real->control.exitinfo2,
           (unsigned long long)real->control.exitintinfo);
    /* Pending event and virtual-interrupt state (15.20 "Event Injection", 15.21). */
    hv_log("  eventinj %#llx v_intr %#llx int_state %#llx", (unsigned long long)v->control.eventinj,
           (unsigned long long)v->control.v_intr, (unsigned long long)v->control.int_state);
    /* After VMEXIT_INVALID, say which consistency check failed, on the
     * copy of the state that VMRUN was given. */
    if (failed) {
        if (svm_explain_invalid(v, svm_caps.phys_bits, explain_line, NULL) == 0)
            hv_log("  no VMRUN consistency check (APM vol 2 15.5.1 \"Basic Operation\") "
                   "explains the failure");
    }
}
