/*
 * ctls.c - allowed control settings and CR0/CR4 fixed bits (see ctls.h).
 * Pure arithmetic over values caps.c read from the capability MSRs; compiled
 * into hv and into the hosted unit tests.
 *
 * There is no SVM counterpart: an SVM intercept bit is either implemented
 * (CPUID says so) or not, and every implemented bit may be 0 or 1.  VT-x
 * instead lets each CPU model insist on some control bits ("default1" bits
 * that were always 1 on early processors) and refuse others, so every
 * control word hv writes goes through vmx_ctl_adjust() first.
 */
#include "ctls.h"

#include "defs.h"

/* See ctls.h.  The core of the arithmetic is one line; the rest reports. */
uint32_t vmx_ctl_adjust(uint64_t cap, uint32_t want, uint32_t *missing)
{
    /* Bits we asked for that the CPU cannot set (allowed 1-setting is 0). */
    uint32_t refused = want & ~vmx_ctl_may1(cap);
    /* Tell the caller, who knows which of them it cannot do without. */
    if (missing)
        *missing = refused;
    /* Add the bits the CPU insists on (allowed 0-setting is 1; SDM Vol. 3D
     * A.3.1 "Pin-Based VM-Execution Controls": "VM entry fails if bit X is 0 in the control word"),
     * and drop the refused ones so that VM entry does not fail on them. */
    return (want | vmx_ctl_must1(cap)) & vmx_ctl_may1(cap);
}

/* See ctls.h; explain.c's check_ctl_word() is the same test with messages. */
bool vmx_ctl_ok(uint64_t cap, uint32_t value)
{
    /* Every required bit present, and nothing outside the allowed 1-settings. */
    return (value & vmx_ctl_must1(cap)) == vmx_ctl_must1(cap) && (value & ~vmx_ctl_may1(cap)) == 0;
}

/* See ctls.h: the CR0/CR4 version of vmx_ctl_ok(), with exemptions.  Note
 * the reversed sense of the names: FIXED0 lists the bits fixed to 1 (a 1
 * there means "must be 1"), FIXED1 the bits allowed to be 1. */
uint64_t vmx_fixed_bad_bits(uint64_t value, uint64_t fixed0, uint64_t fixed1, uint64_t free)
{
    /* Bits that must be 1 but are 0, and bits that must be 0 but are 1. */
    uint64_t bad = (fixed0 & ~value) | (value & ~fixed1);
    /* Minus the bits the caller is allowed to choose freely. */
    return bad & ~free;
}

/* See ctls.h: used by caps.c on hv's own CR0/CR4 before VMXON, by gstate.c
 * on the guest's initial CR0/CR4, and by exit.c on each guest CR0/CR4 write. */
uint64_t vmx_fixed_apply(uint64_t value, uint64_t fixed0, uint64_t fixed1, uint64_t free)
{
    /* Force the 1s and clear the 0s, except where the bit is free. */
    uint64_t forced = (value | fixed0) & fixed1;
    /* A free bit keeps the caller's value, whatever FIXED0/1 say. */
    return (forced & ~free) | (value & free);
}

/* See ctls.h.  Lives here, not in explain.c, because it is arithmetic that
 * the unit tests exercise on its own. */
bool vmx_canonical(uint64_t addr, unsigned bits)
{
    /* Bits 63..bits-1 must all equal bit bits-1 (SDM Vol. 1 3.3.7.1 "Canonical Addressing"). */
    /* Shift the top bit of the address into bit 63, then back with an
     * arithmetic shift, which copies it into every bit above. */
    int64_t sign_extended = (int64_t)(addr << (64 - bits)) >> (64 - bits);
    return (uint64_t)sign_extended == addr;
}

/* One control hv asks for: its bit, its name, and whether hv needs it.  A
 * table of these per control word keeps the choice readable, and gives
 * probe() the SDM's name of a missing control for its message. */
