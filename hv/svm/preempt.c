/*
 * preempt.c - ending a guest's time on the CPU when the core's scheduler
 * says so (core/backend.h set_deadline), for SVM: an NMI watchdog.
 *
 * SVM has no timer of its own that counts while the guest runs (VT-x has
 * the VMX-preemption timer, vmx/preempt.c, which needs nothing of what
 * follows).  What it has are intercepts of the physical events that
 * arrive while a guest runs (APM vol 2 15.13 "Interrupt Intercepts").  So
 * hv makes such an event at the deadline with a timer of the outer
 * machine: channel 0 of the outer 8254 PIT in mode 0 ("interrupt on
 * terminal count": OUT 0 rises once when the count runs out).
 *
 * Which event.  A maskable interrupt with the INTR intercept (15.13.1
 * "INTR Intercept") would do on paper: with V_INTR_MASKING the host's
 * RFLAGS.IF at VMRUN, not the guest's, decides whether it is taken
 * (15.21.1 "Physical (INTR) Interrupt Masking in EFLAGS").  QEMU's SVM
 * does that; Bochs 2.7's exits on a physical interrupt only while the
 * guest itself has IF=1, so there a guest spinning with `cli; jmp .`
 * would keep the CPU (docs/emulators.md).  An NMI is masked by no IF.  So
 * hv programs the outer I/O APIC's redirection entry for the PIT with NMI
 * delivery to this CPU's local APIC, and intercepts NMI (15.13.2 "NMI
 * Intercept"): OUT 0's rising edge ends the guest's run with
 * #VMEXIT(NMI) whatever the guest's IF, on both emulators.  One
 * mechanism for every SVM machine; IRQ 0 stays masked in the outer 8259
 * as main.c left it, the 8259's output stays away from the CPU (LINT0
 * masked, mask_outer_lint0()), and hv takes no maskable interrupt at all.
 *
 * GIF.  The NMI that made the exit is not used up by it: it stays pending
 * (as the INTR intercept leaves its interrupt pending), and is taken when
 * the global interrupt flag allows (15.17 "Global Interrupt Flag, STGI
 * and CLGI Instructions": while GIF = 0 NMIs are held pending; #VMEXIT
 * clears GIF).  hv keeps GIF = 0 all the time outside VMRUN: CLGI once in
 * svm_preempt_init(), and no STGI after #VMEXIT (enter.S).  That makes the
 * watchdog race-free: a deadline that passes while hv itself runs (an
 * exit being handled, a vCPU switch) leaves its NMI pending, and the next
 * VMRUN exits at once, before the guest's first instruction.  After
 * #VMEXIT(NMI), svm_preempt_ack() opens GIF for a moment (STGI ... CLGI):
 * the NMI is taken through hv's own IDT, whose vector 2 only counts it and
 * returns (boot/traps.S; its IRETQ ends the CPU's NMI blocking, SDM vol 3A
 * 6.7.1 "Handling Multiple NMIs", so the next one can come).
 *
 * hv's NMIs and the guests' never meet.  A physical NMI is the outer
 * machine's, in practice always the watchdog's, and is only ever an exit
 * (EXIT_INTERRUPT for the core) and a count in hv.  A guest's NMIs (the
 * NMI button, core/nmi.c) are events hv injects through EVENTINJ into the
 * guest's own IDT, with the guest's NMI blocking kept by nmi.c; no IDT of
 * hv sees them.
 */
#include "klib.h"

#include "core/cpu.h"
#include "core/hv.h"
#include "core/log.h"
#include "core/trap.h"
#include "dev/ioapic.h"
#include "dev/lapic.h"
#include "dev/pit8254.h"
#include "internal.h"

/* The outer machine's PIT channel 0 and mode register (a PC's fixed
 * addresses). */
#define OUTER_PIT_CH0 0x40
#define OUTER_PIT_CMD 0x43

/* PIT mode word: channel 0, low then high byte, mode 0, binary (8254
 * data sheet, "Control Word Format"). */
#define PIT_CH0_MODE0 0x30

/* The I/O APIC input the PIT's OUT 0 drives: ISA IRQ 0 goes to pin 2 on
 * QEMU's PC and on Bochs, which is what their ACPI tables say with an
 * interrupt source override (ACPI 6.4 5.2.12.5 "Interrupt Source
 * Override Structure"); pin 0 is the 8259's output. */
