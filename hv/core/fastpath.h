/*
 * fastpath.h - the exit fast path: the few exits the backend may hand to
 * the core straight after the world switch, and enter the guest again at
 * once, without going back to the run loop (run.c) and the dispatcher
 * (dispatch.c).  fastpath.c explains why and when.
 *
 * The run loop calls fastpath_arm(v) before each entry: it works out,
 * once, what the fast path may assume until the backend returns (no
 * trace, nothing for the interrupt check to do, the exit budget), into
 * v->fast_until.  A backend then uses it in two steps, so that an exit the
 * fast path declines costs the full path nothing more (on VT-x each field
 * read is a VMREAD):
 *
 *   1. fastpath_wanted(v, e, &answer), with e->reason (EXIT_CPUID or
 *      EXIT_IO), for EXIT_IO e->io, and the general registers in v->regs
 *      (RAX too: a CPUID's leaf): may this exit take the fast path?  For a
 *      CPUID it fills `answer` from the domain's table.  Nothing else of
 *      the guest state need be loaded yet.
 *   2. If so, with RIP, RFLAGS and the interrupt shadow in struct vcpu as
 *      well (VCPU_STATE_EAGER, vcpu.h "Lazy guest state"), e->rip and
 *      e->insn_len set, and any event injected at the last entry marked
 *      delivered: fastpath_exit(v, e, &answer), the exit handled as
 *      dispatch() would, and counted.  The backend writes back the groups
 *      the core marked changed (vcpu->dirty) and enters the guest again.
 *
 * When run() returns, the run loop calls fastpath_account(v).
 *
 * The fast path reads no other field of *e.
 */
#ifndef HV_CORE_FASTPATH_H
#define HV_CORE_FASTPATH_H

#include <stdbool.h>

#include "cpu.h"
#include "exit.h"

struct vcpu;

void fastpath_arm(struct vcpu *v);
bool fastpath_wanted(const struct vcpu *v, const struct exit_info *e, struct cpuid_regs *answer);
void fastpath_exit(struct vcpu *v, struct exit_info *e, const struct cpuid_regs *answer);
/* The run loop, when the backend's run() returned: the fast exits it
 * took into the domain's statistics. */
void fastpath_account(struct vcpu *v);

/* dispatch.c, for fastpath_exit(): the emulation of an IN or OUT with the
 * handler dispatch() uses, and advance(), which moves RIP past an
 * instruction hv emulated. */
void dispatch_io(struct vcpu *v, struct exit_info *e);
void dispatch_advance(struct vcpu *v, const struct exit_info *e);

#endif
