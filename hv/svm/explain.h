/*
 * explain.h - why did VMRUN fail?  When VMRUN finds an illegal guest state it
 * does not enter the guest but exits at once with VMEXIT_INVALID (APM vol 2
 * 15.5.1 "Basic Operation", the list of consistency checks under "VMRUN").
 * The exit code says nothing more, so this checker re-does those checks on a
 * copy of the VMCB and names each one that fails, in plain words.
 *
 * It is a pure function over its inputs: hv calls it with the VMCB as it
 * was just before the failed VMRUN; the unit test (tests/unit/
 * test_hv_svm_explain.c) calls it with deliberately broken states.
 */
#ifndef HV_SVM_EXPLAIN_H
#define HV_SVM_EXPLAIN_H

#include "defs.h"

/* Receives one plain-words sentence per failed check. */
typedef void (*svm_explain_fn)(void *ctx, const char *problem);

/*
 * Check `vmcb` against the VMRUN consistency checks.  phys_bits is the CPU's
 * physical address width (CPUID 0x80000008 EAX[7:0]).  Calls report() once
 * per broken rule and returns how many there were (0: the checks pass, the
 * failure lies elsewhere).
 */
int svm_explain_invalid(const struct vmcb *vmcb, unsigned phys_bits, svm_explain_fn report,
                        void *ctx);

#endif
