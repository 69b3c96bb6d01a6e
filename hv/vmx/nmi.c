/*
 * nmi.c - NMIs for the guest on VT-x: injection, and knowing when the
 * guest's handler is done with one (svm/nmi.c is the SVM counterpart).
 *
 * VT-x keeps the guest's NMI blocking itself.  With the pin-based "virtual
 * NMIs" control (ctls.c asks for it with "NMI exiting", which it needs)
 * an injected NMI sets virtual-NMI blocking, bit 3 of the guest's
 * interruptibility state, and the guest's IRET clears it; "NMI-window
 * exiting" then makes the guest exit the moment it can take the next one.
 * Without virtual NMIs (a CPU that lacks them) the injected NMI blocks real
 * NMIs the same way, the guest's IRET still ends it, but no exit says when:
 * a held NMI waits for the guest's next exit after that IRET.
 */
#include "klib.h"

#include "internal.h"

/* backend.inject_nmi for VT-x: the counterpart of SVM's EVENTINJ type 2.
 * Type 2, vector 2 (27.2.1.3 "VM-Entry Control Fields": an NMI must have
 * vector 2).  Its delivery blocks further NMIs until the guest's IRET, as
 * an NMI of the CPU's own does (SDM vol 3A 6.7.1 "Handling Multiple
 * NMIs"): with "virtual NMIs" as virtual-NMI blocking, bit 3 of the
 * interruptibility state, which the guest's IRET clears (26.3 "Changes to
 * Instruction Behavior in VMX Non-Root Operation").  Entry checks that
 * this blocking is clear and that no MOV SS shadow is active (27.3.1.5
 * "Checks on Guest Non-Register State"); the core calls this only then,
 * and outside an STI shadow too, which some processors also refuse. */
void vmx_inject_nmi(struct vcpu *vcpu)
{
    vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_NMI << INTR_INFO_TYPE_SHIFT) | 2u);
    vcpu->event_pending = 1;
}

/* backend.nmi_blocked for VT-x: bit 3 of the interruptibility state as
 * the last exit saved it (exit.c copy_out()): blocking by NMI, or with
 * "virtual NMIs" the virtual-NMI blocking (25.4.2 "Guest Non-Register
 * State"). */
bool vmx_nmi_blocked(struct vcpu *vcpu)
{
    const struct vmx_vcpu *vx = vcpu->arch;
    return (vx->held.intr & INTERRUPTIBILITY_NMI) != 0;
}

/* backend.nmi_window for VT-x: "NMI-window exiting" (primary control bit
 * 22, 25.6.2 "Processor-Based VM-Execution Controls") makes the guest exit
 * with reason 8 before the first instruction at which there is no
 * virtual-NMI blocking and no blocking by MOV SS (27.7.6 "NMI-Window
 * Exiting").  Without virtual NMIs the CPU has no such exit: the NMI waits
 * for the guest's next exit after its IRET. */
void vmx_nmi_window(struct vcpu *vcpu, bool on)
{
    const struct vmx_vcpu *vx = vcpu->arch;
    if (!vx->nmi_window_ok)
        return;
    uint32_t proc = (uint32_t)vmread(VMCS_PROC_CONTROLS);
    proc = on ? proc | PROC_NMI_WINDOW_EXITING : proc & ~PROC_NMI_WINDOW_EXITING;
    vmwrite(VMCS_PROC_CONTROLS, proc);
}