#define OUTER_PIT_PIN 2

/* How long svm_preempt_ack() waits for the pending NMI to be taken once
 * GIF is open: the emulators deliver it at the first instruction
 * boundary, so this bound is only for an NMI that was not pending after
 * all (PAUSE loops, far less than a microsecond each). */
#define NMI_TAKE_TRIES 64

/* The deadline the PIT is counting towards, so that an unchanged one costs
 * no port writes (each is an access to an emulated device); UINT64_MAX:
 * the PIT is not counting for hv. */
static uint64_t armed = UINT64_MAX;

/* The PIT's edges reach this CPU as NMIs (svm_preempt_init() found the
 * outer I/O APIC): the watchdog, and svm_host_wait()'s alarm clock. */
static bool nmi_timer;

/* Write I/O APIC register `reg` through the index and data windows
 * (82093AA data sheet 3.1 "Memory Mapped Registers for Accessing IOAPIC
 * Registers").  hv maps the low 4 GiB one to one (boot/entry.S), so the
 * physical address is the pointer. */
static void outer_ioapic_write(uint32_t reg, uint32_t value)
{
    volatile uint32_t *io = (volatile uint32_t *)(uintptr_t)IOAPIC_DEFAULT_BASE;
    /* Select the register, then write it: 32-bit accesses only. */
    io[IOAPIC_IOREGSEL / 4] = reg;
    io[IOAPIC_IOWIN / 4] = value;
}

/* Read I/O APIC register `reg` (as above). */
static uint32_t outer_ioapic_read(uint32_t reg)
{
    volatile uint32_t *io = (volatile uint32_t *)(uintptr_t)IOAPIC_DEFAULT_BASE;
    io[IOAPIC_IOREGSEL / 4] = reg;
    return io[IOAPIC_IOWIN / 4];
}

/* How long svm_preempt_init() waits for the NMI of its one-tick count:
 * PAUSE loops, an upper bound only (the emulators deliver the PIT's edge
 * within a millisecond; an emulator whose PIT never raises one costs this
 * once, at start-up). */
#define FIRST_NMI_TRIES 20000000u

/* Open GIF until an NMI is taken through hv's IDT (vector 2 counts it in
 * hv_nmis), at most `tries` PAUSE loops, then close it again.  hv's IF is
 * 0, which masks nothing else that could come: no maskable interrupt is
 * unmasked anywhere.  The loop's branch also ends an emulator's block of
 * instructions, where it looks for pending events. */
static void take_nmi(unsigned tries)
{
    uint32_t seen = hv_nmis;
    __asm__ volatile("stgi" ::: "memory");
    for (unsigned i = 0; i < tries && hv_nmis == seen; i++)
        __asm__ volatile("pause");
    __asm__ volatile("clgi" ::: "memory");
}

/* With the I/O APIC's entry open: give channel 0 a count of one tick in
 * mode 0 and take the NMI of its end (held while GIF is 0, taken when
 * take_nmi() opens it); then the mode word stops the channel (OUT 0 low,
 * no count, nothing scheduled). */
static void pit_quiesce(void)
{
    outb(OUTER_PIT_CMD, PIT_CH0_MODE0);
    outb(OUTER_PIT_CH0, 1);
    outb(OUTER_PIT_CH0, 0);
    take_nmi(FIRST_NMI_TRIES);
    outb(OUTER_PIT_CMD, PIT_CH0_MODE0);
}

/*
 * Mask LINT0 of this CPU's local APIC, where the firmware left the outer
 * 8259's output (ExtINT, the PC's "virtual wire"; SDM vol 3A 11.5.1
 * "Local Vector Table": a set mask bit "inhibits reception of the
 * interrupt").  hv takes no interrupt from the 8259 (main.c masks every
 * IRQ there), so nothing is lost.  What goes is a race in QEMU 7.2's TCG
 * that can strand the watchdog's NMI (docs/emulators.md, "Taking the
 * processor back from a spinning guest").  The PIT's OUT 0 drives ISA IRQ
 * 0 on the 8259 as well as the I/O APIC's pin 2, and with LINT0 unmasked
 * every change of the 8259's output (the PIT's own edges, a byte on a
 * serial port) posts the CPU a request to look at its APIC again, from
 * the emulator's I/O thread, beside the NMI.  The CPU takes one request
 * per look, the APIC's before the NMI; when the wake-up that came with
 * the NMI has been used up by an earlier look, the NMI stays pending while
 * a guest spinning in code the emulator chained to itself never looks
 * again: no #VMEXIT(NMI), and hv, its control channel with it, never runs
 * again.  With LINT0 masked the emulator ignores the 8259's output, and
 * the NMI is the only request the CPU ever has to take.
 */
