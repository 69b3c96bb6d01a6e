/*
 * hv.h - the host, hv's state that exists once, and the core's functions
 * that exit handling calls.
 *
 * hv's state has three layers (domain.h explains them): the host (here),
 * the domains (domain.h), and their vCPUs (vcpu.h).  Exit handlers take a
 * vCPU and reach its domain as vcpu->dom and the host as
 * vcpu->dom->host.
 */
#ifndef HV_CORE_HV_H
#define HV_CORE_HV_H

#include "backend.h"
#include "cmdline.h"
#include "domain.h"
#include "gva.h" /* guest memory by linear and physical address */
#include "vcpu.h"
#include "hvkit/abi.h"
#include "hvkit/pv.h"

struct host {
    /* hv's command-line options (mem=, trace, vendor=). */
    struct hv_options opt;
    /* The backend chosen at start-up: SVM or VT-x. */
    const struct backend *be;
    /* The backend can inject interrupts (HVKIT_FEATURE_IRQ advertised). */
    bool irq;
    /* Every domain, in the order they were created; the first one's end
     * is hv's final "exit:" line (ending.c). */
    struct domain *domains;
    unsigned nr_domains;
    /* The vCPU whose state the CPU has loaded (backend->vcpu_load), or
     * NULL: run.c loads another one only when it changes. */
    struct vcpu *loaded;
    /* Free heap bytes before the domains were made (main.c): with every
     * domain torn down, the heap should hold as much again (ending.c). */
    size_t heap_free_before;
    /* Optional (NULL: none): called by the run loop between exits, once
     * per round and while every vCPU waits, for work that comes from
     * outside the guests (a control channel polling its port); it may
     * call the lifecycle operations of domain.h.  While `stay` is true the
     * run loop goes on even when no domain runs (a front-end may still
     * start, reset or destroy one); host_run() returns once no domain
     * runs and `stay` is false.  It returns true when it found work (a
     * request came), which keeps the run loop from halting for a moment
     * (run.c idle()): the next request of a burst often follows at once. */
    bool (*poll)(struct host *h);
    bool stay;
    /* When poll last found work, in host TSC (run.c idle()). */
    uint64_t poll_work_at;
    /* A control channel is up (com2.c): a front-end can still destroy or
     * reset a domain, so one kept by the preserve action keeps the run
     * loop going (run.c host_busy). */
    bool reachable;
    /* The scheduler (run.c, sched.h): the time slice in host TSC ticks
     * (tslice= ms), and the vCPU that ran last, where round robin goes on. */
    uint64_t tslice;
    struct vcpu *last_run;
    /* A vCPU became runnable during an exit (an IPI woke it, a SIPI
     * started it: core/smp.c): the running vCPU's slice must end on time
     * even if it was alone when the slice began. */
    bool resched;
    /* powerdown-after=: the host TSC at which domain 0's power button is
     * pressed (UINT64_MAX: never, or done). */
    uint64_t powerdown_at;
};

/* CPUID 0x40000001 ECX, hv's optional features (include/hvkit/abi.h,
 * pv.h): interrupts only when the backend can inject them; the PV
 * interface and its vCPU hot-plug always. */
static inline uint32_t hv_features(const struct host *h)
{
    return (h->irq ? HVKIT_FEATURE_IRQ : 0) | HVKIT_FEATURE_PV | HVKIT_FEATURE_VCPU_HOTPLUG;
}

/* Make `v` the vCPU the CPU's virtualization instructions act on
 * (backend->vcpu_load, run.c), for work on it between exits: VT-x reads
 * and writes only the current VMCS (savevm, loadvm, the control
 * channel's register and memory queries). */
void host_load_vcpu(struct host *h, struct vcpu *v);
/* Put away the vCPU the CPU has loaded, if any (its unswitched registers
 * into struct vcpu, backend->vcpu_put): before a new vCPU's control
 * structure is made (build.c). */
void host_unload_vcpu(struct host *h);

/* The backend of a vCPU's host: the operations table handlers call. */
static inline const struct backend *vcpu_backend(const struct vcpu *v)
{
    return v->dom->host->be;
}

/* Make the groups of guest state `what` (VCPU_* bits, vcpu.h "Lazy guest
 * state") current in struct vcpu before the core reads them: the backend
 * copies in those not loaded since the exit, and only those. */
static inline void vcpu_need(struct vcpu *v, unsigned what)
{
    unsigned missing = what & ~v->loaded;
    if (missing)
        vcpu_backend(v)->load_state(v, missing);
}

/* The core changed fields of the groups `what` (loaded before, with
 * vcpu_need()): the backend writes those groups back before the next
 * entry, and nothing else. */
static inline void vcpu_changed(struct vcpu *v, unsigned what)
{
    v->dirty |= what;
}

/* After an instruction hv carried out in the guest's place (advance() in
 * dispatch.c, an MMIO access in violation.c): if the guest ran it with
 * RFLAGS.TF = 1 (`tf`), the CPU would have raised the single-step #DB trap
 * after it (SDM vol 3B 18.3.1.4 "Single-Step Exception Condition"), so the
 * backend delivers one.  An event already queued for the next entry goes
 * first, as the CPU delivers a fault before the trap it preempts. */
