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
 */
#ifndef HV_VMX_EXPLAIN_H
#define HV_VMX_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "ctls.h"
#include "defs.h"

/* One segment register as the VMCS holds it (SDM Vol. 3C 25.4.1). */
struct vmx_seg {
    uint16_t sel;
    uint64_t base;
    uint32_t limit;
    uint32_t ar; /* access rights, table 25-2; AR_UNUSABLE = bit 16 */
};

/* A copy of every VMCS field the checks read. */
struct vmx_state {
    /* VM-execution, VM-exit and VM-entry controls (25.6 - 25.8). */
    uint32_t pin, proc, proc2, exit_ctls, entry_ctls;
    uint32_t exception_bitmap, cr3_target_count;
    uint32_t entry_intr_info, entry_exception_error, entry_insn_len;
    uint64_t io_bitmap_a, io_bitmap_b, msr_bitmap, eptp;
    uint16_t vpid;

    /* Host-state area (25.5). */
    uint64_t host_cr0, host_cr3, host_cr4, host_rsp, host_rip;
    uint16_t host_sel[SEG_COUNT]; /* ES..GS and TR (the LDTR slot is unused) */
    uint64_t host_fs_base, host_gs_base, host_tr_base, host_gdtr_base, host_idtr_base;
    uint64_t host_sysenter_esp, host_sysenter_eip, host_efer, host_pat;

    /* Guest-state area (25.4). */
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
 * `text` one sentence saying what is wrong and what the rule is. */
typedef void (*vmx_report_fn)(void *ctx, const char *section, const char *text);

/* The checks of SDM Vol. 3C 27.2.1 on the VM-execution, VM-exit and VM-entry
 * control fields.  Returns the number of failed checks. */
unsigned vmx_check_controls(const struct vmx_state *s, const struct vmx_caps *caps,
                            vmx_report_fn report, void *ctx);

/* The checks of 27.2.2 - 27.2.4 on the host-state area, for a 64-bit host. */
unsigned vmx_check_host(const struct vmx_state *s, const struct vmx_caps *caps,
                        vmx_report_fn report, void *ctx);

/* The checks of 27.3.1 on the guest-state area. */
unsigned vmx_check_guest(const struct vmx_state *s, const struct vmx_caps *caps,
                         vmx_report_fn report, void *ctx);

/* The name of a VM-instruction error number (SDM Vol. 3C 31.4, table 31-1),
 * e.g. 7 -> "VM entry with invalid control field(s)"; never NULL. */
const char *vmx_insn_error_name(uint32_t err);

#endif
