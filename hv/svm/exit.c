/*
 * exit.c - one trip into the guest and back: copy the core's vCPU state into
 * the VMCB, VMRUN (enter.S), copy the guest state back, and translate the
 * SVM exit code (APM vol 2 appendix C) into the core's struct exit_info.
 * Also the names of the exit codes (for the trace) and dump_state().
 */
#include "klib.h"

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/log.h"
#include "explain.h"
#include "internal.h"

/* Names of the exit codes we may see (appendix C), for the trace. */
const char *svm_exit_name(uint64_t code)
{
    /* Compare the low 32 bits: QEMU stores VMEXIT_INVALID as 0xffffffff. */
    uint32_t c = (uint32_t)code;
    if (c >= VMEXIT_EXCP_BASE && c < VMEXIT_EXCP_BASE + 32)
        return "VMEXIT_EXCP";
    switch (c) {
    case VMEXIT_INTR:
        return "VMEXIT_INTR";
    case VMEXIT_NMI:
        return "VMEXIT_NMI";
    case VMEXIT_VINTR:
        return "VMEXIT_VINTR";
    case VMEXIT_CPUID:
        return "VMEXIT_CPUID";
    case VMEXIT_HLT:
        return "VMEXIT_HLT";
    case VMEXIT_IOIO:
        return "VMEXIT_IOIO";
    case VMEXIT_MSR:
        return "VMEXIT_MSR";
    case VMEXIT_SHUTDOWN:
        return "VMEXIT_SHUTDOWN";
    case VMEXIT_VMRUN:
        return "VMEXIT_VMRUN";
    case VMEXIT_VMMCALL:
        return "VMEXIT_VMMCALL";
    case VMEXIT_VMLOAD:
        return "VMEXIT_VMLOAD";
    case VMEXIT_VMSAVE:
        return "VMEXIT_VMSAVE";
    case VMEXIT_STGI:
        return "VMEXIT_STGI";
    case VMEXIT_CLGI:
        return "VMEXIT_CLGI";
    case VMEXIT_SKINIT:
        return "VMEXIT_SKINIT";
    case VMEXIT_NPF:
        return "VMEXIT_NPF";
    case VMEXIT_INVALID:
        return "VMEXIT_INVALID";
    default:
        return "VMEXIT_?";
    }
}

/* Fixed lengths of the instructions we skip, for CPUs without NRIPS
 * (QEMU): CPUID 0F A2, RDMSR 0F 32 / WRMSR 0F 30, VMMCALL 0F 01 D9, HLT F4.
 * A prefix would make the real instruction longer; hv's guests use none. */
static uint32_t fixed_len(uint32_t code)
{
    switch (code) {
    case VMEXIT_CPUID:
    case VMEXIT_MSR:
        return 2;
    case VMEXIT_VMMCALL:
        return 3;
    case VMEXIT_HLT:
        return 1;
    default:
        return 0;
    }
}

/* Decode the IOIO EXITINFO1 word (15.10.2, figure 15-2).  `mode_addr` is
 * the default address size of the guest's code segment, used when the CPU
 * leaves the A16/A32/A64 bits all clear, as QEMU 7.2 does (seen: EXITINFO1
 * 0x3f8001c for a 64-bit REP OUTSB).  An address-size prefix would be
 * missed then; hv's guests use none. */
static void decode_io(struct exit_info *e, uint64_t info1, uint8_t mode_addr)
{
    e->io.port = IOIO_PORT(info1);
    e->io.in = info1 & IOIO_TYPE_IN;
    e->io.string = info1 & IOIO_STR;
    e->io.rep = info1 & IOIO_REP;
    e->io.size = (info1 & IOIO_SZ32) ? 4 : (info1 & IOIO_SZ16) ? 2 : 1;
    if (info1 & IOIO_A64)
        e->io.addr_size = 8;
    else if (info1 & IOIO_A32)
        e->io.addr_size = 4;
    else if (info1 & IOIO_A16)
        e->io.addr_size = 2;
    else
        e->io.addr_size = mode_addr;
}

