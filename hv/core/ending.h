/*
 * ending.h - how hv ends: the final "[hv] exit: ..." line of the protocol in
 * include/hvkit/abi.h, then ending the outer machine.
 */
#ifndef HV_CORE_ENDING_H
#define HV_CORE_ENDING_H

#include <stdint.h>

/* The guest asked to end with `code` (port 0xf4 or HC_EXIT). */
__attribute__((noreturn)) void end_guest_exit(uint32_t code);
/* The guest crashed (triple fault, unhandled exit, hung). */
__attribute__((noreturn)) void end_guest_crashed(const char *why);
/* hv could not run the guest (no SVM/VMX, bad image, bad option). */
__attribute__((noreturn)) void end_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
