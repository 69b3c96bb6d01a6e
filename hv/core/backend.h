/*
 * backend.h - what a virtualization backend (AMD SVM or Intel VT-x) provides
 * to the vendor-neutral core.
 *
 * The core (hv/core/main.c) picks a backend, then drives it like this:
 *
 *     probe(why)            does this CPU have the feature, usable now?
 *     enable()              turn it on for the host CPU (EFER.SVME + host
 *                           save area; or CR4.VMXE + VMXON)
 *     vcpu_init(vcpu)       build the control structure (VMCB / VMCS) around
 *                           the second-level tables the core built for the
 *                           domain in the backend's slat_format
 *                           (vcpu->slat_root), the intercepts, and the
 *                           guest's Multiboot entry state
 *     loop (hv/core/run.c), over the vCPUs of the running domains:
 *         run(vcpu, exit)   write the state the core changed into the
 *                           hardware, enter the guest, come back at the
 *                           next exit, copy RIP and RFLAGS back and
 *                           describe the exit in *exit
 *         dispatch(vcpu, exit)  the core emulates (hv/core/dispatch.c),
 *                           asking load_state for the guest state it
 *                           reads (through vcpu_need(), hv.h)
 *         inject_exception  if the emulation decided the guest faults
 *     dump_state(vcpu)      on a crash or failed entry: log the full guest
 *                           state and, for a failed entry, explain it
 *
 * Only the files in hv/svm/ and hv/vmx/ may touch a VMCB or a VMCS.  Each
 * backend exports one `const struct backend` object (svm_backend,
 * vmx_backend) and nothing else the core calls.
 */
#ifndef HV_CORE_BACKEND_H
#define HV_CORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpustate.h"
#include "domain.h"
#include "exit.h"
#include "slat.h"
#include "vcpu.h"

/*
 * The guest's state at entry, as Multiboot 0.6.96 section 3.2 "Machine state"
 * requires, filled by the core (from the loader) and applied by vcpu_init:
 *   EAX = 0x2BADB002, EBX = physical address of the Multiboot info,
 *   CS: 32-bit read/execute code segment, offset 0, limit 0xFFFFFFFF;
 *   DS, ES, FS, GS, SS: 32-bit read/write data segments, offset 0, limit
 *   0xFFFFFFFF; A20 enabled; CR0.PG = 0, CR0.PE = 1; EFLAGS.VM = 0,
 *   EFLAGS.IF = 0 (bit 1, reserved, reads as 1).  ESP, GDTR and IDTR are
 *   undefined: the OS image must set up its own.
 * The core already put EAX, EBX, RIP and RFLAGS into vcpu->regs / rip /
 * rflags, and zero into EFER and the rest; vcpu_init adds the segment,
 * descriptor-table and control-register state (CR0 = PE | ET, plus whatever
 * the vendor must force, e.g. VMX's CR0 fixed bits, hidden from the guest).
 */

/* Size of the human-readable reason probe() may write. */
#define BACKEND_WHY_LEN 160

struct backend {
    /* Short name for the log and the vendor= option: "svm" or "vmx". */
    const char *name;

    /* The CPU's hypercall instruction, which the core writes into the
     * guest's hypercall page (core/pv_hcpage.c): VMMCALL 0f 01 d9 (APM vol
     * 3 "VMMCALL") or VMCALL 0f 01 c1 (SDM vol 3C 31.3 "VMX Instructions"). */
    uint8_t hypercall_insn[3];

    /* Can this backend run on this CPU?  Returns true if so.  If not, writes
     * a one-line reason in plain words into why (at most BACKEND_WHY_LEN
     * bytes, NUL-terminated), e.g. "CPUID 0x80000001 ECX bit 2 (SVM) is 0:
     * this CPU has no AMD-V", or "SVM is disabled by the firmware
     * (VM_CR.SVMDIS = 1)".  Must not change any CPU state. */
    bool (*probe)(char *why, size_t why_len);

