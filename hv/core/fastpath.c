/*
 * fastpath.c - the exit fast path (see fastpath.h): a CPUID, or an IN or
 * OUT to a port no device owns, handled right after the exit, and the
 * guest entered again without a trip through the run loop.
 *
 * Why: most of what hv does for an exit is not the emulation.  For a
 * CPUID the run loop sets the deadline, looks at the interrupt
 * controllers, accounts the vCPU's time; the backend decodes the whole
 * exit record; dispatch() checks for a reset, a power-off, the guest's
 * exit code.  All of that is needed after an exit that reached a device,
 * and none of it after a CPUID while nothing is pending, which only reads
 * EAX and ECX and writes four registers and RIP.  On an emulator that
 * interprets hv (Bochs) each of those instructions costs, and an exit
 * there cost three to four times the shortest correct loop
 * (bench/hv/README.md).
 *
 * Real hypervisors do the same.  KVM's vcpu_enter_guest()
 * (arch/x86/kvm/x86.c) asks the vendor code for a fast-path handler right
 * after the exit, before interrupts are enabled again and before the full
 * exit handler runs (vmx_exit_handlers_fastpath() in vmx/vmx.c: WRMSR of
 * the x2APIC's interrupt command register, the TSC deadline, the
 * preemption timer); EXIT_FASTPATH_REENTER_GUEST makes it enter the guest
 * again in an inner loop, after a check for pending requests.  hv's fast
 * exits are simpler ones, since hv's common exits are too.
 *
 * What makes it correct: the fast path is taken only when the full path
 * would do nothing but the emulation and the counting, and then does
 * exactly those: a CPUID answered from the table the full path filled
 * (cpuid.h), an IN with the full path's port handler, RIP moved by the same
 * advance().  fastpath_arm() and fastpath_wanted() list the conditions; anything else (a
 * trace line to write, an interrupt to deliver or a timer running, the end
 * of the time slice, the exit budget, a port a device owns, a CPUID leaf
 * not in the table) goes the full way.  Nothing the emulation of these
 * exits does can change those conditions: a CPUID changes four registers,
 * and an access to a port no device owns reaches no device.  The one
 * difference a reader can see: the time hv spends
 * on a fast exit counts as the vCPU's (run.c measures around the
 * backend's run()), as in KVM, where the inner loop is inside the span
 * accounted as guest time.
 */
#include "klib.h"

#include "cpu.h"
#include "cpuid.h"
#include "exitpath.h"
#include "fastpath.h"
#include "hv.h"

/* See fastpath.h: before each entry, from the run loop.  One physical CPU
 * runs every vCPU (hv/README.md), so between this call and the backend's
 * return nothing runs but this vCPU's guest and its fast exits, which
 * change none of what is looked at here: the answer holds for every exit
 * of that stretch, and fastpath_wanted() need not ask again. */
EXIT_PATH void fastpath_arm(struct vcpu *v)
{
    const struct domain *d = v->dom;
    const struct host *h = d->host;
    /* With `trace` every exit gets its line: dispatch() writes it.  The
     * interrupt check before each entry (irq.c irq_before_entry), which
     * has just run, must have nothing to do: its look found nothing to
     * deliver and no timer running, and no exit since has reached a
     * device (irq_epoch); only a device access changes that. */
    if (h->opt.trace || !v->irq_idle || v->irq_seen_epoch != d->irq_epoch) {
        v->fast_until = 0;
        return;
    }
    /* The exit that spends the budget (max-exits=N) ends the guest, in
     * dispatch(): exit number N, when exit_count (the exit's number
     * minus one) reaches N. */
    v->fast_until = h->opt.max_exits ? h->opt.max_exits : UINT64_MAX;
}

/* See fastpath.h: step 1, before the backend reads any guest state.
 * Everything it looks at is in struct vcpu and the domain's CPUID table
 * or port bitmap: on an emulator that empties its TLB at every world
 * switch (fastpath.c) each further page would cost a walk of hv's page
 * tables. */
FAST_PATH bool fastpath_wanted(const struct vcpu *v, const struct exit_info *e,
                               struct cpuid_regs *answer)
{
    /* What fastpath_arm() found before the entry, and the exit budget. */
    if (v->exit_count >= v->fast_until)
        return false;
    /* The run loop wants the CPU back by then: the end of the time slice,
     * a blocked vCPU's timer (run.c run_slice()).  No timer of this vCPU
     * runs, or fastpath_arm() would have said no, so this is the deadline
     * the backend was given; the loop checks it after every exit, so does
     * this. */
    if (v->deadline != UINT64_MAX && rdtsc() >= v->deadline)
        return false;
    /* The two kinds of exit: CPUID, and a plain IN or OUT that reaches no
     * device (a device access may raise an interrupt, end the guest or
     * reset it, which the full path looks at).  INS and OUTS touch guest
     * memory, a page at a time: the full path. */
    if (e->reason == EXIT_IO) {
        /* An OUT that would do nothing at all (its port was reported
         * already), or an IN that reads all ones. */
        const struct iobus *io = &v->dom->io;
        return !e->io.string && (e->io.in ? iobus_unowned(io, e->io.port, e->io.size)
                                          : iobus_out_void(io, e->io.port, e->io.size));
    }
    /* A leaf the domain's table has (cpuid.h): the full path puts the
     * answer there the first time, unless it may change.  The leaf is EAX,
     * the subleaf ECX (SDM vol 2A "CPUID"). */
    if (e->reason == EXIT_CPUID)
        return cpuid_table_find(&v->dom->cpuid, (uint32_t)v->regs.rax, (uint32_t)v->regs.rcx,
                                answer);
    return false;
}

/* See fastpath.h: step 2, with the guest state every exit needs loaded. */
FAST_PATH void fastpath_exit(struct vcpu *v, struct exit_info *e, const struct cpuid_regs *answer)
{
    struct gprs *r = &v->regs;
    if (e->reason == EXIT_CPUID) {
        /* The answer fastpath_wanted() found in the table.  CPUID writes
         * the 32-bit registers, which zero-extends in long mode. */
        r->rax = answer->eax;
        r->rbx = answer->ebx;
        r->rcx = answer->ecx;
        r->rdx = answer->edx;
        /* RIP past it, with a single-step trap for a guest with RFLAGS.TF,
         * as after any instruction hv emulates. */
        dispatch_advance(v, e);
    } else if (e->io.in) {
        /* The full path's port handler: all ones into AL, AX or EAX, and
         * the port logged if this is its first access; then advance(). */
        dispatch_io(v, e);
    } else {
        /* An OUT nobody hears, to a port already logged: nothing to do
         * but move past it. */
        dispatch_advance(v, e);
    }
    /* What the run loop and dispatch() count for every exit: its number
     * (HC_EXIT_COUNT, the trace) and, through fastpath_account(), the
     * domain's statistics. */
    v->exit_count++;
    if (e->reason == EXIT_CPUID)
        v->fast_cpuid++;
    else
        v->fast_io++;
}

/* See fastpath.h: after the backend's run(), before anything reads the
 * statistics (dispatch() and the control commands come later). */
EXIT_PATH void fastpath_account(struct vcpu *v)
{
    stats_add(&v->dom->stats, EXIT_CPUID, v->fast_cpuid);
    stats_add(&v->dom->stats, EXIT_IO, v->fast_io);
    v->fast_cpuid = v->fast_io = 0;
}