struct wanted {
    uint32_t bit;
    const char *name;
    bool required;
};

/* Adjust one control word; return the name of a required bit refused. */
static const char *choose(uint64_t cap, const struct wanted *w, unsigned n, uint32_t *out)
{
    uint32_t want = 0, missing;
    /* Everything in the table, required or not, is asked for. */
    for (unsigned i = 0; i < n; i++)
        want |= w[i].bit;
    /* The CPU's verdict: the word to use, and what it refused. */
    *out = vmx_ctl_adjust(cap, want, &missing);
    /* A refused optional bit is simply left out; a refused required one
     * ends the choice (the first in table order is named). */
    for (unsigned i = 0; i < n; i++)
        if (w[i].required && (missing & w[i].bit))
            return w[i].name;
    return 0;
}

/* See ctls.h.  The tables below are the whole of hv's VT-x policy: what
 * exits, what is translated, what is switched.  Each one corresponds to a
 * group of SVM intercept bits or VMCB settings in svm/vcpu.c. */
const char *vmx_choose_controls(const struct vmx_caps *caps, struct vmx_controls *out)
{
    /* Pin-based (SDM Vol. 3C 25.6.1 "Pin-Based VM-Execution Controls"): physical interrupts exit to
     * hv instead of going through the guest's IDT, as SVM's V_INTR_MASKING keeps them for the host
     * (hv masks the outer PIC, so none come). */
    static const struct wanted pin[] = {
        {PIN_EXTINT_EXITING, "external-interrupt exiting", false},
        /* The core's time slices (preempt.c, SDM vol 3C 26.5.1 "VMX-Preemption Timer"), as
         * SVM's NMI watchdog with a host timer (svm/preempt.c); without it a guest that never
         * exits keeps the CPU. */
        {PIN_PREEMPTION_TIMER, "activate VMX-preemption timer", false},
        /* NMIs for the guest (nmi.c): with "virtual NMIs" the CPU tracks
         * the guest's NMI blocking as virtual-NMI blocking, which an
         * injected NMI sets and the guest's IRET clears (26.3 "Changes to
         * Instruction Behavior in VMX Non-Root Operation"), and NMI-window
         * exiting says when it ended.  It needs "NMI exiting" too
         * (27.2.1.1 "VM-Execution Control Fields"), so real NMIs would exit
         * to hv (none come: nothing sends hv one). */
        {PIN_NMI_EXITING, "NMI exiting", false},
        {PIN_VIRTUAL_NMIS, "virtual NMIs", false},
    };
    /* Primary processor-based (25.6.2 "Processor-Based VM-Execution Controls"): exit on HLT, choose
     * exits on port I/O and MSRs by bitmap, and turn on the secondary controls. */
    static const struct wanted proc[] = {
        {PROC_HLT_EXITING, "HLT exiting", true},
        /* The guest's TSC is the host's plus the core's offset (WRMSR to
         * the TSC), as SVM's VMCB TSC_OFFSET does unconditionally. */
        {PROC_TSC_OFFSETTING, "use TSC offsetting", true},
        /* Not set now, but irq_window() sets it later: check it is allowed. */
        {PROC_INTR_WINDOW_EXITING, "interrupt-window exiting", true},
        /* The same for NMIs (nmi_window()), where the CPU has it. */
        {PROC_NMI_WINDOW_EXITING, "NMI-window exiting", false},
        {PROC_USE_IO_BITMAPS, "use I/O bitmaps", true},
        {PROC_USE_MSR_BITMAPS, "use MSR bitmaps", true},
        /* The guest's MOV to/from CR8 use the virtual-APIC page's VTPR
         * instead of the processor's own TPR, without an exit (SDM vol 3C
         * 30.3 "Virtualizing CR8-Based TPR Accesses"), as SVM's V_TPR; the
         * core keeps it and the APIC model's TPR the same. */
        {PROC_TPR_SHADOW, "use TPR shadow", false},
        {PROC_SECONDARY_CONTROLS, "activate secondary controls", true},
    };
    /* Secondary (25.6.2 "Processor-Based VM-Execution Controls"): EPT for guest-physical memory,
     * and unrestricted guest so a Multiboot guest can start with paging off. */
    static const struct wanted proc2[] = {
        {PROC2_ENABLE_EPT, "enable EPT", true},
        {PROC2_UNRESTRICTED_GUEST, "unrestricted guest", true},
        /* Without these three, RDTSCP, INVPCID and XSAVES/XRSTORS raise #UD
         * in the guest even where CPUID says they exist (table 25-7); SVM
         * has no such switches.  Where the CPU lacks them, so does CPUID. */
        {PROC2_ENABLE_RDTSCP, "enable RDTSCP", false},
        {PROC2_ENABLE_INVPCID, "enable INVPCID", false},
        {PROC2_ENABLE_XSAVES, "enable XSAVES/XRSTORS", false},
    };
    /* VM-exit (25.7.1 "VM-Exit Controls"): come back in 64-bit mode; save the guest's EFER (LMA
     * changes when it enables long mode) and PAT, load the host's. */
    static const struct wanted exit[] = {
        {EXIT_HOST_ADDR_SPACE_SIZE, "host address-space size", true},
        {EXIT_SAVE_EFER, "save IA32_EFER", true},
        {EXIT_LOAD_EFER, "load IA32_EFER", true},
        {EXIT_SAVE_PAT, "save IA32_PAT", false},
        {EXIT_LOAD_PAT, "load IA32_PAT", false},
    };
    /* VM-entry (25.8.1 "VM-Entry Controls"): load the guest's EFER and PAT.  "IA-32e mode
     * guest" is not chosen here: it follows guest EFER.LMA at each entry. */
    static const struct wanted entry[] = {
        {ENTRY_LOAD_EFER, "load IA32_EFER (entry)", true},
        {ENTRY_LOAD_PAT, "load IA32_PAT (entry)", false},
    };
    /* The five words in the SDM's order; the first refusal ends it. */
    const char *miss;
    if ((miss = choose(caps->pin, pin, sizeof(pin) / sizeof(pin[0]), &out->pin)))
        return miss;
    /* Both NMI controls or neither: NMI exiting alone would leave the
     * guest's IRET unable to end the blocking of an injected NMI (26.3),
     * virtual NMIs alone is refused (27.2.1.1). */
    const uint32_t nmi_pins = PIN_NMI_EXITING | PIN_VIRTUAL_NMIS;
    if ((out->pin & nmi_pins) != nmi_pins)
        out->pin &= ~(nmi_pins & ~vmx_ctl_must1(caps->pin));
    if ((miss = choose(caps->proc, proc, sizeof(proc) / sizeof(proc[0]), &out->proc)))
        return miss;
    /* NMI-window exiting needs virtual NMIs (27.2.1.1). */
    out->nmi_window = (out->proc & PROC_NMI_WINDOW_EXITING) && (out->pin & PIN_VIRTUAL_NMIS);
    /* Interrupt-window and NMI-window exiting stay off until the core
     * asks for a window, unless the CPU insists on them. */
    out->proc &=
        ~((PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING) & ~vmx_ctl_must1(caps->proc));
    if ((miss = choose(caps->proc2, proc2, sizeof(proc2) / sizeof(proc2[0]), &out->proc2)))
        return miss;
    if ((miss = choose(caps->exit, exit, sizeof(exit) / sizeof(exit[0]), &out->exit)))
        return miss;
    if ((miss = choose(caps->entry, entry, sizeof(entry) / sizeof(entry[0]), &out->entry)))
        return miss;
    /* Entry must not start in IA-32e mode: a Multiboot guest starts 32-bit. */
    out->entry &= ~ENTRY_IA32E_MODE_GUEST;
    return 0;
}