    /* Turn virtualization on for the host CPU.  Returns 0, or -1 after
     * logging why (a log line, not the final "exit:" line). */
    int (*enable)(void);

    /* The second-level table entry format (svm/paging.c: NPT, vmx/paging.c:
     * EPT).  The core builds, walks and changes the tables (core/slat.h,
     * core/guestmem.h); the backend only says how an entry looks. */
    const struct slat_format *slat_format;

    /* What the format can express on this CPU (SLAT_CAP_*), asked after
     * enable(): no-execute pages, execute-only pages. */
    unsigned (*slat_caps)(void);

    /* The core changed the second-level tables for [gpa, gpa + len): drop
     * the CPU's cached translations before the guest runs again (SVM: the
     * VMCB's TLB control, APM vol 2 15.16.1 "TLB Flush"; VMX: INVEPT, SDM
     * vol 3C 29.4.3.1 "Operations that Invalidate Cached Mappings"). */
    void (*flush_slat)(struct vcpu *vcpu, uint64_t gpa, uint64_t len);

    /* Prepare vcpu to enter the guest: allocate and fill the control
     * structure around the second-level tables at vcpu->slat_root (N_CR3 /
     * the EPT pointer; the core built them), set the intercepts
     * (all I/O ports, CPUID, HLT, the MSRs of msr.c, hypercalls, shutdown /
     * triple fault) and the Multiboot entry state described above.  Stores
     * its private data in vcpu->arch.  Returns 0, or -1 after logging. */
    int (*vcpu_init)(struct vcpu *vcpu);

    /* Optional (NULL when the backend needs neither): vcpu_load makes vcpu
     * the one the CPU's virtualization instructions act on; vcpu_put ends
     * that, so that its state could move to another CPU or be freed (VMX:
     * VMPTRLD and VMCLEAR, SDM vol 3C 25.11.1 "Software Use of
     * Virtual-Machine Control Structures"; SVM needs neither, as VMRUN
     * names its VMCB).  The run loop (core/run.c) calls put on the vCPU it
     * leaves and load on the next one whenever it switches between vCPUs;
     * vcpu_init leaves the new vCPU loaded.  Every other operation on a
     * vCPU is called while it is loaded. */
    void (*vcpu_load)(struct vcpu *vcpu);
    void (*vcpu_put)(struct vcpu *vcpu);

    /* Which registers the world switch itself keeps per vCPU among those
     * the core otherwise swaps when it switches vCPUs (core/vcpustate.c:
     * vcpu_cpu_regs_put and _load), BACKEND_KEEPS_* bits.  The core
     * decides what a vCPU owns; this says only where the hardware already
     * holds it: SVM's VMCB has CR2 and DR6 in its state save area (APM vol
     * 2 appendix B "Layout of VMCB") and VMLOAD/VMSAVE switch the
     * system-call MSRs (15.5.2 "VMSAVE and VMLOAD Instructions"), while a
     * VMCS holds none of them (SDM vol 3C 28.3.1 "Saving Control
     * Registers, Debug Registers, and MSRs"). */
    unsigned keeps;

    /* Optional (NULL: nothing is given back): give back everything
     * vcpu_init allocated for vcpu (its VMCB / VMCS, the I/O and MSR
     * bitmaps, vcpu->arch), when its domain is torn down (core/teardown.c).
     * The vCPU never runs again; the core no longer counts it as loaded. */
    void (*vcpu_destroy)(struct vcpu *vcpu);

    /* Enter the guest and run it until the next VM exit.  Before the
     * entry, write into the VMCB / VMCS the groups of guest state the core
     * changed (vcpu->dirty, core/vcpu.h "Lazy guest state"); after the
     * exit, copy back the general registers and the groups of
     * VCPU_STATE_EAGER (RIP, RFLAGS, the interrupt shadow), set
     * vcpu->loaded to VCPU_STATE_EAGER and vcpu->dirty to 0, and fill *exit (every field,
     * zeroing those that do not apply).  A failed entry is reported as
     * EXIT_ENTRY_FAILED, never by not returning. */
    void (*run)(struct vcpu *vcpu, struct exit_info *exit);

