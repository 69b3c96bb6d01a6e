/*
 * fastpath.c - the exit fast path (see fastpath.h): a CPUID, or an IN or
 * OUT to a port no device owns, taken by a short loop in the backend right
 * after the exit, and the guest entered again without a trip through the
 * backend's run(), the run loop and the dispatcher.
 *
 * Why: most of what hv does for an exit is not the emulation.  For a
 * CPUID the run loop sets the deadline, looks at the interrupt
 * controllers, accounts the vCPU's time; the backend decodes the whole
 * exit record and copies the guest state; dispatch() checks for a reset,
 * a power-off, the guest's exit code.  All of that is needed after an exit
 * that reached a device, and none of it after a CPUID while nothing is
 * pending, which only reads EAX and ECX and writes four registers and
 * RIP.  On an emulator that interprets hv (Bochs) each of those
 * instructions costs, and each page they touch costs more
 * (bench/hv/README.md).
 *
 * Real hypervisors do the same.  KVM's vcpu_enter_guest()
 * (arch/x86/kvm/x86.c) asks the vendor code for a fast-path handler right
 * after the exit, before interrupts are enabled again and before the full
 * exit handler runs (vmx_exit_handlers_fastpath() in vmx/vmx.c: WRMSR of
 * the x2APIC's interrupt command register, the TSC deadline, the
 * preemption timer); EXIT_FASTPATH_REENTER_GUEST makes it enter the guest
 * again in an inner loop, after a check for pending requests.  There too
 * the handlers are the vendor's code and the decision whether to stay in
 * the loop is the common code's.
 *
 * The split: the policy is here, the vendor's registers in the backend.
 * fastpath_arm() decides before an entry whether fast exits are allowed at
 * all; fastpath.h's inline steps decide for each exit, from plain data
 * (the vCPU's counters and deadline, the domain's CPUID table, the port
 * bus's bits), and apply the answer to the general registers.  The
 * backend's loop (hv/svm/fastloop.c, hv/vmx/fastloop.c) only reads the
 * exit reason and the instruction's length, and writes RIP and the
 * interrupt shadow, in its own control structure.
 *
 * What makes it correct: an exit is taken only when the full path would
 * do nothing but the emulation and the counting, and the loop does exactly
 * those: a CPUID answered from the table the full path filled (cpuid.h),
 * an IN that reads the floating bus, an OUT that is lost, RIP moved past
 * the instruction, an STI or MOV SS shadow ended, the exit counted.
 * Anything else (a trace line to write, an interrupt or NMI waiting, a
 * timer running, the end of the time slice, the exit budget, a port a
 * device owns or not yet reported, a CPUID leaf not in the table, RFLAGS
 * with TF or RF) goes the full way.  Nothing these exits do can change the
 * conditions fastpath_arm() checked: a CPUID changes four registers, and
 * an access to a port no device owns reaches no device.  The one
 * difference a reader can see: the time hv spends on a fast exit counts
 * as the vCPU's (run.c measures around the backend's run()), as in KVM,
 * where the inner loop is inside the span accounted as guest time.
 */
#include "klib.h"

#include "cpu.h"
#include "exitpath.h"
#include "fastpath.h"
#include "hv.h"

/* See fastpath.h: before each entry, from the run loop, after the
 * interrupt check (irq.c irq_before_entry()).  One physical CPU runs every
 * vCPU (hv/README.md), so between this call and the backend's return
 * nothing runs but this vCPU's guest and its fast exits, which change none
 * of what is looked at here: the answer holds for every exit of that
 * stretch, and the backend's loop need not ask again. */
EXIT_PATH void fastpath_arm(struct vcpu *v)
{
    const struct domain *d = v->dom;
    const struct host *h = d->host;
    /* The copies of the last answers (vcpu.h fast_leaf) are forgotten:
     * the full path may have changed the domain's CPUID table or its port
     * bus since they were made. */
    v->fast_leaf.valid = false;
    v->fast_port_size = 0;
    /* With `trace` every exit gets its line: dispatch() writes it. */
    if (h->opt.trace) {
        v->fast_left = 0;
        return;
    }
    /* The interrupt check that has just run must have had nothing to do:
     * its look found nothing to deliver, no NMI waiting and no timer
     * running, and no exit since has reached a device (irq_epoch); only a
     * device access changes that.  And no interrupt may wait in the local
     * APIC at all, not even one the TPR holds back: the guest can lower
     * its TPR with a MOV to CR8 without an exit (VT-x's TPR shadow, SDM
     * vol 3C 30.3 "Virtualizing CR8-Based TPR Accesses"; SVM's V_TPR, APM
     * vol 2 15.21.2 "Virtualizing APIC.TPR"), and the interrupt would
     * then be due while the loop runs.  With nothing requested a new TPR
     * changes nothing until the loop leaves, and the backend's general
     * path takes it into the APIC then (irq_after_exit()), so the loop
     * need not look at the guest's TPR after each exit.  A request the
     * 8259 holds while masked needs an OUT to its ports, which a device
     * owns: that exit leaves the loop. */
    if (!v->irq_idle || v->irq_seen_epoch != d->irq_epoch || lapic_requested(&v->lapic)) {
        v->fast_left = 0;
        return;
    }
    /* The exit that spends the budget (max-exits=N) ends the guest, in
     * dispatch(): the fast path may take exits while exit_count (the
     * next exit's number minus one) is below N, N - exit_count of them. */
    if (!h->opt.max_exits)
        v->fast_left = UINT64_MAX;
    else
        v->fast_left = v->exit_count < h->opt.max_exits ? h->opt.max_exits - v->exit_count : 0;
}

/* See fastpath.h: after the backend's run(), before anything reads the
 * exit count or the statistics (dispatch() and the control commands come
 * later).  Counted
 * in the vCPU meanwhile, so that a fast exit writes to no page but the
 * vCPU's and its control structure. */
EXIT_PATH void fastpath_account(struct vcpu *v)
{
    stats_add(&v->dom->stats, EXIT_CPUID, v->fast_cpuid);
    stats_add(&v->dom->stats, EXIT_IO, v->fast_io);
    /* Each an exit with a number (HC_EXIT_COUNT, the exit budget). */
    v->exit_count += v->fast_cpuid + v->fast_io;
    v->fast_cpuid = v->fast_io = 0;
}
