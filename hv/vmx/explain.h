/*
 * explain.h - why a VMX VM entry failed, in plain words.
 *
 * VMLAUNCH/VMRESUME checks the VMCS before it enters the guest (SDM Vol. 3C
 * 27.2 "Checks on VMX Controls and Host-State Area", 27.3.1 "Checks on the
 * Guest-State Area").  When a check fails the CPU says only which group
 * failed: VM-instruction error 7 (controls) or 8 (host state), or exit reason
 * 33 with bit 31 set (guest state).  The functions here re-run those checks
 * over a copy of the VMCS fields and name each one that fails, with its SDM
 * section.  They are pure functions (no VMREAD, no MSR access), so hv and the
 * hosted unit tests (tests/unit/test_hv_vmx_explain.c) run the same code.
 *
 * The SVM counterpart (hv/svm/explain.h) takes a copy of the VMCB itself,
 * because the VMCB is a C struct hv can copy.  The VMCS cannot be copied
 * as memory (its layout is the CPU's secret), so struct vmx_state below
 * lists the fields the checks read, and vcpu.c's vmx_read_state() fills
 * it with one VMREAD per field.  The same struct also carries the entry
 * state gstate.c computes, so the unit test can check hv's own choices.
 */
#ifndef HV_VMX_EXPLAIN_H
#define HV_VMX_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "ctls.h"
#include "defs.h"

/* One segment register as the VMCS holds it (SDM Vol. 3C 25.4.1 "Guest Register State"). */
struct vmx_seg {
    /* The visible part: what a MOV to the register would load. */
    uint16_t sel;
    /* The hidden part, which VM entry loads as given. */
    uint64_t base;
    /* In bytes, already scaled by G (0xffffffff for a flat segment). */
    uint32_t limit;
    uint32_t ar; /* access rights, table 25-2; AR_UNUSABLE = bit 16 */
};

/* A copy of every VMCS field the checks read.  Grouped as the VMCS is
 * (SDM Vol. 3C 25.3 "Organization of VMCS Data"): controls, host state,
 * guest state.  Not every field of a real VMCS is here, only those a check
 * or the dump looks at; 16- and 32-bit fields keep their natural width. */
struct vmx_state {
    /* VM-execution, VM-exit and VM-entry controls (25.6 - 25.8). */
    uint32_t pin, proc, proc2, exit_ctls, entry_ctls;
    uint32_t exception_bitmap, cr3_target_count;
    uint32_t entry_intr_info, entry_exception_error, entry_insn_len;
    uint64_t io_bitmap_a, io_bitmap_b, msr_bitmap, eptp;
    uint16_t vpid;

    /* Host-state area (25.5 "Host-State Area"). */
    uint64_t host_cr0, host_cr3, host_cr4, host_rsp, host_rip;
    uint16_t host_sel[SEG_COUNT]; /* ES..GS and TR (the LDTR slot is unused) */
    uint64_t host_fs_base, host_gs_base, host_tr_base, host_gdtr_base, host_idtr_base;
    uint64_t host_sysenter_esp, host_sysenter_eip, host_efer, host_pat;

    /* Guest-state area (25.4 "Guest-State Area"). */
    uint64_t cr0, cr3, cr4, dr7, rsp, rip, rflags;
    struct vmx_seg seg[SEG_COUNT];
    uint64_t gdtr_base, idtr_base;
    uint32_t gdtr_limit, idtr_limit;
    uint64_t debugctl, pat, efer, sysenter_esp, sysenter_eip;
    uint32_t interruptibility, activity;
    uint64_t link_pointer;
    uint64_t pdpte[4];
};

/* Called once per failed check: `section` is the SDM section ("27.3.1.2"),
 * `text` one sentence saying what is wrong and what the rule is.  hv logs
 * the pair (exit.c); the unit test collects them to compare with its own. */
typedef void (*vmx_report_fn)(void *ctx, const char *section, const char *text);

/* The checks of SDM Vol. 3C 27.2.1 "Checks on VMX Controls" on the VM-execution, VM-exit and
 * VM-entry control fields.  Returns the number of failed checks: 0 means hv found nothing, not that
 * the CPU agrees.  The caller runs it after VM-instruction error 7. */
unsigned vmx_check_controls(const struct vmx_state *s, const struct vmx_caps *caps,
                            vmx_report_fn report, void *ctx);

/* The checks of 27.2.2 - 27.2.4 on the host-state area, for a 64-bit host
 * (hv is always one).  After VM-instruction error 8. */
unsigned vmx_check_host(const struct vmx_state *s, const struct vmx_caps *caps,
                        vmx_report_fn report, void *ctx);

/* The checks of 27.3.1 on the guest-state area.  After a VM exit with basic
 * reason 33 and bit 31 set: the controls and host state passed by then. */
unsigned vmx_check_guest(const struct vmx_state *s, const struct vmx_caps *caps,
                         vmx_report_fn report, void *ctx);

/* The name of a VM-instruction error number (SDM Vol. 3C 31.4 "VM Instruction Error Numbers", table
 * 31-1 "VM-Instruction Error Numbers"), e.g. 7 -> "VM entry with invalid control field(s)"; never
 * NULL. */
const char *vmx_insn_error_name(uint32_t err);

/* The title of the SDM vol 3C section that a report names ("27.3.1.2" ->
 * "Checks on Guest Segment Registers"), so that hv's message can be looked
 * up in any edition of the manual; never NULL. */
const char *vmx_check_title(const char *section);

#endif
