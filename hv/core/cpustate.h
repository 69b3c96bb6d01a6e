/*
 * cpustate.h: a vCPU's whole architectural state, in one vendor-neutral
 * shape, for saving and restoring it (vmstate, docs/vmstate.md) and for
 * showing it (the monitor's `info registers`).
 *
 * The state lives in three places while the guest runs: the general
 * registers and what the core emulates in struct vcpu (vcpu.h), the rest
 * in the backend's VMCB or VMCS, and the x87/SSE registers in the CPU
 * itself (hv never uses them, so they keep the guest's values between
 * exits).  backend->get_state and backend->set_state (backend.h) move the
 * backend's part; core/cpustate.c adds the core's part and the FPU.
 */
#ifndef HV_CORE_CPUSTATE_H
#define HV_CORE_CPUSTATE_H

#include <stdint.h>

#include "vcpu.h"

/* The segment registers, the SDM's Sreg order (ES, CS, SS, DS, FS, GS,
 * as emu.h's enum emu_seg), then the system segments LDTR and TR. */
enum cpu_seg {
    CPU_ES,
    CPU_CS,
    CPU_SS,
    CPU_DS,
    CPU_FS,
    CPU_GS,
    CPU_LDTR,
    CPU_TR,
    CPU_NSEGS,
};

/*
 * A segment register with its hidden part.  attrib holds the descriptor's
 * attribute bits packed as AMD's VMCB keeps them (APM vol 2 15.5.1 "Basic
 * Operation" and appendix B "Layout of VMCB"): bits 0-7 are descriptor
 * bits 40-47 (type, S, DPL, P), bits 8-11 descriptor bits 52-55 (AVL, L,
 * D/B, G).  A segment VT-x calls unusable (SDM vol 3C 25.4.1 "Guest
 * Register State", table 25-2 "Format of Access Rights", bit 16) has P = 0
 * here, its other bits kept.
 */
struct cpu_segment {
    uint16_t selector;
    uint16_t attrib;
    uint32_t limit;
    uint64_t base;
};

/* GDTR and IDTR: a linear base and a 16-bit limit. */
struct cpu_table {
    uint64_t base;
    uint16_t limit;
};

/* The attribute bit "present" (descriptor bit 47). */
#define CPU_ATTRIB_P 0x80u

/* The FXSAVE image of the x87, MMX and SSE registers (SDM vol 1 10.5.1
 * "FXSAVE Area"): 512 bytes, 16-byte aligned. */
#define CPU_FXSAVE_LEN 512u
/* XSAVE state component 2, AVX: the upper 128 bits of YMM0-YMM15 (SDM
 * vol 1 13.5.3 "AVX State"), 16 bytes a register. */
#define CPU_YMM_HI_LEN 256u
/* The XCR0 components a state holds: x87 and SSE (the FXSAVE image) and
 * AVX (ymm_hi).  A guest that enabled any other (MPX, AVX-512, PKRU, AMX)
 * is not saved (core/vcpustate.c says so). */
#define CPU_XCR0_HELD 7ull

struct cpu_state {
    /* The general registers, RIP and RFLAGS. */
    struct gprs regs;
    uint64_t rip, rflags;
    /* Control registers, EFER as the guest sees it, XCR0. */
    uint64_t cr0, cr2, cr3, cr4, efer, xcr0;
    /* Segments and descriptor tables. */
    struct cpu_segment seg[CPU_NSEGS];
    struct cpu_table gdtr, idtr;
    /* Debug registers (SDM vol 3B 18.2 "Debug Registers"). */
    uint64_t dr[4], dr6, dr7;
    /* The fast system-call MSRs (SDM vol 3A 5.8.7 "Performing Fast Calls
     * to System Procedures with the SYSENTER and SYSEXIT Instructions",
     * 5.8.8 "Fast System Calls in 64-Bit Mode"), and KernelGSbase. */
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
    /* MSRs the core emulates (msr.c), and the guest's time-stamp counter
     * as it read when the state was taken (not the host's offset: a
     * restore continues the guest's TSC from this value). */
    uint64_t pat, misc_enable, ds_area, tsc;
    /* 1 while the guest is in the interrupt shadow of STI or MOV SS. */
    uint8_t int_shadow;
    /* An event hv has queued for the guest's next entry and not delivered
     * yet, 0 for none, in the layout of AMD's EVENTINJ (APM vol 2 15.20
     * "Event Injection"), which VT-x's VM-entry interruption information
     * shares in its low half (SDM vol 3C 25.8.3 "VM-Entry Controls for
     * Event Injection"): vector in bits 7:0, type 10:8 (0 external
     * interrupt, 2 NMI, 3 exception), bit 11 "error code valid", bit 31
     * valid, the error code in bits 63:32. */
    uint64_t pending_event;
    /* Its place in a multiprocessor domain (vcpu.h, core/smp.c):
     * mp_state (enum vcpu_mp_state: an AP may still wait for its SIPI),
     * and a SIPI received but not acted on yet (start_pending with its
     * start_vector).  The core's, not the backend's. */
    uint8_t mp_state, start_pending, start_vector;
    /* The x87/SSE registers. */
    uint8_t fxsave[CPU_FXSAVE_LEN] __attribute__((aligned(16)));
    /* The upper halves of the YMM registers, zeros unless XCR0 enables
     * AVX. */
    uint8_t ymm_hi[CPU_YMM_HI_LEN];
    /* NMIs (core/nmi.c): one has arrived and waits in the vCPU's latch
     * (the core's), and the guest is inside an NMI's handler, NMIs
     * blocked until its IRET (SDM vol 3A 6.7.1 "Handling Multiple NMIs"):
     * VT-x keeps that in the guest's interruptibility state, hv's SVM
     * backend itself (svm/nmi.c).  0 or 1 each. */
    uint8_t nmi_pending, nmi_blocked;
    /* IA32_TSC_AUX, what RDTSCP and RDPID return (the core swaps it with
     * each vCPU's copy, vcpustate.c); bits 63:32 are reserved. */
    uint64_t tsc_aux;
};

struct vms;

/* The CPU section's serialiser (core/cpustate.c). */
void cpu_state_vms(struct vms *v, struct cpu_state *c);

#endif