    /* Copy the groups of guest state `what` (VCPU_* bits, core/vcpu.h)
     * from the VMCB / VMCS into vcpu and add them to vcpu->loaded: RSP,
     * RFLAGS, CR0/2/3/4, EFER (the guest's view), CPL, CS mode and segment
     * bases, IDTR, the interrupt shadow.  The core calls it through
     * vcpu_need() (hv.h) for the groups it reads and has not loaded since
     * the exit; the backend's own code may call it too. */
    void (*load_state)(struct vcpu *vcpu, unsigned what);

    /* Optional (NULL: savevm and loadvm refuse): the guest's whole
     * architectural state, for core/vcpustate.c.  get_state fills the
     * fields of struct cpu_state (core/cpustate.h) that struct vcpu does
     * not hold: all eight segments with selector, limit, attributes and
     * base, GDTR, IDTR, DR6, DR7, the SYSENTER MSRs, STAR, LSTAR, CSTAR,
     * SFMASK, KernelGSbase and the event waiting for injection (it may
     * fill more; the core overwrites the rest).  set_state loads those
     * same fields and CR2, CR3 and CR4 into the VMCB / VMCS or the CPU,
     * and sets event_pending from the pending event; the core then writes
     * the other groups through struct vcpu, marked changed. */
    void (*get_state)(struct vcpu *vcpu, struct cpu_state *c);
    void (*set_state)(struct vcpu *vcpu, const struct cpu_state *c);

    /* Arrange for the guest to take exception `vector` (with error code
     * `error` when has_error) at its next entry, as the hardware would have
     * (SVM EVENTINJ, APM vol 2 15.20 "Event Injection"; VMX VM-entry interruption
     * information, SDM vol 3C 25.8.3 "VM-Entry Controls for Event Injection").  RIP must still
     * point at the faulting instruction, as for any fault.  Sets vcpu->event_pending. */
    void (*inject_exception)(struct vcpu *vcpu, uint8_t vector, bool has_error, uint32_t error);

    /* Optional (NULL if the backend cannot; hv then does not advertise
     * HVKIT_FEATURE_IRQ and the guest gets no interrupts): deliver external
     * interrupt `vector` at the next entry (SVM EVENTINJ type 0, APM vol 2
     * 15.20 "Event Injection"; VMX VM-entry interruption information type 0, SDM vol 3C
     * 25.8.3 "VM-Entry Controls for Event Injection").  The core calls it only when the guest can
     * take it: RFLAGS.IF = 1, int_shadow = 0 and no event_pending.  Sets event_pending. */
    void (*inject_interrupt)(struct vcpu *vcpu, uint8_t vector);

    /* Optional (with inject_interrupt): on = true asks for an
     * EXIT_IRQ_WINDOW as soon as the guest can take an interrupt (SVM:
     * V_IRQ with the VINTR intercept, APM vol 2 15.21.4 "Injecting Virtual (INTR) Interrupts"; VMX:
     * interrupt-window exiting, SDM vol 3C 25.6.2 "Processor-Based VM-Execution Controls"); on =
     * false stops asking. */
    void (*irq_window)(struct vcpu *vcpu, bool on);

    /* Optional (NULL: hv cannot deliver NMIs, and `inject-nmi` says so):
     * deliver an NMI at the next entry (SVM EVENTINJ type 2, APM vol 2
     * 15.20 "Event Injection"; VMX VM-entry interruption information type
     * 2, SDM vol 3C 25.8.3 "VM-Entry Controls for Event Injection"), vector
     * 2, whatever RFLAGS.IF says, and block further NMIs until the guest's
     * handler executes IRET, as the CPU does for an NMI of its own (SDM vol
     * 3A 6.7.1 "Handling Multiple NMIs").  The core calls it only with no
     * event_pending, no interrupt shadow and nmi_blocked() false.  Sets
     * event_pending. */
    void (*inject_nmi)(struct vcpu *vcpu);

