/*
 * Running a function in ring 3 (user mode), for tests of what a guest's
 * user programs may and may not do (e.g. hvkit's hypercalls are for ring 0,
 * include/hvkit/abi.h).  The first call sets up what ring 3 needs: a GDT
 * with user code and data segments, a TSS whose RSP0 is the stack the CPU
 * switches to when ring 3 is interrupted, and the user bit on every page of
 * the identity map.  Nothing else in the runtime changes.
 */
#ifndef GUESTKIT_USER_H
#define GUESTKIT_USER_H

/* The selectors of the GDT user mode runs with (index << 3 | RPL). */
#define GK_USER_DS 0x1b /* GDT index 3, ring 3 data */
#define GK_USER_CS 0x23 /* GDT index 4, ring 3 64-bit code */
#define GK_TSS_SEL 0x28 /* GDT index 5, the 64-bit TSS (two slots) */

/* The rest is C (runtime/user.S includes this file for the selectors). */
#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

#include "guestkit/trap.h"

/* Call fn(arg) in ring 3, on a stack of its own, and come back to ring 0.
 * True if fn returned; false if it raised an exception, then described in
 * *info (if not NULL).  fn runs with the caller's RFLAGS (IOPL 0: port I/O
 * and other privileged instructions raise #GP), so it cannot print: let it
 * leave its results in memory for the caller to report.  Calls do not nest
 * and must not be made inside catch_exception(). */
bool run_in_ring3(void (*fn)(void *), void *arg, struct exception_info *info);

/* The CPL of the code that calls it: the RPL of CS (SDM vol 3A 5.5
 * "Privilege Levels"). */
static inline unsigned current_cpl(void)
{
    uint16_t cs;
    __asm__ volatile("movw %%cs, %0" : "=r"(cs));
    return cs & 3u;
}

#endif /* __ASSEMBLER__ */
#endif
