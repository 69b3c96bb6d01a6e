/*
 * backend.c - the VT-x backend's ops table (core/backend.h).  Compare
 * hv/svm/backend.c: the same operations, another vendor.
 */
#include "internal.h"

const struct backend vmx_backend = {
    .name = "vmx",
    .probe = vmx_probe,
    .enable = vmx_enable,
    .vcpu_init = vmx_vcpu_init,
    .run = vmx_run,
    .inject_exception = vmx_inject_exception,
    .inject_interrupt = vmx_inject_interrupt,
    .irq_window = vmx_irq_window,
    .dump_state = vmx_dump_state,
};
