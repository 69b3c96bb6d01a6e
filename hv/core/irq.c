/*
 * irq.c - interrupts for the guest: the PC's 8259A PIC pair and 8254 PIT
 * (hv/dev/), a clock for the PIT, and delivery of the PIC's interrupts into
 * the guest through the backend.
 *
 * Delivery follows the rules of the CPU (SDM vol 3A 6.8.1, APM vol 2 8.5):
 * an external interrupt is taken only at an instruction boundary with
 * RFLAGS.IF = 1 and outside the one-instruction shadow of STI or MOV SS.
 * Before every VM entry hv looks at the PIC; if it has an interrupt and the
 * guest can take it now, the backend injects it (EVENTINJ / VM-entry
 * interruption information) and the PIC is acknowledged, as the CPU's
 * INTA cycle would; if the guest cannot, hv asks for an interrupt window
 * exit (VINTR / interrupt-window exiting) and injects at that exit.
 *
 * The guest's time only advances when hv looks: interrupts arrive at VM
 * exits (port I/O, HLT, ...).  A guest spinning without exits sees its
 * timer interrupt at its next exit.
 */
#include "hvkit/abi.h"
#include "klib.h"

#include "cpu.h"
#include "hv.h"
#include "log.h"

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
    hv_log("irq: 8259A PIC pair and 8254 PIT at the PC ports, TSC %llu kHz; interrupts %s",
           (unsigned long long)(tsc_hz / 1000),
           h->irq ? "delivered" : "not delivered (the backend cannot inject them)");
}

/* A domain's part: reset its PIC and PIT models and put them on its port
 * bus. */
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
}

/* Let the PIT's OUT 0 reach IRQ 0: a rising edge since the last look is
 * latched by the PIC (edge triggered). */
static void update_timer(struct domain *d)
{
    if (pit_irq0_edge(&d->pit, pit_clock(NULL))) {
        /* Raise then lower the line: the PIC latches the edge in its IRR;
         * several ticks missed between two looks give one interrupt, as
         * a real PIC would give while the CPU had interrupts off. */
        pic_set_irq(&d->pic, 0, true);
        pic_set_irq(&d->pic, 0, false);
    }
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

/* Called before every VM entry: the one place interrupts reach the guest. */
void irq_before_entry(struct vcpu *v)
{
    struct domain *d = v->dom;
    /* Without the backend's operations the PIC's IRQs stay pending; the
     * PIC's output is wired to the domain's first vCPU only (domain.h). */
    if (!d->host->irq || v->id != 0)
        return;
    /* Let time catch up first: a tick may have passed since the exit. */
    update_timer(d);
    /* Nothing requested, or everything masked or lower priority than the
     * interrupt in service: no window needed either. */
    if (pic_pending(&d->pic) < 0) {
        want_window(v, false);
        return;
    }
    /* Can the guest take it at this instruction boundary?.  event_pending: an
     * exception (or an interrupted delivery) already occupies the one
     * injection slot of this entry; the interrupt waits for the window exit,
     * which comes after that event is delivered. */
    if ((v->rflags & RFLAGS_IF) && !v->int_shadow && !v->event_pending) {
        /* The CPU's interrupt acknowledge: the PIC names the vector and
         * puts the IRQ in service. */
        int vector = pic_acknowledge(&d->pic);
        vcpu_backend(v)->inject_interrupt(v, (uint8_t)vector);
        /* Other IRQs may still be pending; the next entry looks again. */
        want_window(v, false);
        if (d->host->opt.trace)
            hv_log("inject: external interrupt vector %d at rip %#llx", vector,
                   (unsigned long long)v->rip);
    } else {
        /* Not now: exit as soon as it can. */
        want_window(v, true);
    }
}

/* HLT with IF=1: sleep (spinning in hv) until an interrupt is pending, as
 * the halted CPU would; return at once when nothing could ever come. */
void irq_halt(struct vcpu *v)
{
    struct domain *d = v->dom;
    /* Without delivery nothing could wake the guest: treat HLT as done.
     * Only vCPU 0 receives the PIC's interrupts (domain.h). */
    if (!d->host->irq || v->id != 0)
        return;
    update_timer(d);
    /* Already something to deliver: irq_before_entry() injects it. */
    if (pic_pending(&d->pic) >= 0)
        return;
    /* Sleep until the PIT's next rising edge, if it will have one. */
    uint64_t now = pit_clock(NULL);
    uint64_t wait = pit_next_edge(&d->pit, now);
    /* Channel 0 not counting, or a one-shot count that already ended:
     * nothing will come, so HLT completes at once (README "Decisions"). */
    if (wait == UINT64_MAX)
        return;
    /* PAUSE tells the CPU (or the outer hypervisor) that this is a spin
     * loop; hv has nothing else to do in the meantime. */
    while (pit_clock(NULL) - now < wait)
        __asm__ volatile("pause");
    /* The edge has come: latch it so the entry injects it. */
    update_timer(d);
}
