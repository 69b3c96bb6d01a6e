/*
 * ending.h - how hv ends: the final "[hv] exit: ..." line of the protocol in
 * include/hvkit/abi.h, then ending the outer machine.  A guest's end is not
 * here: it is a state change of its domain (domain.h), and once every
 * domain has stopped the run loop's caller calls host_end() (hv.h).
 */
#ifndef HV_CORE_ENDING_H
#define HV_CORE_ENDING_H

#include <stdint.h>

struct host;

/* hv could not run the guest (no SVM/VMX, bad image, bad option, a fault
 * in hv itself). */
__attribute__((noreturn)) void end_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* The statistics of every domain that has run, as "[hv] " lines. */
void host_print_stats(const struct host *h);

struct domain;
/* The run loop saw domain d stop: with several domains a line saying how
 * it ended; the graph of its second-level tables if slat-dot asked (they
 * go next); then its teardown (domain.h), and with several domains how
 * much went back to the heap, and once all have stopped whether the heap
 * holds what it held before the domains were made. */
void host_domain_ended(struct host *h, struct domain *d);

#endif