/* Fill *e from the VMCB after #VMEXIT. */
static void decode_exit(const struct vmcb *v, uint64_t rip, uint8_t mode_addr, struct exit_info *e)
{
    const struct vmcb_control *c = &v->control;
    uint32_t code = (uint32_t)c->exitcode;
    memset(e, 0, sizeof(*e));
    e->rip = rip;
    e->raw_code = code;
    e->raw_name = svm_exit_name(code);
    e->raw_info1 = c->exitinfo1;
    e->raw_info2 = c->exitinfo2;
    /* The instruction length: from NRIPS when the CPU provides it (15.7.1),
     * else our table.  For IOIO, EXITINFO2 always holds the next RIP. */
    if (code == VMEXIT_IOIO)
        e->insn_len = (uint32_t)(c->exitinfo2 - rip);
    else if (svm_caps.nrips && c->next_rip > rip)
        e->insn_len = (uint32_t)(c->next_rip - rip);
    else
        e->insn_len = fixed_len(code);

    if (code >= VMEXIT_EXCP_BASE && code < VMEXIT_EXCP_BASE + 32) {
        /* Exception intercepts (15.12): EXITINFO1 holds the error code. */
        e->reason = EXIT_EXCEPTION;
        e->exc.vector = (uint8_t)(code - VMEXIT_EXCP_BASE);
        e->exc.error = (uint32_t)c->exitinfo1;
        return;
    }
    switch (code) {
    case VMEXIT_CPUID:
        e->reason = EXIT_CPUID;
        break;
    case VMEXIT_HLT:
        e->reason = EXIT_HLT;
        break;
    case VMEXIT_IOIO:
        e->reason = EXIT_IO;
        decode_io(e, c->exitinfo1, mode_addr);
        break;
    case VMEXIT_MSR:
        /* EXITINFO1 = 0 for RDMSR, 1 for WRMSR (15.11); the index is in
         * the guest's ECX, which the core reads from vcpu->regs. */
        e->reason = c->exitinfo1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
        break;
    case VMEXIT_VMMCALL:
        e->reason = EXIT_HYPERCALL;
        break;
    case VMEXIT_SHUTDOWN:
        e->reason = EXIT_SHUTDOWN;
        break;
    case VMEXIT_INTR:
    case VMEXIT_NMI:
        e->reason = EXIT_INTERRUPT;
        break;
    case VMEXIT_VMRUN:
    case VMEXIT_VMLOAD:
    case VMEXIT_VMSAVE:
    case VMEXIT_STGI:
    case VMEXIT_CLGI:
    case VMEXIT_SKINIT:
        e->reason = EXIT_VIRT_INSN;
        break;
    case VMEXIT_NPF:
        /* EXITINFO1 is a page-fault error code plus bits 32/33, EXITINFO2
         * the guest-physical address (15.25.6). */
        e->reason = EXIT_NESTED_PAGE_FAULT;
        e->npf.gpa = c->exitinfo2;
        e->npf.present = c->exitinfo1 & NPF_P;
        e->npf.write = c->exitinfo1 & NPF_RW;
        e->npf.fetch = c->exitinfo1 & NPF_ID;
        e->npf.during_walk = c->exitinfo1 & NPF_IN_WALK;
        break;
    case VMEXIT_INVALID:
        e->reason = EXIT_ENTRY_FAILED;
        e->why = "VMRUN failed: invalid guest state (VMEXIT_INVALID)";
        break;
    default:
        e->reason = EXIT_UNHANDLED;
        e->why = "unexpected SVM exit";
        break;
    }
}

void svm_run(struct vcpu *vcpu, struct exit_info *exit)
{
    struct svm_vcpu *sv = vcpu->arch;
    struct vmcb *v = sv->vmcb;

    /* Core -> VMCB: the registers VMRUN loads from the VMCB (15.5.1). */
    v->save.rax = vcpu->regs.rax;
    v->save.rsp = vcpu->regs.rsp;
    v->save.rip = vcpu->rip;
    v->save.rflags = vcpu->rflags;
    /* The hardware EFER is the guest's plus SVME, without which VMRUN
     * fails; the guest never sees SVME (core/msr.c hides it). */
    v->save.efer = vcpu->efer | EFER_SVME;
    v->save.g_pat = vcpu->pat;
    /* QEMU corrupts the saved RIP when VMRUN fails on a bad EVENTINJ
     * (events.md): remember where we entered. */
    sv->rip_before = vcpu->rip;

    svm_enter(virt_to_phys(v), &vcpu->regs, virt_to_phys(sv->host_save));

    /* A TLB flush is needed only once (the nested tables never change). */
    v->control.tlb_control = TLB_CONTROL_DO_NOTHING;
    bool failed = (uint32_t)v->control.exitcode == VMEXIT_INVALID;

    /* VMCB -> core: the guest's state as #VMEXIT saved it. */
    vcpu->regs.rax = v->save.rax;
    vcpu->regs.rsp = v->save.rsp;
    vcpu->rip = failed ? sv->rip_before : v->save.rip;
    vcpu->rflags = v->save.rflags;
    vcpu->cr0 = v->save.cr0;
    vcpu->cr2 = v->save.cr2;
    vcpu->cr3 = v->save.cr3;
    vcpu->cr4 = v->save.cr4;
    /* The guest may not change EFER without an exit, but the CPU sets LMA
     * itself when the guest turns paging on with LME (APM vol 2 14.6.2). */
    vcpu->efer = v->save.efer & ~EFER_SVME;
    vcpu->cpl = v->save.cpl;
    vcpu->cs_long = !!(v->save.cs.attrib & SEG_ATTR_L);
    vcpu->cs_db = !!(v->save.cs.attrib & SEG_ATTR_DB);
    /* An event hv injected was delivered (or is reported in EXITINTINFO,
     * which hv does not re-inject: it never intercepts exceptions). */
    v->control.eventinj = 0;

    /* The code segment's default address size: 8 in 64-bit mode (CS.L),
     * else 4 or 2 by CS.D (APM vol 1 2.2.3). */
    uint8_t mode_addr = vcpu->cs_long ? 8 : vcpu->cs_db ? 4 : 2;
    decode_exit(v, vcpu->rip, mode_addr, exit);
}

