/*
 * irq.c - interrupts for the guest: the PC's 8259A PIC pair and 8254 PIT,
 * each vCPU's local APIC and the I/O APIC (hv/dev/), clocks for the
 * timers, and delivery into the guest through the backend.
 *
 * The wiring is a PC's: the PIT's OUT 0 drives the 8259's IRQ 0 and the
 * I/O APIC's pin 2 (ISA IRQ 0 arrives on pin 2, as QEMU's PC machine wires
 * it); the 8259's output reaches vCPU 0 through its local APIC's LINT0 in
 * ExtINT mode, which the firmware leaves on (virtual-wire mode), so a guest
 * that uses the 8259 alone still gets its interrupts; the I/O APIC's
 * messages and the APIC timer go to the local APIC, whose priority rules
 * (the PPR) decide what it hands the CPU.  When both have one, the 8259's
 * ExtINT is taken first: it bypasses the APIC's priorities (SDM vol 3A
 * 11.5.1 "Local Vector Table", delivery mode ExtINT), as on QEMU.
 *
 * Delivery follows the rules of the CPU (SDM vol 3A 6.8.1 "Masking Maskable Hardware Interrupts",
 * APM vol 2 8.5 "Priorities"): an external interrupt is taken only at an instruction boundary with
 * RFLAGS.IF = 1 and outside the one-instruction shadow of STI or MOV SS.
 * Before every VM entry hv looks at the controllers; if one has an
 * interrupt and the guest can take it now, the backend injects it
 * (EVENTINJ / VM-entry interruption information) and the controller is
 * acknowledged, as the CPU's INTA cycle would; if the guest cannot, hv asks
 * for an interrupt window exit (VINTR / interrupt-window exiting) and
 * injects at that exit.
 *
 * The guest's time only advances when hv looks: interrupts arrive at VM
 * exits (port I/O, HLT, ...).  A guest spinning without exits sees its
 * timer interrupt at its next exit.
 */
#include "hvkit/abi.h"
#include "klib.h"

#include "benchcount.h"
#include "cpu.h"
#include "hv.h"
#include "log.h"
#include "exitpath.h"
#include "nmi.h"
#include "smp.h"

/* The TSC rate, measured at start-up, and the TSC at time 0 of the PIT.  Set
 * once by irq_init() and only read afterwards. */
static uint64_t tsc_hz, tsc_zero;

/* Outer machine ports used to measure the TSC: PIT channel 2, whose gate
 * and OUT are in port 0x61 (bit 0 gate, bit 1 speaker, bit 5 OUT2). */
#define OUTER_PIT_CH2 0x42
#define OUTER_PIT_CMD 0x43
#define PORT_B        0x61

/* Count of about 10 ms at 1.193182 MHz. */
#define CAL_COUNT 11932u

/* Measure the TSC against the outer machine's PIT channel 2 in mode 0: the
 * TSC ticks between loading the count and OUT2 rising give its rate. */
static uint64_t measure_tsc_hz(void)
{
    /* Port 0x61 also drives the speaker and NMI masks: put it back after. */
    uint8_t saved = inb(PORT_B);
    /* Gate on, speaker off. */
    outb(PORT_B, (uint8_t)((saved & ~0x02) | 0x01));
    /* Channel 2, LSB then MSB, mode 0, binary. */
    outb(OUTER_PIT_CMD, 0xb0);
    /* In mode 0 the count starts when its second byte is written and OUT
     * goes high when it reaches zero (8254 datasheet, "Mode 0: Interrupt
     * on Terminal Count"), so t0 is taken right after that write. */
    outb(OUTER_PIT_CH2, CAL_COUNT & 0xff);
    outb(OUTER_PIT_CH2, CAL_COUNT >> 8);
    uint64_t t0 = rdtsc(), t1 = t0;
    /* Bounded: a machine without a PIT must not hang hv here. */
    for (unsigned long i = 0; i < 100000000ul; i++) {
        if (inb(PORT_B) & 0x20) {
            t1 = rdtsc();
            break;
        }
    }
    outb(PORT_B, saved);
    /* OUT2 never rose: no outer PIT, or an emulator that does not model
     * port 0x61 bit 5. */
    if (t1 == t0)
        return 0;
    /* TSC ticks per PIT tick, times PIT ticks per second.  The product
     * fits: 10 ms of a 10 GHz TSC times 1.19 MHz is about 1.2e14. */
    return (t1 - t0) * PIT_HZ / CAL_COUNT;
}

