/*
 * gstate.h - the Multiboot entry state as VMCS guest-state values (gstate.c).
 */
#ifndef HV_VMX_GSTATE_H
#define HV_VMX_GSTATE_H

#include "explain.h"

/* Fill the guest-state part of *s (segments, CR0/3/4, DR7, RIP, RFLAGS,
 * EFER, PAT, activity, link pointer) for a guest entered the Multiboot way at
 * `rip` with `rflags`.  The control and host fields are left alone. */
void vmx_multiboot_state(struct vmx_state *s, const struct vmx_caps *caps, uint64_t rip,
                         uint64_t rflags);

#endif