/* Log one segment register. */
static void log_seg(const char *name, const struct vmcb_seg *s)
{
    hv_log("  %-4s sel %04x attr %03x limit %08x base %016llx", name, s->selector, s->attrib,
           s->limit, (unsigned long long)s->base);
}

/* svm_explain_invalid() callback: one log line per broken rule. */
static void explain_line(void *ctx, const char *problem)
{
    (void)ctx;
    hv_log("  VMRUN check failed: %s", problem);
}

void svm_dump_state(const struct vcpu *vcpu)
{
    const struct svm_vcpu *sv = vcpu->arch;
    const struct vmcb *v = sv->vmcb;
    const struct gprs *r = &vcpu->regs;
    hv_log("guest state (SVM):");
    hv_log("  rax %016llx rbx %016llx rcx %016llx rdx %016llx", (unsigned long long)r->rax,
           (unsigned long long)r->rbx, (unsigned long long)r->rcx, (unsigned long long)r->rdx);
    hv_log("  rsi %016llx rdi %016llx rbp %016llx rsp %016llx", (unsigned long long)r->rsi,
           (unsigned long long)r->rdi, (unsigned long long)r->rbp, (unsigned long long)r->rsp);
    hv_log("  r8  %016llx r9  %016llx r10 %016llx r11 %016llx", (unsigned long long)r->r8,
           (unsigned long long)r->r9, (unsigned long long)r->r10, (unsigned long long)r->r11);
    hv_log("  r12 %016llx r13 %016llx r14 %016llx r15 %016llx", (unsigned long long)r->r12,
           (unsigned long long)r->r13, (unsigned long long)r->r14, (unsigned long long)r->r15);
    hv_log("  rip %016llx rflags %08llx cpl %u", (unsigned long long)vcpu->rip,
           (unsigned long long)vcpu->rflags, v->save.cpl);
    hv_log("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx", (unsigned long long)v->save.cr0,
           (unsigned long long)v->save.cr2, (unsigned long long)v->save.cr3,
           (unsigned long long)v->save.cr4);
    hv_log("  efer %016llx (guest view %016llx) dr6 %llx dr7 %llx",
           (unsigned long long)v->save.efer, (unsigned long long)vcpu->efer,
           (unsigned long long)v->save.dr6, (unsigned long long)v->save.dr7);
    log_seg("cs", &v->save.cs);
    log_seg("ss", &v->save.ss);
    log_seg("ds", &v->save.ds);
    log_seg("es", &v->save.es);
    log_seg("gdtr", &v->save.gdtr);
    log_seg("idtr", &v->save.idtr);
    log_seg("tr", &v->save.tr);
    hv_log("  last exit %s (%#llx) exitinfo1 %#llx exitinfo2 %#llx exitintinfo %#llx",
           svm_exit_name(v->control.exitcode), (unsigned long long)v->control.exitcode,
           (unsigned long long)v->control.exitinfo1, (unsigned long long)v->control.exitinfo2,
           (unsigned long long)v->control.exitintinfo);
    /* After VMEXIT_INVALID, say which consistency check failed. */
    if ((uint32_t)v->control.exitcode == VMEXIT_INVALID) {
        if (svm_explain_invalid(v, svm_caps.phys_bits, explain_line, NULL) == 0)
            hv_log("  no VMRUN consistency check (APM vol 2 15.5.1) explains the failure");
    }
}