/* The PIT's clock: TSC ticks since start-up in PIT input clocks, split so
 * that the multiplication cannot overflow 64 bits. */
static uint64_t pit_clock(void *ctx)
{
    (void)ctx;
    /* The TSC is monotonic on the CPUs and emulators hv runs on. */
    BENCH_COUNT(clock_reads);
    uint64_t d = rdtsc() - tsc_zero;
    /* Whole seconds times the rate, plus the fraction of the last one. */
    return d / tsc_hz * PIT_HZ + d % tsc_hz * PIT_HZ / tsc_hz;
}

/* The host's part, once for all domains: measure the clock every guest
 * PIT counts with, and decide whether interrupts can be delivered at all
 * with this backend. */
void irq_clock_init(struct host *h)
{
    tsc_hz = measure_tsc_hz();
    if (tsc_hz == 0) {
        /* No outer PIT answered: guess 1 GHz so guest time still moves. */
        tsc_hz = 1000000000ull;
        hv_log("irq: could not measure the TSC; assuming 1 GHz for the guest's timer");
    }
    /* The guests' PIT time 0 is now, just before one can program a PIT. */
    tsc_zero = rdtsc();
    /* Delivery needs both optional backend operations. */
    h->irq = h->be->inject_interrupt && h->be->irq_window;
    /* The models exist either way (a guest may program them and poll);
     * only delivery depends on the backend. */
    hv_log("irq: 8259A PIC pair and 8254 PIT at the PC ports, local and I/O APIC, TSC %llu kHz; "
           "interrupts %s",
           (unsigned long long)(tsc_hz / 1000),
           h->irq ? "delivered" : "not delivered (the backend cannot inject them)");
}

void irq_clock_base(uint64_t *hz, uint64_t *zero)
{
    *hz = tsc_hz;
    *zero = tsc_zero;
}

/* The ACPI PM timer's clock (3.579545 MHz), split like pit_clock(). */
static uint64_t pm_timer_clock(void *ctx)
{
    (void)ctx;
    uint64_t d = rdtsc() - tsc_zero;
    return d / tsc_hz * ACPI_PM_TMR_HZ + d % tsc_hz * ACPI_PM_TMR_HZ / tsc_hz;
}

/* The local APIC's input clock: 1 GHz, as QEMU's APIC runs, so a guest
 * calibrating the APIC timer against the PIT measures the same rate on
 * both: nanoseconds of TSC time, split like pit_clock(). */
static uint64_t apic_bus_clock(void *ctx)
{
    (void)ctx;
    BENCH_COUNT(clock_reads);
    uint64_t d = rdtsc() - tsc_zero;
    return d / tsc_hz * 1000000000ull + d % tsc_hz * 1000000000ull / tsc_hz;
}

/* `ticks` of the host's TSC in nanoseconds, with the rate measured at
 * start-up: a vCPU's run time as a snapshot's VM clock (vmsave.c). */
uint64_t irq_tsc_to_ns(uint64_t ticks)
{
    return ticks / tsc_hz * 1000000000ull + ticks % tsc_hz * 1000000000ull / tsc_hz;
}

/* The guest's TSC, for the TSC-deadline timer: the host's plus the offset
 * a guest WRMSR to the TSC set (core/msr.c). */
static uint64_t guest_tsc(void *ctx)
{
    const struct vcpu *v = ctx;
    BENCH_COUNT(clock_reads);
    return rdtsc() + v->tsc_offset;
}

/* The I/O APIC's messages go over the APIC bus to every local APIC, each
 * of which accepts those addressed to it. */
static void apic_bus_send(void *ctx, const struct apic_msg *m)
{
    struct domain *d = ctx;
    for (unsigned i = 0; i < d->nr_vcpus; i++)
        lapic_bus_deliver(&d->vcpu[i]->lapic, m);
}

/* MAXPHYADDR (CPUID 0x80000008 EAX bits 7:0, 36 without the leaf): the
 * bits of IA32_APIC_BASE above it are reserved. */
static uint8_t phys_bits(void)
{
    if (cpuid(0x80000000u).eax < 0x80000008u)
        return 36;
    return (uint8_t)cpuid(0x80000008u).eax;
}