    /* With inject_nmi: are NMIs blocked for the guest, an injected NMI's
     * handler not yet past its IRET?  (VMX: "blocking by NMI", with
     * virtual NMIs the virtual-NMI blocking, in the interruptibility state,
     * SDM vol 3C 25.4.2 "Guest Non-Register State"; SVM keeps it in
     * software, svm/nmi.c.) */
    bool (*nmi_blocked)(struct vcpu *vcpu);

    /* Optional (NULL: the backend reports EXIT_NMI_WINDOW by itself when
     * the blocking ends, as SVM does after the handler's IRET): on = true
     * asks for an EXIT_NMI_WINDOW as soon as the guest can take an NMI
     * (VMX: NMI-window exiting, SDM vol 3C 27.7.6 "NMI-Window Exiting");
     * on = false stops asking. */
    void (*nmi_window)(struct vcpu *vcpu, bool on);

    /* Optional (NULL: no trap, the guest steps over what hv emulates): the
     * core has just emulated an instruction the guest ran with RFLAGS.TF =
     * 1 and moved RIP past it; make the guest take the single-step trap the
     * CPU would have raised, #DB with DR6.BS set, at the next entry (SDM
     * vol 3B 18.3.1.4 "Single-Step Exception Condition", 18.2.3 "Debug
     * Status Register (DR6)").  The core calls it only with no event
     * pending.  Sets event_pending. */
    void (*single_step)(struct vcpu *vcpu);

    /* Optional (NULL: a guest that never exits keeps the CPU until it
     * does): make the guest exit, as EXIT_INTERRUPT, no later than about
     * the host TSC value `deadline` (UINT64_MAX: no limit), so that the
     * core's scheduler can end a time slice and deliver a timer interrupt
     * on time to a guest that spins without exits (core/run.c).  The
     * deadline holds for the entries that follow until the next call.
     * SVM: a host timer raising a physical NMI, with the NMI intercept
     * (APM vol 2 15.13.2 "NMI Intercept"); VMX: the VMX-preemption timer
     * (SDM vol 3C 26.5.1 "VMX-Preemption Timer"). */
    void (*set_deadline)(struct vcpu *vcpu, uint64_t deadline);

    /* Optional (NULL: hv spins with PAUSE while nothing can run): stop the
     * host CPU, as a halted CPU does, until about the host TSC value
     * `until`, or earlier when an event of the outer machine wakes it, and
     * return true; false at once when this machine gives it no timer to
     * wake by (the core spins then).  The core calls it when every vCPU
     * waits (core/run.c idle()), with `until` at most a few milliseconds
     * away, and looks at its timers and its control channel again after
     * each return; a return earlier than `until` is harmless.  It may
     * leave the deadline of set_deadline
     * disarmed: the core sets it again before the next entry.  SVM: the
     * watchdog's timer raises the NMI that ends HLT (svm/preempt.c); on
     * an outer emulator that fast-forwards its clock through a HLT the
     * launcher asks hv to spin instead (idle=spin, core/cmdline.h). */
    bool (*host_wait)(uint64_t until);

    /* Log (as "[hv] " lines) the guest's full state: registers, segments,
     * control registers, EFER, the last exit.  After EXIT_ENTRY_FAILED, also
     * explain in plain words which entry check failed (SVM: hv/svm/explain.c,
     * APM vol 2 15.5.1 "Basic Operation"; VMX: SDM vol 3C 27.3 "Checking and Loading Guest State").
     */
    void (*dump_state)(struct vcpu *vcpu);
};

/* backend.keeps: CR2 and DR6; STAR, LSTAR, CSTAR, SFMASK and
 * KernelGSbase. */
#define BACKEND_KEEPS_CR2_DR6      (1u << 0)
#define BACKEND_KEEPS_SYSCALL_MSRS (1u << 1)

/* The two backends (the vmx one may be absent while hv/vmx/ is written). */
extern const struct backend svm_backend;
extern const struct backend vmx_backend;

#endif
