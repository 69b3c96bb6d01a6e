/*
 * smp.c - a domain with several vCPUs, brought up the way a PC brings up
 * its processors (SDM vol 3A 9.4 "Multiple-Processor (MP)
 * Initialization").
 *
 * vCPU 0 is the bootstrap processor (BSP): it starts at the guest's
 * Multiboot entry as a one-CPU domain's does.  The others are application
 * processors (APs): after power-up they sit in the wait-for-SIPI state,
 * never scheduled, until the guest starts them through its local APIC's
 * interrupt command register (SDM vol 3A 11.6.1 "Interrupt Command
 * Register (ICR)") with the sequence of 9.4.4.1 "Typical BSP
 * Initialization Sequence": an INIT IPI (the AP resets and waits for a
 * SIPI), then a STARTUP IPI (SIPI) whose vector VV names the page 0xVV000
 * where the AP starts, in real mode, CS = VV00 and IP = 0 (9.4.4.2
 * "Typical AP Initialization Sequence"); a second SIPI, which the example
 * sends in case the first got lost, finds the AP running and is ignored
 * (9.4.2 "MP Initialization Protocol Requirements and Restrictions").
 * The guest finds the CPUs in the MADT (dev/acpi_tables.c), one Processor
 * Local APIC entry per vCPU with APIC IDs 0..N-1.
 *
 * Every IPI goes through here: the local APIC model turns an ICR write
 * into a message (dev/lapic.h), apic_ipi_targets() (dev/apic_ipi.c)
 * decides who receives it, and this file acts on each receiver: a fixed
 * or lowest-priority vector into its IRR (waking it from HLT), INIT and
 * STARTUP as above.  Nothing here touches a VMCB or VMCS: an AP's start
 * state is a vendor-neutral struct cpu_state loaded through the backend's
 * set_state, the same path loadvm takes.
 *
 * What a guest can get wrong (an IPI to an APIC ID no vCPU has, an INIT
 * to itself or to the BSP, an illegal vector, NMI and SMI, which hv does
 * not deliver) is dropped with one "[hv]" line each, up to a limit, and
 * never disturbs hv or the other vCPUs.
 */
#include "klib.h"

#include "cpu.h"
#include "cpustate.h"
#include "hv.h"
#include "log.h"
#include "smp.h"
#include "vcpustate.h"

/* At most this many notes per domain, then one saying the rest are not
 * logged: a guest sending bad IPIs in a loop must not flood the console. */
#define SMP_NOTES_MAX 16

/* The delivery modes by name, for the notes (11.6.1, "Delivery Mode"). */
static const char *const mode_names[8] = {"fixed", "lowest-priority", "SMI",   "reserved", "NMI",
                                          "INIT",  "STARTUP",         "ExtINT"};

/* One "[hv]" line about vCPU `from` (an IPI it sent, its start), counted
 * against the domain's limit. */
__attribute__((format(printf, 2, 3))) static void note(struct vcpu *from, const char *fmt, ...)
{
    struct domain *d = from->dom;
    if (d->smp_notes > SMP_NOTES_MAX)
        return;
    if (d->smp_notes++ == SMP_NOTES_MAX) {
        hv_log("domain %u: further notes about its IPIs and starts are not logged", d->id);
        return;
    }
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    hv_log("domain %u vCPU %u: %s", d->id, from->id, msg);
}

/* Make a vCPU that can now run known to the run loop, which then ends the
 * running vCPU's slice on time instead of letting a guest that never
 * exits keep the CPU (run.c). */
static void runnable_now(struct vcpu *w)
{
    w->dom->host->resched = true;
}

/*
 * INIT (11.6.1, delivery mode 101): the receiving processor resets and,
 * being an AP, waits for a SIPI (9.4.2: "each logical processor examines
 * its BSP flag ... to determine whether it should execute the BIOS
 * boot-strap code (if it is the BSP) or enter a wait-for-SIPI state (if
 * it is an AP)").  Its local APIC resets too, keeping its ID (11.4.7.3
 * "Local APIC State After an INIT Reset (Wait-for-SIPI State)").  The
 * de-assert form (level 0, level-triggered) only resynchronises
 * arbitration IDs on old CPUs (11.6.1): nothing to do.
 */
static void init_ipi(struct vcpu *from, struct vcpu *w, const struct apic_msg *m)
{
    if (m->deassert && m->level)
        return;
    if (w == from) {
        note(from, "INIT IPI to itself: ignored (a CPU is reset by another one)");
        return;
    }
    /* The BSP would run the firmware's boot-strap code at the reset
     * vector, which a Multiboot guest under hv does not have. */
    if (w->id == 0) {
        note(from, "INIT IPI to the bootstrap processor (vCPU 0): ignored, hv has no firmware to "
                   "restart it");
        return;
    }
    w->mp_state = VCPU_MP_WAIT_SIPI;
    w->blocked = false;
    w->start_pending = false;
    lapic_init_reset(&w->lapic);
    if (w->dom->host->opt.trace)
        hv_log("domain %u vCPU %u: INIT from vCPU %u: waits for a STARTUP IPI", w->dom->id, w->id,
               from->id);
}