/* Put a device's page on the domain's MMIO bus and in its memory map, so
 * that the guest's accesses there exit to the model (memmap.h). */
static void add_mmio_page(struct domain *d, struct mmio_device *m, const char *name, uint64_t base,
                          uint64_t (*rd)(void *, uint64_t, uint8_t),
                          void (*wr)(void *, uint64_t, uint8_t, uint64_t), void *ctx)
{
    char err[128];
    *m = (struct mmio_device){
        .name = name, .base = base, .size = 0x1000, .read = rd, .write = wr, .ctx = ctx};
    /* Onto the MMIO bus and into the memory map as the device's MMIO, both
     * or neither (domain.c).  Cannot fail on a PC layout: nothing else
     * lives at the APICs' addresses (say so if that ever changes). */
    if (domain_add_mmio(d, m, err, sizeof(err)) < 0)
        hv_log("irq: %s page at %#llx: %s", name, (unsigned long long)base, err);
}

/* A domain's part: reset its PIC, PIT and I/O APIC models and put them on
 * its buses. */
void irq_domain_init(struct domain *d)
{
    /* Both models start as a guest could find them after the firmware:
     * the PICs fully masked (with the BIOS's vectors 8 and 0x70), the
     * PIT's counters unprogrammed. */
    pic_init_state(&d->pic);
    pit_init_state(&d->pit, pit_clock, NULL);
    /* The guest reaches them at the PC's standard ports (0x20/0x21,
     * 0xa0/0xa1, the ELCRs at 0x4d0/0x4d1, 0x40-0x43). */
    iobus_add(&d->io, &d->pic.master.dev);
    iobus_add(&d->io, &d->pic.slave.dev);
    iobus_add(&d->io, &d->pic.elcr_dev);
    iobus_add(&d->io, &d->pit.dev);
    /* The I/O APIC: every pin masked, as the firmware leaves it (QEMU's
     * SeaBIOS does not program it). */
    /* The ACPI fixed hardware (dev/acpi_pm.h): its PM timer counts host
     * time like the PIT, its ports are PIIX4's. */
    acpi_pm_init(&d->acpi, pm_timer_clock, NULL);
    iobus_add(&d->io, &d->acpi.dev);
    iobus_add(&d->io, &d->acpi.smi);
    ioapic_init_state(&d->ioapic, apic_bus_send, d);
    add_mmio_page(d, &d->ioapic_mmio, "I/O APIC", IOAPIC_DEFAULT_BASE, ioapic_mmio_read,
                  ioapic_mmio_write, &d->ioapic);
}

/* The local APIC page is one MMIO device for the domain, but each CPU
 * that accesses it reaches its own APIC there (SDM vol 3A 11.4.1 "The
 * Local APIC Block Diagram": every processor sees its local APIC at the
 * same address): the vCPU whose exit is being handled is the one the CPU
 * has loaded (run.c).  Outside an exit (a front-end's read) it is vCPU 0. */
static struct lapic *accessing_apic(struct domain *d)
{
    struct vcpu *v = d->host ? d->host->loaded : NULL;
    return v && v->dom == d ? &v->lapic : &d->vcpu[0]->lapic;
}

static uint64_t lapic_page_read(void *ctx, uint64_t offset, uint8_t size)
{
    return lapic_mmio_read(accessing_apic(ctx), offset, size);
}

static void lapic_page_write(void *ctx, uint64_t offset, uint8_t size, uint64_t value)
{
    lapic_mmio_write(accessing_apic(ctx), offset, size, value);
}

/* A vCPU's local APIC, as the firmware leaves the boot CPU's (enabled at
 * 0xfee00000, software-enabled, virtual-wire mode); an application
 * processor's as power-up leaves it (enabled, no BSP flag, software-
 * disabled until the guest starts and sets it up: SeaBIOS does not touch
 * the APs' APICs, and the INIT that starts them resets them anyway); its
 * EOIs of level-triggered vectors go to the domain's I/O APIC, its IPIs to
 * the domain's other vCPUs (core/smp.c).  vCPU 0's page goes on the MMIO
 * bus, for every vCPU. */
