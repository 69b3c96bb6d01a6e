/*
 * trap.h - hv's own IDT (trap.c, boot/traps.S): exceptions in hv itself
 * end the run with a report; NMIs are counted and dropped.
 */
#ifndef HV_CORE_TRAP_H
#define HV_CORE_TRAP_H

#include <stdint.h>

/* Load hv's IDT: from then on a fault in hv is reported, not a reset. */
void trap_init(void);

/* NMIs hv itself has taken (boot/traps.S increments it, in the handler
 * of vector 2).  On SVM these are the watchdog's, let through after a
 * #VMEXIT(NMI) (svm/preempt.c), which watches this count move. */
extern volatile uint32_t hv_nmis;

#endif
