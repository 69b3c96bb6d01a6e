/*
 * MSR numbers and MSR access that survives a #GP.  RDMSR and WRMSR raise
 * #GP(0) for an MSR the CPU does not implement or a value it refuses
 * (SDM vol. 2B, "RDMSR", "WRMSR"); the _safe forms catch that and return
 * false instead of crashing the guest.
 */
#ifndef GUESTKIT_MSR_H
#define GUESTKIT_MSR_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_IA32_TSC          0x00000010u
#define MSR_IA32_APIC_BASE    0x0000001bu
#define MSR_IA32_SYSENTER_CS  0x00000174u
#define MSR_IA32_MISC_ENABLE  0x000001a0u
#define MSR_IA32_SYSENTER_ESP 0x00000175u
#define MSR_IA32_SYSENTER_EIP 0x00000176u
#define MSR_IA32_PAT          0x00000277u
#define MSR_EFER              0xc0000080u
#define MSR_STAR              0xc0000081u
#define MSR_LSTAR             0xc0000082u
#define MSR_FS_BASE           0xc0000100u
#define MSR_GS_BASE           0xc0000101u
#define MSR_KERNEL_GS_BASE    0xc0000102u
#define MSR_TSC_AUX           0xc0000103u

/* True and *val set if RDMSR worked; false if it raised an exception. */
bool rdmsr_safe(uint32_t msr, uint64_t *val);
/* True if WRMSR worked; false if it raised an exception. */
bool wrmsr_safe(uint32_t msr, uint64_t val);
/* The vector the last failing _safe call raised (13 for #GP), -1 if none. */
int msr_last_vector(void);
/* Its error code (0 for the #GP of an unknown MSR). */
uint64_t msr_last_error_code(void);

#endif