void irq_vcpu_init(struct vcpu *v)
{
    struct domain *d = v->dom;
    lapic_init_state(&v->lapic, v->id, v->id == 0, phys_bits(), apic_bus_clock, guest_tsc, v);
    if (v->id == 0)
        lapic_firmware_setup(&v->lapic);
    v->lapic.eoi = ioapic_eoi;
    v->lapic.eoi_ctx = &d->ioapic;
    smp_vcpu_init(v);
    if (v->id == 0)
        add_mmio_page(d, &d->lapic_mmio, "local APIC", lapic_base(&v->lapic), lapic_page_read,
                      lapic_page_write, d);
}

/* The guest moved its APIC (IA32_APIC_BASE bits 12 and up): the page
 * follows on the MMIO bus.  The memory map keeps the page at its first
 * address (memmap.h has no removal): the second-level tables never map
 * RAM there, which is all it decides. */
void irq_apic_base_changed(struct vcpu *v)
{
    struct domain *d = v->dom;
    uint64_t base = lapic_base(&v->lapic);
    if (v->id != 0 || d->lapic_mmio.base == base)
        return;
    mmio_remove(&d->mmio, &d->lapic_mmio);
    d->lapic_mmio.base = base;
    /* A base on top of another device (or RAM the guest gave up) leaves
     * the APIC unreachable by MMIO, as overlapping decoders would. */
    if (mmio_add(&d->mmio, &d->lapic_mmio) < 0)
        hv_log("irq: the guest moved its local APIC to %#llx, over another device: the page is "
               "not reachable there",
               (unsigned long long)base);
}

/* Let time pass for the timers vCPU `v` sees.  The PIT's OUT 0 reaches the
 * 8259's IRQ 0 and the I/O APIC's pin 2: a rising edge since the last look
 * is latched (both edge triggered as a PC programs them).  Returns true
 * when a timer fired, whether or not its interrupt got past a mask. */
static bool update_timers(struct vcpu *v)
{
    struct domain *d = v->dom;
    bool fired = false;
    /* The clock (a TSC read and two divisions) only while channel 0
     * counts: without a count there is no edge, and most exits of most
     * guests come with the PIT idle. */
    if (d->pit.ch[0].counting && pit_irq0_edge(&d->pit, pit_clock(NULL))) {
        /* Raise then lower the line: the PIC latches the edge in its IRR;
         * several ticks missed between two looks give one interrupt, as
         * a real PIC would give while the CPU had interrupts off. */
        pic_set_irq(&d->pic, 0, true);
        pic_set_irq(&d->pic, 0, false);
        ioapic_set_irq(&d->ioapic, 2, true);
        ioapic_set_irq(&d->ioapic, 2, false);
        fired = true;
    }
    /* The APIC timer raises its vector in the local APIC's IRR. */
    if (lapic_update_timer(&v->lapic))
        fired = true;
    return fired;
}

/* COM1's interrupt output is ISA IRQ 4: the 8259's IR4 and the I/O APIC's
 * pin 4.  Both are driven when it changes (edge-triggered inputs latch its
 * rising edge); the UART changes only on port accesses, so looking before
 * each entry is enough. */
static void update_uart(struct domain *d)
{
    bool line = uart_irq(&d->com1);
    if (line == d->com1_irq)
        return;
    d->com1_irq = line;
    pic_set_irq(&d->pic, 4, line);
    ioapic_set_irq(&d->ioapic, 4, line);
}

/* The ACPI SCI is ISA IRQ 9, level-triggered (the FADT's SCI_INT): the
 * 8259's IR9 and the I/O APIC's pin 9 follow the model's line.  The power
 * button pressed by the host (domain_request_powerdown) reaches the model
 * here, before an entry or while the guest waits in HLT. */
static void update_sci(struct domain *d)
{
    if (d->powerdown_pending) {
        d->powerdown_pending = false;
        acpi_pm_power_button(&d->acpi);
    }
    if (d->acpi.sci == d->sci_irq)
        return;
    d->sci_irq = d->acpi.sci;
    pic_set_irq(&d->pic, ACPI_SCI_IRQ, d->sci_irq);
    ioapic_set_irq(&d->ioapic, ACPI_SCI_IRQ, d->sci_irq);
}

/* Does the 8259's INTR output reach `v`?  Only vCPU 0's LINT0 is wired to
 * it (domain.h), and only while LINT0 passes ExtINT (or the APIC is off). */
