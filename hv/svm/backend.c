/*
 * backend.c - the SVM backend's ops table (core/backend.h).
 */
#include "internal.h"

const struct backend svm_backend = {
    .name = "svm",
    .probe = svm_probe,
    .enable = svm_enable,
    .vcpu_init = svm_vcpu_init,
    .run = svm_run,
    .inject_exception = svm_inject_exception,
    .inject_interrupt = svm_inject_interrupt,
    .irq_window = svm_irq_window,
    .dump_state = svm_dump_state,
};
