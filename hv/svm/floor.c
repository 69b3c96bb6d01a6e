/*
 * floor.c - the reference host's loop for SVM, a teaching exhibit and the
 * floor of bench/hv/run.sh: the shortest correct VMRUN loop that intercepts
 * CPUID, emulates it and moves RIP past it.  Nothing else happens between
 * two VMRUNs, so what one round trip costs here is what the CPU (or the
 * emulator playing one) charges for the world switch itself.
 *
 * It is compiled into the benchmark's second hv image only (bench/hv:
 * `make -C hv BENCH_FLOOR=1`, which defines HV_BENCH_FLOOR); the ordinary hv
 * never calls it.  That image boots, sets up the VMCB and loads the guest
 * exactly as hv does, and takes every exit other than CPUID through hv's
 * ordinary path, so the guest (guestkit/tests/bench.c, in 64-bit long mode
 * with paging and nested paging on) runs the same CPUID loop in the same
 * mode under both images, and only the cost of a CPUID exit differs.
 */
#include "klib.h"

#include "core/alloc.h"
#include "core/cpu.h"
#include "internal.h"
#include "core/exitpath.h"

/* The length of CPUID (0F A2): QEMU has no NRIPS to tell us (hv/README.md). */
#define CPUID_LEN 2

FAST_LOOP void svm_floor_enter(struct vmcb *v, struct gprs *regs, uint64_t host_save_pa)
{
    for (;;) {
        /* The world switch (enter.S): GPRs in, VMRUN, GPRs out, with the
         * VMLOAD/VMSAVE pair any SVM host needs for the hidden state. */
        svm_enter(virt_to_phys(v), regs, host_save_pa);
        /* A flush asked for by svm_run() is done: do not repeat it.  The
         * first access to the VMCB after the switch, and a write, so that
         * Bochs walks hv's page tables for its page once, not once to read
         * and again to write (bench/hv/README.md); the empty asm keeps the
         * compiler from moving the reads below before it. */
        v->control.tlb_control = TLB_CONTROL_DO_NOTHING;
        __asm__ volatile("" ::: "memory");
        /* Only a CPUID exit is ours; anything else (and an exit during the
         * delivery of an event, EXITINTINFO valid, APM vol 2 15.7.2
         * "Intercepts During IDT Interrupt Delivery") goes back to hv. */
        if ((uint32_t)v->control.exitcode != VMEXIT_CPUID ||
            (v->control.exitintinfo & EVENTINJ_VALID))
            return;
        /* An event svm_run() injected has been delivered. */
        v->control.eventinj = 0;
        /* CPUID: leaf in EAX (in the VMCB), subleaf in ECX; the answer is
         * the real CPU's, unfiltered (SDM vol 2A "CPUID"). */
        struct cpuid_regs c = cpuid_count((uint32_t)v->save.rax, (uint32_t)regs->rcx);
        v->save.rax = c.eax;
        regs->rbx = c.ebx;
        regs->rcx = c.ecx;
        regs->rdx = c.edx;
        /* Past the instruction; an STI shadow it was in has ended. */
        v->save.rip += CPUID_LEN;
        v->control.int_state &= ~INT_STATE_SHADOW;
    }
}
