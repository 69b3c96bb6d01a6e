/*
 * ctls.h - the VMX capability MSRs and what they allow, as pure functions.
 *
 * Which VMX controls a CPU supports is never hard-coded: each control word
 * has a capability MSR whose low 32 bits are the "allowed 0-settings" (a bit
 * set there must be 1) and whose high 32 bits are the "allowed 1-settings" (a
 * bit clear there must be 0) (SDM Vol. 3D A.3 "VM-Execution Controls", A.4 "VM-Exit Controls", A.5
 * "VM-Entry Controls").  When IA32_VMX_BASIC bit 55 is set, the TRUE_* MSRs replace the original
 * ones for the pin-based, primary processor-based, exit and entry controls (A.2): they allow some
 * "default1" bits to be 0.  CR0 and CR4 have FIXED0/FIXED1 MSRs with the
 * same meaning (A.7, A.8).  caps.c reads the MSRs into struct vmx_caps; the
 * rest is arithmetic, compiled hosted too for the unit tests.
 */
#ifndef HV_VMX_CTLS_H
#define HV_VMX_CTLS_H

#include <stdbool.h>
#include <stdint.h>

/* The capability MSRs, as read once by caps.c. */
struct vmx_caps {
    uint64_t basic; /* IA32_VMX_BASIC */
    uint64_t pin;   /* TRUE_PINBASED_CTLS if BASIC bit 55, else PINBASED_CTLS */
    uint64_t proc;  /* the same for the primary processor-based controls */
    uint64_t proc2; /* PROCBASED_CTLS2 (0 when secondary controls are absent) */
    uint64_t exit;  /* TRUE_EXIT_CTLS or EXIT_CTLS */
    uint64_t entry; /* TRUE_ENTRY_CTLS or ENTRY_CTLS */
    uint64_t misc;  /* IA32_VMX_MISC */
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    uint64_t ept_vpid;  /* IA32_VMX_EPT_VPID_CAP (0 when absent) */
    unsigned phys_bits; /* MAXPHYADDR, CPUID 0x80000008 EAX[7:0] */
    unsigned lin_bits;  /* linear-address width, CPUID 0x80000008 EAX[15:8] */
};

/* Bits that must be 1 / may be 1 in a control word, from its capability MSR.
 * The names say what the bits mean for software, which the SDM's "allowed
 * 0-settings" / "allowed 1-settings" wording hides: a 1 in the low half
 * means 0 is NOT allowed, a 1 in the high half means 1 IS allowed. */
static inline uint32_t vmx_ctl_must1(uint64_t cap)
{
    return (uint32_t)cap;
}

static inline uint32_t vmx_ctl_may1(uint64_t cap)
{
    return (uint32_t)(cap >> 32);
}

/*
 * The control word to use: `want` plus every bit the CPU requires, minus
 * nothing.  If a wanted bit is not allowed, it is reported in *missing (the
 * caller decides whether it can do without) and left out of the result.
 */
uint32_t vmx_ctl_adjust(uint64_t cap, uint32_t want, uint32_t *missing);

/* True when every bit set in `value` may be 1 and every required bit is 1. */
bool vmx_ctl_ok(uint64_t cap, uint32_t value);

/*
 * CR0/CR4 under VMX: a bit set in FIXED0 must be 1, a bit clear in FIXED1
 * must be 0 (SDM Vol. 3C 24.8 "Restrictions on VMX Operation").  `free` are
 * bits exempted (CR0.PE and CR0.PG for an unrestricted guest, 25.6.2).
 * Returns the bits of `value` that break the rule (0 when it is fine).
 */
uint64_t vmx_fixed_bad_bits(uint64_t value, uint64_t fixed0, uint64_t fixed1, uint64_t free);

/* `value` with the fixed bits forced (what VMXON or a VM entry needs). */
uint64_t vmx_fixed_apply(uint64_t value, uint64_t fixed0, uint64_t fixed1, uint64_t free);

/* Is `addr` canonical for a linear-address width of `bits` (48 or 57)? */
bool vmx_canonical(uint64_t addr, unsigned bits);

/* The control words hv runs its guest with (vmx_choose_controls). */
struct vmx_controls {
    uint32_t pin, proc, proc2, exit, entry;
    /* NMI-window exiting may be turned on later (it is off in proc until
     * then, as interrupt-window exiting): the CPU allows it and hv runs the
     * guest with virtual NMIs. */
    bool nmi_window;
};

/*
 * Choose hv's controls from what the CPU allows: HLT exiting, I/O and MSR
 * bitmaps, EPT and unrestricted guest, a 64-bit host, guest EFER and PAT
 * loaded on entry and saved on exit.  Returns NULL on success, or the name
 * of the first control this CPU lacks that hv cannot do without.
 */
const char *vmx_choose_controls(const struct vmx_caps *caps, struct vmx_controls *out);

#endif
