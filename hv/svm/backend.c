/*
 * backend.c - the SVM backend's ops table (core/backend.h).
 */
#include "internal.h"

/* main.c tries this table first (vendor=auto) and calls it only through
 * these pointers; the optional interrupt operations are present, so the
 * core advertises HVKIT_FEATURE_IRQ under SVM.  `const`: the table is
 * fixed at build time and lives in .rodata. */
const struct backend svm_backend = {
    /* The name in hv's log lines, the same word as in vendor=svm. */
    .name = "svm",
    .hypercall_insn = {0x0f, 0x01, 0xd9}, /* VMMCALL */
    .probe = svm_probe,
    .enable = svm_enable,
    .vcpu_init = svm_vcpu_init,
    .vcpu_destroy = svm_vcpu_destroy,
    /* Nested page tables in the host's long-mode entry format (paging.c). */
    .slat_format = &svm_npt_format,
    .slat_caps = svm_slat_caps,
    .flush_slat = svm_flush_slat,
    /* No vcpu_put, and a vcpu_load only for the TLB: VMRUN names its VMCB
     * in RAX, so nothing has to be made current when the core switches
     * vCPUs (vcpu.c says why the TLB). */
    .vcpu_load = svm_vcpu_load,
    /* The VMCB holds the guest's CR2 and DR6, and enter.S's VMLOAD and
     * VMSAVE switch its system-call MSRs: the core swaps neither. */
    .keeps = BACKEND_KEEPS_CR2_DR6 | BACKEND_KEEPS_SYSCALL_MSRS,
    .run = svm_run,
    .load_state = svm_load_state,
    .get_state = svm_get_state,
    .set_state = svm_set_state,
    .inject_exception = svm_inject_exception,
    /* The two optional operations of core/backend.h: with both present
     * the core delivers the PIC's interrupts. */
    .inject_interrupt = svm_inject_interrupt,
    .irq_window = svm_irq_window,
    .inject_nmi = svm_inject_nmi,
    .nmi_blocked = svm_nmi_blocked,
    .single_step = svm_single_step,
    .set_deadline = svm_set_deadline,
    .host_wait = svm_host_wait,
    .dump_state = svm_dump_state,
};
