/*
 * fastpath.h - the exit fast path: the two commonest exits, a CPUID and an
 * IN or OUT to a port no device owns, taken by a short loop in the backend
 * (hv/svm/fastloop.c, hv/vmx/fastloop.c) right after the world switch, and
 * the guest entered again at once, without going back to the backend's
 * run(), the run loop (run.c) and the dispatcher (dispatch.c).
 * fastpath.c explains why and when.
 *
 * The split between the core and the backends is the one of the rest of
 * hv: the core has the policy and the data, the backend the vendor's
 * registers.
 *
 *   - The run loop calls fastpath_arm(v) before each entry.  The core
 *     decides there, once, whether fast exits are allowed at all until the
 *     backend returns (no trace, nothing pending), and how many (the exit
 *     budget), into v->fast_left.
 *   - The backend's loop reads the exit reason and, for CPUID or a plain
 *     IN/OUT, asks the core with the inline steps below: may one more exit
 *     be taken (fastpath_allowed(): the budget, the run loop's deadline),
 *     is the RFLAGS plain enough (fastpath_flags_plain()), is there an
 *     answer (fastpath_cpuid_find(), fastpath_port_void()).  If all say
 *     yes it applies the answer (fastpath_cpuid_apply(),
 *     fastpath_port_apply(): registers, and the exit counted), moves RIP
 *     past the instruction, ends an STI or MOV SS shadow, and enters the
 *     guest again.  Anything else leaves the loop with the exit untouched,
 *     for the backend's general path, as if the loop were not there.
 *   - When run() returns, the run loop calls fastpath_account(v): the fast
 *     exits into the domain's statistics.
 *
 * The steps are inline so that the backend's loop is one piece of code on
 * one page (exitpath.h FAST_LOOP): on an emulator that empties its TLB at
 * every world switch, each page of code or data a round trip touches
 * costs a walk of hv's page tables.  What they read is in struct vcpu, the
 * domain's CPUID table and the port bus's bits, nothing else; and the
 * answer they found last is kept in struct vcpu (fast_leaf, fast_port),
 * so that a guest that repeats a CPUID or an OUT reads the vCPU's page
 * alone, as the reference host does (bench/hv/README.md).
 */
#ifndef HV_CORE_FASTPATH_H
#define HV_CORE_FASTPATH_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "cpuid.h"
#include "domain.h"
#include "vcpu.h"

/* The run loop, before each entry: whether, and how many, exits the
 * backend's fast loop may take (v->fast_left). */
void fastpath_arm(struct vcpu *v);
/* The run loop, when the backend's run() returned: the fast exits it
 * took into the vCPU's exit count and the domain's statistics. */
void fastpath_account(struct vcpu *v);

/* May the loop take one more exit?  What fastpath_arm() found before the
 * entry holds until the backend returns (one physical CPU runs every vCPU:
 * nothing else runs meanwhile); what can change from exit to exit is the
 * count against the budget and the clock against the run loop's deadline
 * (the end of the time slice, a blocked vCPU's timer, run.c run_slice()),
 * which the loop checks after every exit as the run loop would. */
static inline bool fastpath_allowed(const struct vcpu *v)
{
    /* fast_left is 0 when fast exits are not allowed at all, or when the
     * next exit spends the exit budget (max-exits=): that one ends the
     * guest in dispatch(), so it goes the full way. */
    if (v->fast_left == 0)
        return false;
    /* No deadline is UINT64_MAX: no clock read then. */
    return v->deadline == UINT64_MAX || rdtsc() < v->deadline;
}

/* Is RFLAGS, as the exit left it, one the loop may leave alone?  With TF
 * the instruction must end in a single-step trap (SDM vol 3B 18.3.1.4
 * "Single-Step Exception Condition"), and RF must be cleared when it
 * completes (SDM vol 3B 18.3.1.1 "Instruction-Breakpoint Exception
 * Condition"): both are the full path's advance() (dispatch.c), which
 * handles the rare exit where either is set. */
static inline bool fastpath_flags_plain(uint64_t rflags)
{
    return !(rflags & (RFLAGS_TF | RFLAGS_RF));
}

/* CPUID: is there an answer for the leaf in EAX and subleaf in ECX (SDM
 * vol 2A "CPUID")?  The domain's table has it if the full path has worked
 * it out before (cpuid.h); false if not (the full path works it out).
 * The answer is left in the vCPU's copy, v->fast_leaf, and looked for
 * there first: the table is on another page. */
static inline bool fastpath_cpuid_find(struct vcpu *v)
{
    uint32_t leaf = (uint32_t)v->regs.rax, subleaf = (uint32_t)v->regs.rcx;
    /* The same leaf as the last fast CPUID: usually so. */
    if (cpuid_entry_is(&v->fast_leaf, leaf, subleaf))
        return true;
    const struct cpuid_entry *e = cpuid_table_entry(&v->dom->cpuid, leaf, subleaf);
    if (!e)
        return false;
    v->fast_leaf = *e;
    return true;
}

/* The exit counted by kind, as dispatch() counts every exit (the
 * statistics), and one less left for the loop; fastpath_account() adds
 * these counts to the vCPU's exit count and the domain's statistics. */
static inline void fastpath_count(struct vcpu *v, uint64_t *kind)
{
    v->fast_left--;
    (*kind)++;
}

/* CPUID: the answer fastpath_cpuid_find() found into the guest's
 * registers.  CPUID writes the 32-bit registers, which zero-extends them
 * in 64-bit mode (SDM vol 1 3.4.1.1 "General-Purpose Registers in 64-Bit
 * Mode"). */
static inline void fastpath_cpuid_apply(struct vcpu *v)
{
    v->regs.rax = v->fast_leaf.r.eax;
    v->regs.rbx = v->fast_leaf.r.ebx;
    v->regs.rcx = v->fast_leaf.r.ecx;
    v->regs.rdx = v->fast_leaf.r.edx;
    fastpath_count(v, &v->fast_cpuid);
}

/* IN or OUT (not INS or OUTS) of `size` bytes at `port`: would the full
 * path do nothing but drop the value or read all ones?  Yes when no device
 * owns any of the ports and the port was reported already: the first
 * access to it goes the full way, which writes the log line.  The port
 * bus's bits are on the domain's pages, so a yes is kept in the vCPU
 * (fast_port, fast_port_size) and the same access asked there first. */
static inline bool fastpath_port_void(struct vcpu *v, uint16_t port, uint8_t size)
{
    /* The same access as the last fast one: usually so. */
    if (v->fast_port_size == size && v->fast_port == port)
        return true;
    if (!iobus_void(&v->dom->io, port, size))
        return false;
    v->fast_port = port;
    v->fast_port_size = size;
    return true;
}

/* The access fastpath_port_void() allowed: an OUT is lost, an IN reads
 * the floating bus, all ones, into AL, AX or EAX. */
static inline void fastpath_port_apply(struct vcpu *v, bool in, uint8_t size)
{
    if (in)
        v->regs.rax = gpr_in_merge(v->regs.rax, iobus_float(size), size);
    fastpath_count(v, &v->fast_io);
}

#endif