/*
 * STARTUP (11.6.1, delivery mode 110): an AP in the wait-for-SIPI state
 * starts at 0xVV000; any other receiver ignores it (9.4.2: the SIPI "is
 * ignored" by a processor not waiting for one), which is where the second
 * SIPI of INIT-SIPI-SIPI ends.  The start state is loaded when the run
 * loop next schedules the AP (smp_start), with its control structure
 * loaded.
 */
static void startup_ipi(struct vcpu *from, struct vcpu *w, const struct apic_msg *m)
{
    if (w->mp_state != VCPU_MP_WAIT_SIPI) {
        if (w->dom->host->opt.trace)
            hv_log("domain %u vCPU %u: STARTUP from vCPU %u ignored: not waiting for one",
                   w->dom->id, w->id, from->id);
        return;
    }
    /* vCPU hot-plug (include/hvkit/pv.h): the host decides how many
     * vCPUs the guest runs; the MADT lists the others as Online Capable,
     * not yet Enabled, and a guest that starts one anyway finds it never
     * comes up, as on a machine whose firmware left the CPU off. */
    if (!domain_vcpu_available(w->dom, w->id)) {
        note(from, "STARTUP IPI to vCPU %u ignored: the host has not made it available", w->id);
        return;
    }
    /* 9.4.4.1 "Typical BSP Initialization Sequence": the vectors A0H-BFH
     * are reserved (the VGA window); hv starts the AP there all the same,
     * as QEMU does, and says so. */
    if (m->vector >= 0xa0 && m->vector <= 0xbf)
        note(from,
             "STARTUP IPI with vector %#x to vCPU %u: the SDM reserves vectors 0xa0-0xbf; "
             "started at %#x anyway",
             m->vector, w->id, m->vector << 12);
    w->start_pending = true;
    w->start_vector = m->vector;
    w->mp_state = VCPU_MP_RUNNING;
    runnable_now(w);
}

/* A fixed or lowest-priority IPI: the vector into the receiver's IRR
 * (11.6.1 "Fixed": "Delivers the interrupt specified in the vector field
 * to the target processor or processors").  A receiver blocked in HLT
 * with something to take now wakes. */
static void fixed_ipi(struct vcpu *w, const struct apic_msg *m)
{
    lapic_accept_fixed(&w->lapic, m->vector, m->level);
    /* irq.c's look before its next entry must not skip it. */
    w->irq_idle = false;
    if (w->blocked && w->mp_state == VCPU_MP_RUNNING && irq_pending(w) >= 0) {
        w->blocked = false;
        runnable_now(w);
    }
}

/* Where an APIC's message goes: the lapic_ipi_fn of every vCPU's APIC. */
static void smp_ipi(void *ctx, const struct apic_msg *m)
{
    struct vcpu *from = ctx;
    struct domain *d = from->dom;
    /* SDM vol 3A 11.5.2 "Valid Interrupt Vectors": 0-15 belong to
     * the exceptions; the sender's APIC refused it (lapic.c). */
    if ((m->mode == APIC_DM_FIXED || m->mode == APIC_DM_LOWEST) && m->vector < 16) {
        note(from,
             "%s IPI with vector %u: vectors 0-15 are illegal, reserved for exceptions; the "
             "sender's ESR says so, nothing sent",
             mode_names[m->mode], m->vector);
        return;
    }
    if (m->mode == APIC_DM_NMI || m->mode == APIC_DM_SMI || m->mode == 3 ||
        m->mode == APIC_DM_EXTINT) {
        note(from, "%s IPI: hv does not deliver it; dropped", mode_names[m->mode]);
        return;
    }
    struct lapic *apics[DOMAIN_MAX_VCPUS];
    for (unsigned i = 0; i < d->nr_vcpus; i++)
        apics[i] = &d->vcpu[i]->lapic;
    uint32_t set = apic_ipi_targets(apics, d->nr_vcpus, from->id, m);
    /* Nobody: a destination no vCPU has (the MADT lists them all). */
    if (!set && !(m->mode == APIC_DM_INIT && m->deassert && m->level)) {
        if (m->shorthand == APIC_SH_NONE)
            note(from,
                 "%s IPI to %s APIC ID %#x: no vCPU of the domain (it has %u) has it; "
                 "dropped",
                 mode_names[m->mode], m->logical ? "logical" : "physical", m->dest, d->nr_vcpus);
        return;
    }
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        if (!(set & (1u << i)))
            continue;
        struct vcpu *w = d->vcpu[i];
        if (m->mode == APIC_DM_INIT)
            init_ipi(from, w, m);
        else if (m->mode == APIC_DM_STARTUP)
            startup_ipi(from, w, m);
        else
            fixed_ipi(w, m);
    }
}

void smp_vcpu_init(struct vcpu *v)
{
    v->lapic.ipi = smp_ipi;
    v->lapic.ipi_ctx = v;
    /* 9.4.1 "BSP and AP Processors": after power-up the APs wait for a
     * SIPI; only the BSP runs. */
    v->mp_state = v->id == 0 ? VCPU_MP_RUNNING : VCPU_MP_WAIT_SIPI;
    v->start_pending = false;
}

