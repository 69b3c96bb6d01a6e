/*
 * nmi.c - NMIs for the guest on SVM: injection, and knowing when the
 * guest's handler is done with one.
 *
 * Injecting is one EVENTINJ of type 2 (APM vol 2 15.20 "Event
 * Injection"), delivered through the guest's IDT whatever its RFLAGS.IF
 * says.  The hard part is what comes after: the CPU blocks NMIs from an
 * NMI's delivery until the next IRET (APM vol 2 8.2.3 "#NMI—Non-Maskable-
 * Interrupt Exception (Vector 2)"), but without AMD's NMI virtualization
 * (which QEMU 7.2 and Bochs 2.7 do not have) the VMCB has no field that
 * says whether the guest is still inside its handler.  So hv keeps that
 * itself, as KVM does on such CPUs:
 *
 *   NONE     NMIs are not blocked.
 *   BLOCKED  an NMI was injected; its handler runs.  IRET is intercepted
 *            (APM vol 2 15.9 "Instruction Intercepts"), which exits before
 *            the IRET executes.
 *   STEP     the handler's IRET exited: the intercept is off again and the
 *            guest is entered with RFLAGS.TF set and #DB intercepted (15.12
 *            "Exception Intercepts"), so that the single-step trap after
 *            the IRET exits (SDM vol 3B 18.3.1.4 "Single-Step Exception
 *            Condition": the trap follows an instruction that began with
 *            TF = 1).  That exit is the end of the blocking, which the core
 *            hears as EXIT_NMI_WINDOW and answers by injecting a waiting
 *            NMI: it arrives right after the IRET, as on hardware.
 *
 * The TF is hv's, never the guest's: the IRET replaces RFLAGS with the
 * interrupted code's, and while the guest still stands at the IRET (an
 * exit came first) the core is shown its RFLAGS without it.  The guest's
 * DR6, where the trap sets BS, is put back.  Neither the IRET nor the
 * trap is an exit the core sees as such, or counts.
 */
#include "klib.h"

#include "core/cpu.h"
#include "internal.h"

/* backend.inject_nmi for SVM. */
void svm_inject_nmi(struct vcpu *vcpu)
{
    struct svm_vcpu *sv = vcpu->arch;
    struct vmcb_control *c = &sv->vmcb->control;
    /* Type 2, vector 2 (an NMI with any other vector is illegal, 15.20);
     * no error code. */
    c->eventinj = EVENTINJ_VALID | EVENTINJ_TYPE_NMI | EVENTINJ_VECTOR(2);
    /* From now until the handler's IRET, NMIs are blocked. */
    c->intercept_misc1 |= ICPT_IRET;
    sv->nmi = SVM_NMI_BLOCKED;
    sv->vmcb_edited = true;
    /* The slot is taken until the CPU has delivered it. */
    vcpu->event_pending = 1;
}

/* backend.nmi_blocked for SVM: hv's own record (see above). */
bool svm_nmi_blocked(struct vcpu *vcpu)
{
    const struct svm_vcpu *sv = vcpu->arch;
    return sv->nmi != SVM_NMI_NONE;
}

/* Before an entry while stepping the IRET: the TF the step needs, should
 * the core have written RFLAGS back without it. */
void svm_nmi_before_run(struct vcpu *vcpu)
{
    struct svm_vcpu *sv = vcpu->arch;
    /* Only while the IRET is the next instruction: an interrupt the core
     * injected in the meantime runs its handler with the guest's own
     * flags, and returns to the IRET with the TF it pushed. */
    if (vcpu->rip == sv->nmi_iret_rip) {
        vcpu->rflags |= RFLAGS_TF;
        vcpu->dirty |= VCPU_RFLAGS;
    }
}

/* See internal.h.  A vCPU stepping its own handler's IRET stops doing so
 * (the intercept of #DB and the TF are hv's; the TF is not in the loaded
 * RFLAGS, which the core shows without it); a loaded blocking starts at
 * BLOCKED, with the IRET intercepted: a state is saved between exits, so
 * one saved while stepping still stands at its IRET, which then exits
 * and is stepped again.  The DR6 kept for the step is the loaded
 * guest's own, set by set_state. */
void svm_nmi_restore(struct vcpu *vcpu, bool blocked)
{
    struct svm_vcpu *sv = vcpu->arch;
    struct vmcb_control *c = &sv->vmcb->control;
    if (sv->nmi == SVM_NMI_STEP)
        c->intercept_exceptions &= ~(1u << VEC_DB);
    c->intercept_misc1 &= ~ICPT_IRET;
    sv->nmi = SVM_NMI_NONE;
    sv->nmi_iret_rip = 0;
    if (blocked) {
        c->intercept_misc1 |= ICPT_IRET;
        sv->nmi = SVM_NMI_BLOCKED;
    }
    sv->vmcb_edited = true;
}

/* The handler's IRET exited (BLOCKED): let it run, one step. */
static void step_iret(struct vcpu *vcpu, struct svm_vcpu *sv)
{
    struct vmcb *v = sv->vmcb;
    v->control.intercept_misc1 &= ~ICPT_IRET;
    v->control.intercept_exceptions |= 1u << VEC_DB;
    sv->nmi_iret_rip = vcpu->rip;
    sv->nmi_dr6 = v->save.dr6;
    sv->nmi = SVM_NMI_STEP;
    sv->vmcb_edited = true;
    /* RIP stays on the IRET: it has not executed (intercepts of
     * instructions come before them). */
    vcpu->rflags |= RFLAGS_TF;
    vcpu->dirty |= VCPU_RFLAGS;
}

/* See internal.h. */
enum svm_nmi_exit svm_nmi_exit(struct vcpu *vcpu, struct exit_info *exit)
{
    struct svm_vcpu *sv = vcpu->arch;
    struct vmcb *v = sv->vmcb;
    uint32_t code = (uint32_t)v->control.exitcode;
    if (sv->nmi == SVM_NMI_BLOCKED && code == VMEXIT_IRET) {
        step_iret(vcpu, sv);
        return SVM_NMI_EXIT_AGAIN;
    }
    if (sv->nmi != SVM_NMI_STEP)
        return SVM_NMI_EXIT_NONE;
    if (code == VMEXIT_EXCP_BASE + VEC_DB && vcpu->rip != sv->nmi_iret_rip) {
        /* The trap after the IRET: NMIs are unblocked, the guest's DR6
         * as it was, #DB no longer intercepted.  RFLAGS is the one the
         * IRET popped, the guest's own. */
        v->save.dr6 = sv->nmi_dr6;
        v->control.intercept_exceptions &= ~(1u << VEC_DB);
        sv->nmi = SVM_NMI_NONE;
        sv->vmcb_edited = true;
        *exit = (struct exit_info){.reason = EXIT_NMI_WINDOW,
                                   .rip = vcpu->rip,
                                   .raw_code = code,
                                   .raw_name = svm_exit_name(code)};
        return SVM_NMI_EXIT_WINDOW;
    }
    /* Another exit before the IRET ran: the TF is hv's, not for the
     * core's eyes (svm_nmi_before_run() sets it again). */
    if (vcpu->rip == sv->nmi_iret_rip)
        vcpu->rflags &= ~RFLAGS_TF;
    return SVM_NMI_EXIT_NONE;
}