static void mask_outer_lint0(void)
{
    /* IA32_APIC_BASE: the global enable, x2APIC mode, and bits 51:12 the
     * register page (SDM vol 3A 11.4.4 "Local APIC Status and
     * Location"). */
    uint64_t base = rdmsr(MSR_APIC_BASE);
    /* A disabled APIC delivers nothing through LINT0 at all. */
    if (!(base & APIC_BASE_EN))
        return;
    /* In x2APIC mode the register is MSR 800H plus its offset / 16 (SDM
     * vol 3A 11.12.1.2 "x2APIC Register Address Space"). */
    if (base & APIC_BASE_EXTD) {
        uint32_t msr = 0x800u + (LAPIC_LVT_LINT0 >> 4);
        wrmsr(msr, rdmsr(msr) | APIC_LVT_MASKED);
        return;
    }
    /* Otherwise at its offset in the page, which hv maps one to one below
     * 4 GiB (boot/entry.S), as the I/O APIC above. */
    volatile uint32_t *lint0 =
        (volatile uint32_t *)(uintptr_t)((base & 0x000ffffffffff000ull) + LAPIC_LVT_LINT0);
    *lint0 |= APIC_LVT_MASKED;
}

/* See internal.h: from svm_enable(), before the first deadline. */
void svm_preempt_init(void)
{
    /* GIF = 0 from here on, outside VMRUN (see the top of this file):
     * a watchdog NMI that comes while hv runs waits for the next VMRUN. */
    __asm__ volatile("clgi" ::: "memory");
    /* The version register: bits 23:16 are the highest entry's number
     * (82093AA 3.2.2 "IOAPICVER--IOAPIC VERSION REGISTER"); no I/O APIC
     * at all reads as all ones. */
    uint32_t ver = outer_ioapic_read(IOAPIC_REG_VER);
    if (ver == 0xffffffffu || ((ver >> 16) & 0xff) < OUTER_PIT_PIN) {
        hv_log("svm: no outer I/O APIC (version register %#x): a guest that never exits "
               "keeps the CPU",
               ver);
        return;
    }
    /* Stop the PIT before its edges become NMIs: the firmware leaves
     * channel 0 running as an 18.2 Hz square wave (mode 3), and the mode
     * word alone stops it until hv writes a count (set_deadline). */
    outb(OUTER_PIT_CMD, PIT_CH0_MODE0);
    /* This CPU's local APIC ID, the message's destination: CPUID 1 EBX
     * bits 31:24, the initial APIC ID (APM vol 3 E.3.2 "Function
     * 1h-Processor and Processor Feature Identifiers"). */
    uint32_t apic_id = cpuid(1).ebx >> 24;
    /* The entry's high half first, the destination in bits 63:56; then
     * the low half, which unmasks it: delivery mode NMI (bits 10:8 = 100b,
     * the vector is ignored), physical destination, active high,
     * edge-triggered as NMI delivery must be, not masked (82093AA 3.2.4
     * "IOREDTBL[23:0]--I/O Redirection Table Registers"). */
    outer_ioapic_write(IOAPIC_REG_REDTBL + 2 * OUTER_PIT_PIN + 1, apic_id << 24);
    outer_ioapic_write(IOAPIC_REG_REDTBL + 2 * OUTER_PIT_PIN, APIC_DM_NMI << APIC_DM_SHIFT);
    /* The PIT's edges reach this CPU as NMIs only, never through the
     * 8259 as well (see mask_outer_lint0()). */
    mask_outer_lint0();
    /* The mode word alone leaves an emulator free to keep the square
     * wave's next transition scheduled (QEMU does) and to raise OUT 0 once
     * more when it comes, tens of milliseconds later: an NMI no deadline
     * asked for, which the first guest would see as an exit of its own in
     * its statistics and exit budget.  A one-tick count replaces that
     * transition, and its NMI is taken here. */
    pit_quiesce();
    nmi_timer = true;
}