static bool pic_reaches(const struct vcpu *v)
{
    return v->id == 0 && lapic_extint_open(&v->lapic) && pic_pending(&v->dom->pic) >= 0;
}

/* What the CPU's INTR input says: the 8259's vector through LINT0, else
 * the local APIC's. */
int irq_pending(struct vcpu *v)
{
    if (pic_reaches(v))
        return pic_pending(&v->dom->pic);
    return lapic_pending(&v->lapic);
}

/* The CPU's interrupt acknowledge, from the source irq_pending() chose:
 * the 8259's INTA cycle, or the APIC moving IRR to ISR. */
static int irq_acknowledge(struct vcpu *v)
{
    if (pic_reaches(v))
        return pic_acknowledge(&v->dom->pic);
    return lapic_acknowledge(&v->lapic);
}

/* Turn the interrupt-window request on or off, calling the backend only
 * when it changes. */
static void want_window(struct vcpu *v, bool on)
{
    /* The backend's operation edits its control structure (VMCB V_IRQ or
     * the VMCS controls); skipping redundant calls keeps exits cheap. */
    if (v->irq_window != on) {
        vcpu_backend(v)->irq_window(v, on);
        v->irq_window = on;
    }
}

/* After every exit: a MOV to CR8 the guest made since the entry changed
 * the backend's virtual TPR, which the backend copied into v->tpr; the
 * APIC's TPR takes it, so that its priorities (and an xAPIC or x2APIC read
 * of the TPR) agree with CR8.  A TPR the guest set through the APIC page
 * keeps its low bits as long as CR8 was not written. */
void irq_after_exit(struct vcpu *v)
{
    if (v->tpr != (uint8_t)v->lapic.tpr) {
        v->lapic.tpr = v->tpr;
        /* A TPR lowered without an exit may let in an interrupt the last
         * look found held back: look again before the next entry. */
        v->irq_idle = false;
    }
}

/* Could a timer fire for `v` (the PIT's channel 0 counts, or its local
 * APIC timer is armed)? */
static bool timer_running(const struct vcpu *v)
{
    return v->dom->pit.ch[0].counting || lapic_timer_armed(&v->lapic);
}

/* Called before every VM entry: the one place interrupts reach the guest. */
EXIT_PATH void irq_before_entry(struct vcpu *v)
{
    struct domain *d = v->dom;
    /* CR8 reads what the APIC's TPR holds now, however it was set. */
    v->tpr = (uint8_t)v->lapic.tpr;
    /* A latched NMI goes before any interrupt (SDM vol 3A 6.9 "Priority
     * Among Concurrent Exceptions and Interrupts"); rare, so its own
     * function (nmi.c).  It may need the interrupt window kept open. */
    bool nmi_wants_window = v->nmi_pending && nmi_before_entry(v);
    /* Without the backend's operations the interrupts stay pending. */
    if (!d->host->irq)
        return;
    /* The common case, kept cheap: the last look found nothing and no
     * timer running, and no exit since could have changed a controller
     * (domain.h irq_epoch: only CPUIDs and OUTs to ports nobody owns).
     * Then this look would find nothing either: a timer is started only
     * by a device access, which moves the count. */
    if (v->irq_idle && v->irq_seen_epoch == d->irq_epoch)
        return;
    v->irq_seen_epoch = d->irq_epoch;
    v->irq_idle = false;
    /* Let time catch up first: a tick may have passed since the exit; and
     * the UART may have raised or dropped its line. */
    update_timers(v);
    update_uart(d);
    update_sci(d);
    /* Nothing requested, or everything masked or lower priority than the
     * interrupt in service: no window needed either. */
    if (irq_pending(v) < 0) {
        want_window(v, nmi_wants_window);
        /* Idle until a device access, unless time can change that (or an
         * NMI waits: nmi.c). */
        v->irq_idle = !timer_running(v) && !v->nmi_pending;
        return;
    }
    /* Can the guest take it at this instruction boundary?.  event_pending: an
     * exception (or an interrupted delivery) already occupies the one
     * injection slot of this entry; the interrupt waits for the window exit,
     * which comes after that event is delivered. */
    vcpu_need(v, VCPU_RFLAGS | VCPU_INT_SHADOW);
    if ((v->rflags & RFLAGS_IF) && !v->int_shadow && !v->event_pending) {
        /* The CPU's interrupt acknowledge: the PIC or the APIC names the
         * vector and puts it in service. */
        int vector = irq_acknowledge(v);
        vcpu_backend(v)->inject_interrupt(v, (uint8_t)vector);
        /* Other IRQs may still be pending; the next entry looks again. */
        want_window(v, nmi_wants_window);
        if (d->host->opt.trace)
            hv_log("inject: external interrupt vector %d at rip %#llx", vector,
                   (unsigned long long)v->rip);
    } else {
        /* Not now: exit as soon as it can. */
        want_window(v, true);
    }
}

