/*
 * floor.c - the reference host's loop for VT-x, a teaching exhibit and the
 * floor of bench/hv/run.sh: the shortest correct VMRESUME loop that handles
 * CPUID (which always exits, SDM vol 3C 26.1.2 "Instructions That Cause VM
 * Exits Unconditionally") and moves RIP past it.  Nothing else happens
 * between two entries: three VMREADs (exit reason, RIP, instruction length)
 * and one VMWRITE (RIP) per round trip, plus a fourth read of the
 * interruptibility state, so that a CPUID in an STI shadow ends the shadow.
 *
 * It is compiled into the benchmark's second hv image only (bench/hv:
 * `make -C hv BENCH_FLOOR=1`, which defines HV_BENCH_FLOOR); the ordinary hv
 * never calls it.  That image boots, sets up the VMCS and loads the guest
 * exactly as hv does, and takes every exit other than CPUID through hv's
 * ordinary path, so the guest (guestkit/tests/bench.c, in 64-bit long mode
 * with paging and EPT on) runs the same CPUID loop in the same mode under
 * both images, and only the cost of a CPUID exit differs.
 */
#include "klib.h"

#include "core/cpu.h"
#include "internal.h"
#include "core/exitpath.h"

FAST_LOOP int vmx_floor_enter(struct gprs *regs, int launched)
{
    for (;;) {
        /* The world switch (enter.S): GPRs in, VMLAUNCH or VMRESUME, GPRs
         * out.  A failed instruction goes back to hv, which explains it. */
        int r = vmx_enter(regs, launched);
        if (r != 0)
            return r;
        launched = 1;
        /* Only a CPUID exit is ours; anything else (and an exit during the
         * delivery of an event, SDM vol 3C 28.2.4 "Information for VM Exits
         * During Event Delivery") goes back to hv. */
        if ((uint32_t)vmread(VMCS_EXIT_REASON) != VMX_EXIT_CPUID ||
            (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
            return 0;
        /* CPUID: leaf in EAX, subleaf in ECX (all GPRs but RSP are in
         * regs); the answer is the real CPU's, unfiltered. */
        struct cpuid_regs c = cpuid_count((uint32_t)regs->rax, (uint32_t)regs->rcx);
        regs->rax = c.eax;
        regs->rbx = c.ebx;
        regs->rcx = c.ecx;
        regs->rdx = c.edx;
        /* Past the instruction, by the length the exit reports (SDM vol 3C
         * 28.2.5 "Information for VM Exits Due to Instruction Execution"). */
        vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSN_LEN));
        /* An STI or MOV SS shadow ends with the instruction (SDM vol 3C
         * 25.4.2 "Guest Non-Register State"). */
        uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
        if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
            vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
                    intr & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
    }
}
