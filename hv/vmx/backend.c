/*
 * backend.c - the VT-x backend's ops table (core/backend.h).  Compare
 * hv/svm/backend.c: the same operations, another vendor.
 */
#include "internal.h"

/* main.c uses this table when vendor=vmx, or with vendor=auto when SVM's
 * probe says no.  Every operation is present, including the two optional
 * interrupt operations, so the core advertises HVKIT_FEATURE_IRQ under
 * VT-x as under SVM.  `const`: fixed at build time, in .rodata.  With
 * `make -C hv NO_VMX=1` this file is left out and main.c's weak reference
 * to vmx_backend is NULL. */
const struct backend vmx_backend = {
    /* The name in hv's log lines, the same word as in vendor=vmx. */
    .name = "vmx",
    .hypercall_insn = {0x0f, 0x01, 0xc1}, /* VMCALL */
    .probe = vmx_probe,
    .enable = vmx_enable,
    .vcpu_init = vmx_vcpu_init,
    .vcpu_destroy = vmx_vcpu_destroy,
    /* EPT, with its own entry format (paging.c). */
    .slat_format = &vmx_ept_format,
    .slat_caps = vmx_slat_caps,
    .flush_slat = vmx_flush_slat,
    /* Another vCPU's VMCS becomes current with VMPTRLD (vcpu.c). */
    .vcpu_load = vmx_vcpu_load,
    .vcpu_put = vmx_vcpu_put,
    .run = vmx_run,
    .load_state = vmx_load_state,
    .get_state = vmx_get_state,
    .set_state = vmx_set_state,
    .inject_exception = vmx_inject_exception,
    /* The optional pair: VM-entry injection of type 0 and the
     * interrupt-window exiting control (vcpu.c). */
    .inject_interrupt = vmx_inject_interrupt,
    .irq_window = vmx_irq_window,
    .inject_nmi = vmx_inject_nmi,
    .nmi_blocked = vmx_nmi_blocked,
    .nmi_window = vmx_nmi_window,
    .single_step = vmx_single_step,
    .set_deadline = vmx_set_deadline,
    .dump_state = vmx_dump_state,
};