/* Program the outer PIT to raise OUT 0 in `ticks` PIT clocks.  Writing
 * the mode word stops the count and drops OUT 0; the second byte of the
 * count starts it; OUT 0's rising edge at the end is the NMI. */
static void pit_oneshot(uint32_t ticks)
{
    outb(OUTER_PIT_CMD, PIT_CH0_MODE0);
    outb(OUTER_PIT_CH0, (uint8_t)ticks);
    outb(OUTER_PIT_CH0, (uint8_t)(ticks >> 8));
}

/* See core/backend.h.  The PIT counts in host time, hv's and the guest's
 * alike, which is what a deadline in host TSC means. */
void svm_set_deadline(struct vcpu *vcpu, uint64_t deadline)
{
    (void)vcpu;
    /* Already counting towards it. */
    if (deadline == armed)
        return;
    armed = deadline;
    /* No deadline: the mode word alone stops the count (mode 0 waits for
     * a new one), so no edge and no NMI comes. */
    if (deadline == UINT64_MAX) {
        outb(OUTER_PIT_CMD, PIT_CH0_MODE0);
        return;
    }
    /* TSC ticks left, in PIT clocks (1.193182 MHz), rounded up.  The PIT's
     * 16-bit count reaches about 55 ms: a later deadline gets an early
     * exit, after which the core sets it again. */
    uint64_t now = rdtsc(), hz = irq_tsc_hz();
    uint64_t left = deadline > now ? deadline - now : 0;
    if (left > hz / 16)
        left = hz / 16;
    uint64_t ticks = (left * PIT_HZ + hz - 1) / hz;
    /* 0 would mean 65536 to the PIT; 1 is the soonest it can do. */
    pit_oneshot(ticks == 0 ? 1 : ticks > 0xffff ? 0xffff : (uint32_t)ticks);
}

/* See internal.h: after #VMEXIT(NMI). */
void svm_preempt_ack(void)
{
    /* The pending NMI is taken now, through hv's IDT; GIF = 0 again for
     * the rest of hv's work. */
    take_nmi(NMI_TAKE_TRIES);
    /* Mode 0 rises once: nothing is counting any more, so the next
     * deadline, even the same one, programs the PIT again. */
    armed = UINT64_MAX;
}

/*
 * See core/backend.h: halt until about `until`.  The watchdog's one-shot
 * is the alarm clock: its NMI, held while GIF = 0, is what ends HLT once
 * STGI opens GIF (APM vol 2 15.17 "Global Interrupt Flag, STGI and CLGI
 * Instructions"; hv's IF stays 0, so no maskable interrupt could).  An NMI
 * is one of the events that end the halt state, and the handler returns
 * to the instruction after the HLT (APM vol 3 "HLT"; SDM vol 2A "HLT-Halt").
 * Meanwhile the emulator's CPU thread sleeps instead of running hv's spin
 * loop: an idle domain no longer costs a host core.
 *
 * The race every sleep on an event has: the NMI may come after STGI but
 * before HLT, and HLT would then wait for one that never comes, the
 * one-shot being spent.  hv's NMI handler closes it (boot/traps.S): an
 * NMI whose return address is a HLT returns past it, as the event it
 * would have waited for has come.
 */
bool svm_host_wait(uint64_t until)
{
    /* Without the outer I/O APIC no timer could wake a HLT. */
    if (!nmi_timer)
        return false;
    /* The alarm: the same one-shot as a guest's deadline (at most the
     * PIT's reach, about 55 ms; the core asks for far less). */
    svm_set_deadline(NULL, until);
    /* Open GIF, halt until the NMI is taken (through hv's IDT, which
     * counts it), close GIF again.  STGI and HLT side by side: an NMI
     * between them returns to the HLT's address, which the handler
     * skips. */
    __asm__ volatile("stgi\n\thlt\n\tclgi" ::: "memory");
    /* The one-shot rose once and is spent (or will be: an NMI that comes
     * after CLGI is held for the next VMRUN, a harmless early exit), so
     * the next deadline, even the same one, programs the PIT again. */
    armed = UINT64_MAX;
    return true;
}