/* A real-mode segment: base = selector * 16, limit 64 KiB, present,
 * read/write data or execute/read code, accessed (SDM vol 3A table 10-1
 * "IA-32 and Intel 64 Processor States Following Power-up, Reset, or
 * INIT": "Selector = 0000H, Base = 00000000H, Limit = FFFFH, AR =
 * Present, R/W, Accessed"). */
static struct cpu_segment real_segment(uint16_t selector, bool code)
{
    return (struct cpu_segment){.selector = selector,
                                .attrib = code ? 0x9b : 0x93,
                                .limit = 0xffff,
                                .base = (uint64_t)selector << 4};
}

/*
 * The state of an AP the SIPI starts: what table 10-1 lists after INIT
 * (general registers 0, EFLAGS 2, CR0 with only ET (the firmware's CD and
 * NW, which INIT leaves, are 0 on a machine that booted), CR2-CR4 0,
 * EFER 0, GDTR and IDTR base 0 limit FFFFH, LDTR and TR present with
 * limit FFFFH, DR6 FFFF0FF0H, DR7 400H), with CS = VV00H, base VV000H and
 * IP = 0 from the SIPI (9.4.4.2).  TR is a busy 32-bit TSS and LDTR an
 * LDT, the types VT-x's entry checks want outside IA-32e mode (SDM vol
 * 3C 27.3.1.2 "Checks on Guest Segment Registers"); SVM takes them as
 * they are.  The time-stamp counter goes on: INIT does not reset it.
 */
static void start_state(const struct vcpu *v, struct cpu_state *c)
{
    memset(c, 0, sizeof(*c));
    c->rip = 0;
    c->rflags = 2;
    c->cr0 = CR0_ET;
    for (unsigned s = CPU_ES; s <= CPU_GS; s++)
        c->seg[s] = real_segment(0, false);
    c->seg[CPU_CS] = real_segment((uint16_t)(v->start_vector << 8), true);
    c->seg[CPU_LDTR] = (struct cpu_segment){.attrib = 0x82, .limit = 0xffff};
    c->seg[CPU_TR] = (struct cpu_segment){.attrib = 0x8b, .limit = 0xffff};
    c->gdtr = (struct cpu_table){0, 0xffff};
    c->idtr = (struct cpu_table){0, 0xffff};
    c->dr6 = 0xffff0ff0u;
    c->dr7 = 0x400;
    /* PAT's power-up value (SDM vol 3A 12.12.4 "Programming the PAT"),
     * MISC_ENABLE as it was, XCR0 x87 only (SDM vol 1 13.3 "Enabling the
     * XSAVE Feature Set and XSAVE-Enabled Features"). */
    c->pat = 0x0007040600070406ull;
    c->misc_enable = v->misc_enable;
    c->xcr0 = 1;
    c->tsc = rdtsc() + v->tsc_offset;
}

bool smp_start(struct vcpu *v)
{
    struct cpu_state c;
    char err[128];
    v->start_pending = false;
    start_state(v, &c);
    /* The registers the backend holds and those of struct vcpu; not the
     * FPU, which the CPU shares among vCPUs (vcpustate.h). */
    if (vcpu_set_arch_state(v, &c, err, sizeof(err)) < 0) {
        domain_fail(v->dom, "cannot start vCPU %u: %s", v->id, err);
        return false;
    }
    /* Nothing of its life before the INIT remains pending. */
    if (v->irq_window) {
        vcpu_backend(v)->irq_window(v, false);
        v->irq_window = false;
    }
    v->blocked = false;
    /* Counted with the notes: a guest that starts its APs over and over
     * must not flood the console either. */
    note(v, "started by a STARTUP IPI in real mode at %#x (CS %#x)", v->start_vector << 12,
         v->start_vector << 8);
    return true;
}

bool smp_park(struct vcpu *v)
{
    struct domain *d = v->dom;
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *w = d->vcpu[i];
        if (w != v && w->mp_state == VCPU_MP_RUNNING) {
            v->mp_state = VCPU_MP_STOPPED;
            if (d->host->opt.trace)
                hv_log("domain %u vCPU %u: halted with IF=0: stopped until an INIT", d->id, v->id);
            return true;
        }
    }
    return false;
}

bool smp_may_wake(const struct vcpu *v)
{
    const struct domain *d = v->dom;
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        const struct vcpu *w = d->vcpu[i];
        if (w != v && w->mp_state == VCPU_MP_RUNNING && !w->blocked)
            return true;
    }
    return false;
}

bool smp_vcpu_down(struct vcpu *v)
{
    if (v->id == 0)
        return false;
    /* As an INIT leaves an AP (init_ipi above): waiting for a STARTUP,
     * its local APIC reset, nothing pending.  The run loop sees that it
     * is no longer VCPU_MP_RUNNING and leaves it (sched.h). */
    v->mp_state = VCPU_MP_WAIT_SIPI;
    v->blocked = false;
    v->start_pending = false;
    lapic_init_reset(&v->lapic);
    v->dom->host->resched = true;
    note(v, "offline at the guest's word (HC_VCPU_DOWN)");
    return true;
}
