/*
 * Talking to hvkit's hypervisor (see include/hvkit/abi.h for the contract):
 * detecting it through CPUID and calling it with VMCALL/VMMCALL.
 */
#ifndef GUESTKIT_HVKIT_H
#define GUESTKIT_HVKIT_H

#include <stdbool.h>
#include <stdint.h>

#include "hvkit/abi.h"

/* True when CPUID.1:ECX bit 31 is set and leaf 0x40000000 carries the
 * "hvkithvkithv" signature with a max leaf of at least 0x40000001. */
bool under_hvkit(void);
/* True when CPUID leaf 0x40000000 carries QEMU's "TCGTCGTCGTCG": plain
 * QEMU without KVM, whose few deviations from hardware tests must know of. */
bool on_qemu_tcg(void);
/* The CPUID vendor string ("GenuineIntel", "AuthenticAMD", ...). */
const char *cpu_vendor(void);
/* True on CPUs whose hypercall instruction is VMMCALL (AMD, Hygon). */
bool cpu_is_amd(void);
/* Hypercall nr with up to three arguments; returns RAX.  Uses VMMCALL on
 * AMD and VMCALL on Intel.  Outside a hypervisor this raises #UD. */
long hypercall(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3);

#endif