/* The host's TSC rate, measured by irq_clock_init(). */
uint64_t irq_tsc_hz(void)
{
    return tsc_hz;
}

/* `n` ticks of a clock running at `hz` in TSC ticks, rounded up (a
 * deadline a little late is a deadline that has passed when it comes),
 * split like pit_clock() so that it cannot overflow. */
static uint64_t to_tsc(uint64_t n, uint64_t hz)
{
    return n / hz * tsc_hz + (n % hz * tsc_hz + hz - 1) / hz;
}

/* The host TSC at which the next timer event of `v` is due: its domain's
 * PIT edge, its local APIC timer's expiry or TSC deadline; UINT64_MAX when
 * none will come.  The scheduler makes the guest exit by then, so that a
 * guest spinning without exits gets its timer interrupts on time. */
uint64_t irq_next_event(struct vcpu *v)
{
    struct domain *d = v->dom;
    uint64_t now = rdtsc(), best = UINT64_MAX, left;
    /* PIT channel 0: clocks until OUT 0 rises (pit8254.h). */
    if (d->pit.ch[0].counting) {
        left = pit_next_edge(&d->pit, pit_clock(NULL));
        if (left != UINT64_MAX)
            best = now + to_tsc(left, PIT_HZ);
    }
    /* The APIC timer: bus clocks (1 GHz) until its expiry, or, in the
     * TSC-deadline mode, the guest TSC it waits for (the guest's TSC is
     * the host's plus tsc_offset, so the difference is in host ticks). */
    left = lapic_timer_bus_left(&v->lapic);
    if (left != UINT64_MAX && now + to_tsc(left, 1000000000ull) < best)
        best = now + to_tsc(left, 1000000000ull);
    if (lapic_timer_armed(&v->lapic) && v->lapic.tsc_deadline) {
        uint64_t g = now + v->tsc_offset;
        uint64_t at = v->lapic.tsc_deadline > g ? now + (v->lapic.tsc_deadline - g) : now;
        if (at < best)
            best = at;
    }
    return best;
}

/* A blocked vCPU (in HLT): has a timer fired, or is an interrupt pending,
 * so that it can run again?  A timer that fired wakes it even if a mask
 * or the APIC's priorities then hold its interrupt back (a real CPU would
 * sleep on; a guest's HLT loop cannot tell the difference). */
bool irq_wakeup(struct vcpu *v)
{
    /* An NMI the host sent (nmi.c, which unblocks the vCPU itself). */
    if (v->nmi_pending)
        return true;
    if (update_timers(v))
        return true;
    update_uart(v->dom);
    update_sci(v->dom);
    return irq_pending(v) >= 0;
}

/* HLT with IF=1: should the vCPU block until an interrupt (true), or does
 * HLT complete at once (false: one is pending, or nothing could ever come)?
 * The scheduler (run.c) runs the other vCPUs while it is blocked and wakes
 * it with irq_wakeup(). */
bool irq_halt(struct vcpu *v)
{
    struct domain *d = v->dom;
    /* Without delivery nothing could wake the guest: treat HLT as done. */
    if (!d->host->irq)
        return false;
    update_timers(v);
    /* Already something to deliver: irq_before_entry() injects it. */
    if (irq_pending(v) >= 0 || v->nmi_pending)
        return false;
    /* Sleep only if a timer will fire: the PIT's next rising edge or the
     * APIC timer's expiry, or if another vCPU of the domain runs and may
     * send an IPI (core/smp.c).  With none of these (channel 0 idle or a
     * spent one-shot, the APIC timer stopped or masked, no other CPU) HLT
     * completes at once (README "Decisions"). */
    return irq_next_event(v) != UINT64_MAX || smp_may_wake(v);
}
