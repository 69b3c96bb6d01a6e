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
 * advance().  fastpath_wanted() lists the conditions; anything else (a
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

/* See fastpath.h: step 1, before the backend reads any guest state. */
EXIT_PATH bool fastpath_wanted(const struct vcpu *v, const struct exit_info *e)
{
    const struct domain *d = v->dom;
    const struct host *h = d->host;
    /* The two kinds of exit: CPUID, and a plain IN or OUT that reaches no
     * device (a device access may raise an interrupt, end the guest or
     * reset it, which the full path looks at).  INS and OUTS touch guest
     * memory, a page at a time: the full path. */
    struct cpuid_regs c;
    if (e->reason == EXIT_IO) {
        /* An OUT that would do nothing at all (its port was reported
         * already), or an IN that reads all ones. */
        if (e->io.string || !(e->io.in ? iobus_unowned(&d->io, e->io.port, e->io.size)
                                       : iobus_out_void(&d->io, e->io.port, e->io.size)))
            return false;
    } else if (e->reason == EXIT_CPUID) {
        /* A leaf the domain's table has (cpuid.h): the full path puts the
         * answer there the first time, unless it may change. */
        if (!cpuid_table_find(&d->cpuid, (uint32_t)v->regs.rax, (uint32_t)v->regs.rcx, &c))
            return false;
    } else {
        return false;
    }
    /* With `trace` every exit gets its line: dispatch() writes it. */
    if (h->opt.trace)
        return false;
    /* The interrupt check before each entry (irq.c irq_before_entry) would
     * do nothing: its last look found nothing to deliver and no timer
     * running, and no exit since has reached a device (irq_epoch).  The
     * backend has made sure that the guest's TPR (CR8) is unchanged too. */
    if (!v->irq_idle || v->irq_seen_epoch != d->irq_epoch)
        return false;
    /* The exit that spends the budget (max-exits=N) ends the guest, in
     * dispatch().  exit_count is this exit's number minus one. */
    if (h->opt.max_exits && v->exit_count >= h->opt.max_exits)
        return false;
    /* The run loop wants the CPU back by then: the end of the time slice,
     * a blocked vCPU's timer (run.c run_slice()).  No timer of this vCPU
     * runs, or it would not be idle, so this is the deadline the backend
     * was given; the loop checks it after every exit, so does this. */
    if (v->deadline != UINT64_MAX && rdtsc() >= v->deadline)
        return false;
    return true;
}

/* See fastpath.h: step 2, with the guest state every exit needs loaded. */
EXIT_PATH void fastpath_exit(struct vcpu *v, struct exit_info *e)
{
    struct gprs *r = &v->regs;
    if (e->reason == EXIT_CPUID) {
        /* The answer fastpath_wanted() found in the table, which nothing
         * changed since.  The leaf is EAX, the subleaf ECX (SDM vol 2A
         * "CPUID"). */
        struct cpuid_regs c = {0};
        cpuid_table_find(&v->dom->cpuid, (uint32_t)r->rax, (uint32_t)r->rcx, &c);
        /* CPUID writes the 32-bit registers, which zero-extends in long
         * mode. */
        r->rax = c.eax;
        r->rbx = c.ebx;
        r->rcx = c.ecx;
        r->rdx = c.edx;
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
     * (HC_EXIT_COUNT, the trace) and the domain's statistics. */
    v->exit_count++;
    stats_record(&v->dom->stats, e->reason);
}
