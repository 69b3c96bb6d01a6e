/*
 * The contract between hv, its guests and bin/hvrun.  Everything a guest or a
 * launcher may rely on is here, in one place, so that both vendor backends and
 * every guest agree on it.  docs/architecture.md explains each item.
 */
#ifndef HVKIT_ABI_H
#define HVKIT_ABI_H

/* ---- CPUID ---------------------------------------------------------------
 * Leaf 1 ECX bit 31 is the "hypervisor present" bit (reserved by Intel and
 * AMD for this use).  Leaf 0x40000000 returns the highest hypervisor leaf in
 * EAX and the signature "hvkithvkithv" in EBX, ECX, EDX (the convention
 * Xen, KVM and Hyper-V follow).  Leaf 0x40000001 EAX = HVKIT_ABI_VERSION. */
#define HVKIT_CPUID_HV_BIT    (1u << 31)
#define HVKIT_CPUID_BASE      0x40000000u
#define HVKIT_CPUID_MAX_LEAF  0x40000001u
#define HVKIT_CPUID_SIG_EBX   0x696b7668u /* "hvki" */
#define HVKIT_CPUID_SIG_ECX   0x6b766874u /* "thvk" */
#define HVKIT_CPUID_SIG_EDX   0x76687469u /* "ithv" */
#define HVKIT_CPUID_SIGNATURE "hvkithvkithv"
#define HVKIT_ABI_VERSION     1u
/* Leaf 0x40000001 ECX: feature bits.  Bit 0: hv injects external interrupts
 * (PIC/PIT IRQs reach the guest's IDT); guests that need them skip otherwise.
 * Bit 1, HVKIT_FEATURE_PV: the paravirtual interface of hvkit/pv.h (the
 * hypercall page, event channels, grants, PV console and clock). */
#define HVKIT_FEATURE_IRQ (1u << 0)

/* ---- Hypercalls ------------------------------------------------------------
 * Instruction: VMMCALL on AMD, VMCALL on Intel (a guest picks the one its CPU
 * has; hv treats both the same).  RAX = call number, RBX, RCX, RDX = arguments;
 * the result comes back in RAX (negative values are errors).
 * Privilege: every call below is for the guest's kernel, ring 0 (CPL 0).  From
 * any other ring, whatever the number, the call does nothing and returns
 * HC_EPERM in RAX; the guest goes on after the instruction (no exception),
 * as KVM and Xen answer ring 3.  hv/core/hypercall.c's table gives each
 * call's ring. */
#define HC_VERSION    0u /* -> HVKIT_ABI_VERSION */
#define HC_PUTS       1u /* RBX = guest-physical address, RCX = length: log a string */
#define HC_EXIT       2u /* RBX = exit code: end the guest as port 0xf4 would */
#define HC_EXIT_COUNT 3u /* -> number of VM exits so far for this vCPU */
#define HC_ECHO       4u /* -> RBX + RCX + RDX (tests argument passing) */
/* Dirty-page tracking (hv/core/dirty.h): after HC_DIRTY_START, hv records
 * every page of guest RAM the guest writes; HC_DIRTY_HARVEST reports and
 * forgets them (RBX = guest-physical address of the first page, 4 KiB
 * aligned; RCX = number of pages, 1..HC_DIRTY_MAX_PAGES; RDX =
 * guest-physical address of a bitmap of (RCX + 63) / 64 64-bit words, bit i
 * for page i) and returns how many were written; HC_DIRTY_STOP ends it.
 * hv's own writes to guest memory (the bitmap, INS) are not recorded. */
#define HC_DIRTY_START     5u
#define HC_DIRTY_HARVEST   6u
#define HC_DIRTY_STOP      7u
#define HC_DIRTY_MAX_PAGES 4096u
/* Per-page permissions, for teaching guests: RBX = guest-physical address
 * (4 KiB aligned), RCX = length (a multiple of 4 KiB), RDX = what the pages
 * allow from now on, HC_PROT_* bits (not 0).  Every page must be guest RAM
 * (HC_EINVAL otherwise); permissions the CPU's second-level tables cannot
 * express give HC_ENOTSUP (write without read never; execute-only only on
 * EPT that supports it).  A forbidden access then ends the guest as crashed,
 * naming the address, the access and RIP. */
#define HC_MEM_PROTECT 8u
#define HC_PROT_R      1u
#define HC_PROT_W      2u
#define HC_PROT_X      4u

#define HC_OK      0
#define HC_EPERM   (-1L)  /* called from a ring without the privilege (Linux's EPERM) */
#define HC_ENOSYS  (-38L) /* unknown call number (same value as Linux's ENOSYS) */
#define HC_ENOMEM  (-12L) /* hv ran out of memory for the request (Linux's ENOMEM) */
#define HC_EFAULT  (-14L) /* a buffer outside guest RAM */
#define HC_EINVAL  (-22L)
#define HC_ENOTSUP (-95L) /* not possible on this CPU (Linux's EOPNOTSUPP) */

/* ---- Ports -------------------------------------------------------------- */
#define HVKIT_PORT_COM1       0x3f8
#define HVKIT_PORT_DEBUG_EXIT 0xf4 /* QEMU isa-debug-exit: status = (value << 1) | 1 */

/* ---- hv's serial protocol (read by bin/hvrun) ------------------------------
 * hv writes its own messages as whole lines starting with "[hv] ".  The guest's
 * console output is passed through line by line, so the two never mix within
 * a line.  The last line hv prints is one of:
 *   [hv] exit: guest code=N
 *   [hv] exit: guest crashed (REASON)
 *   [hv] exit: error (REASON)
 * so a launcher can recover the outcome even where the emulator's own exit
 * status cannot carry it (Bochs). */
#define HVKIT_LOG_PREFIX "[hv] "
/* A guest line that itself begins with "[hv]" would pass for one of hv's
 * (a guest could forge hv's verdict line): hv prints such a line with this
 * in front.  It is the one place where hv changes what a guest printed. */
#define HVKIT_GUEST_ESCAPE "[guest] "

/* bin/hvrun exit statuses beyond the guest's own 0..123. */
#define HVRUN_STATUS_TIMEOUT 124
#define HVRUN_STATUS_USAGE   125 /* bad option, missing file, missing emulator */
#define HVRUN_STATUS_HVERROR                                                                       \
    126 /* hv could not run the guest (no SVM/VMX, bad image, entry failure) */
#define HVRUN_STATUS_CRASH 127 /* the guest crashed (triple fault, unhandled exit) */

/* When hv itself must end the outer machine after a crash or error, it writes
 * this to the outer isa-debug-exit port (QEMU status (0x7e << 1) | 1 = 253). */
#define HVKIT_OUTER_EXIT_FAILURE 0x7e

#endif