static inline void single_step_trap(struct vcpu *v, bool tf)
{
    const struct backend *be = vcpu_backend(v);
    if (tf && be->single_step && !v->event_pending)
        be->single_step(v);
}

/* build.c: make a domain, and make it again.  domain_build() gives `d`
 * (domain_init()'d, with its image, cmdline and vdevs set) its vCPU `v`,
 * RAM, memory map, second-level tables, the guest image loaded, the
 * vCPU's control structure and the firmware devices;
 * domain_build_devices(), once irq_clock_init() has run, its interrupt
 * controllers, timers and virtio devices.  domain_rebuild() gives back
 * what the domain held and builds it again from the same image, keeping
 * its number, policies and statistics (a reset, or the restart action);
 * it leaves the domain RUNNING.  Each returns 0, or -1 with the reason in
 * err (the domain is then only fit for teardown). */
int domain_build(struct host *h, struct domain *d, struct vcpu *v, char *err, size_t err_len);
int domain_build_devices(struct domain *d, char *err, size_t err_len);
int domain_rebuild(struct domain *d, char *err, size_t err_len);

/* run.c: a vCPU's CPU time so far in nanoseconds (the time it spent in
 * guest mode, for query commands), and its domain's, summed over its
 * vCPUs. */
uint64_t vcpu_cpu_time_ns(const struct vcpu *v);
uint64_t domain_cpu_time_ns(const struct domain *d);

/* run.c: add a domain to the host's list; enter the vCPUs of all running
 * domains, one exit at a time, until every domain has stopped. */
void host_add_domain(struct host *h, struct domain *d);
void host_run(struct host *h);

/* ending.c: report how the domains ended (statistics, the last line) and
 * end the outer machine.  Never returns. */
__attribute__((noreturn)) void host_end(const struct host *h);

/* dispatch.c: handle one exit of `v`.  Returns to the run loop whether the
 * guest goes on or its domain has stopped (domain.h). */
void dispatch(struct vcpu *v, struct exit_info *e);

/* hypercall.c: the VMMCALL/VMCALL ABI of include/hvkit/abi.h.  hypercall()
 * runs the call in RAX (or refuses it: HC_EPERM from a ring without the
 * call's privilege, HC_ENOSYS for an unknown number); hypercall_ends_guest()
 * says beforehand whether it will end the guest (HC_EXIT, allowed), and
 * hypercall_name() names a call number for the trace. */
void hypercall(struct vcpu *v);
bool hypercall_ends_guest(struct vcpu *v);
const char *hypercall_name(uint64_t nr);

/* violation.c: EXIT_MEM_VIOLATION, the core's one decision for both
 * vendors (RAM, MMIO, nothing).  Returns 0 when the guest goes on (a few
 * words for the trace in text), -1 when it must end (the reason, naming
 * the access, the address and RIP, in why). */
int handle_mem_violation(struct vcpu *v, const struct exit_info *e, char *text, size_t text_len,
                         char *why, size_t why_len);

/* irq.c: the guest's interrupt controller and timer, and delivery.
 * irq_clock_init() measures the host's TSC once, for every domain's PIT;
 * irq_domain_init() adds the domain's PIC and PIT to its port bus;
 * irq_before_entry() injects a pending interrupt (or asks for a window)
 * before each VM entry of `v` (and gives CR8 the APIC's TPR);
 * irq_after_exit() takes a CR8 the guest wrote into the APIC's TPR;
 * irq_halt() says, for a HLT with IF=1, whether the vCPU blocks until an
 * interrupt (true) or HLT completes at once (one is pending, or nothing
 * could wake it); irq_wakeup() whether a blocked vCPU can run again;
 * irq_next_event() the host TSC when the vCPU's next timer event is due
 * (UINT64_MAX: none); irq_tsc_hz() the host TSC's rate. */
void irq_clock_init(struct host *h);
/* The TSC rate hv measured and the TSC value at the guests' clock zero
 * (their PIT and APIC time 0), for the PV clock (pv_msr.c). */
void irq_clock_base(uint64_t *tsc_hz, uint64_t *tsc_zero);
void irq_domain_init(struct domain *d);
void irq_before_entry(struct vcpu *v);
void irq_after_exit(struct vcpu *v);
bool irq_halt(struct vcpu *v);
bool irq_wakeup(struct vcpu *v);
uint64_t irq_next_event(struct vcpu *v);
uint64_t irq_tsc_hz(void);
/* irq_vcpu_init(): the vCPU's local APIC, once it belongs to its domain
 * (after irq_domain_init()); irq_pending(): the vector the vCPU would take
 * next (the 8259's through LINT0, or its APIC's), or -1, for the trace. */
void irq_vcpu_init(struct vcpu *v);
/* After a write to IA32_APIC_BASE: move the APIC's page on the MMIO bus. */
void irq_apic_base_changed(struct vcpu *v);
/* Host TSC ticks in nanoseconds (irq.c, once irq_clock_init() ran). */
uint64_t irq_tsc_to_ns(uint64_t ticks);
int irq_pending(struct vcpu *v);

#endif
