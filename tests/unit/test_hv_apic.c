/*
 * Unit tests for hv/dev/lapic*.c and hv/dev/ioapic.c: the registers
 * programmed as a guest driver programs them, with fake clocks, checked
 * against the rules of SDM vol 3A chapter 11 "Advanced Programmable Interrupt Controller (APIC)"
 * and the 82093AA data sheet.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dev/ioapic.h"
#include "dev/lapic.h"
#include "check_main.h"

static struct lapic apic;
static uint64_t bus_time, tsc_time; /* the fake clocks */
static int eois[8], neoi;           /* vectors of EOI messages seen */

static uint64_t fake_bus(void *ctx)
{
    (void)ctx;
    return bus_time;
}

static uint64_t fake_tsc(void *ctx)
{
    (void)ctx;
    return tsc_time;
}

static void record_eoi(void *ctx, uint8_t vector)
{
    (void)ctx;
    if (neoi < 8)
        eois[neoi] = vector;
    neoi++;
}

static uint32_t rd(uint32_t off)
{
    return (uint32_t)lapic_mmio_read(&apic, off, 4);
}

static void wr(uint32_t off, uint32_t v)
{
    lapic_mmio_write(&apic, off, 4, v);
}

static void setup(void)
{
    bus_time = 5000;
    tsc_time = 100000;
    neoi = 0;
    lapic_init_state(&apic, 0, true, 40, fake_bus, fake_tsc, NULL);
    apic.eoi = record_eoi;
}

/* Enable by software, as a guest does first. */
static void enable(void)
{
    wr(LAPIC_SVR, 0x1ff);
}

START_TEST(power_on_state)
{
    uint64_t base;
    ck_assert(lapic_msr_read(&apic, MSR_IA32_APIC_BASE, &base));
    ck_assert_uint_eq(base, 0xfee00900u);
    ck_assert(lapic_mmio_enabled(&apic));
    /* QEMU's version register: 0x14 with 6 LVT entries. */
    ck_assert_uint_eq(rd(LAPIC_VERSION), 0x00050014u);
    ck_assert_uint_eq(rd(LAPIC_SVR), 0xff);
    ck_assert_uint_eq(rd(LAPIC_DFR), 0xffffffffu);
    for (uint32_t off = LAPIC_LVT_TIMER; off <= LAPIC_LVT_ERROR; off += 0x10)
        ck_assert_uint_eq(rd(off), APIC_LVT_MASKED);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    /* Globally enabled, LINT0 masked: the 8259 does not get through. */
    ck_assert(!lapic_extint_open(&apic));
    lapic_firmware_setup(&apic);
    ck_assert(lapic_extint_open(&apic));
    ck_assert_uint_eq(rd(LAPIC_SVR), 0x1ff);
    ck_assert_uint_eq(rd(LAPIC_LVT_LINT0), 0x8700u);
    ck_assert_uint_eq(rd(LAPIC_LVT_LINT1), 0x8400u);
}
END_TEST

START_TEST(priority_classes)
{
    enable();
    lapic_bus_deliver(&apic, &(struct apic_msg){.mode = APIC_DM_FIXED, .vector = 0x31});
    lapic_bus_deliver(&apic, &(struct apic_msg){.mode = APIC_DM_FIXED, .vector = 0x51});
    ck_assert_uint_eq(rd(LAPIC_IRR + 0x10), (1u << 0x11) | 0);
    ck_assert_uint_eq(rd(LAPIC_IRR + 0x20), 1u << 0x11);
    /* TPR class 4 blocks class 3, not class 5. */
    wr(LAPIC_TPR, 0x40);
    ck_assert_int_eq(lapic_pending(&apic), 0x51);
    ck_assert_int_eq(lapic_acknowledge(&apic), 0x51);
    ck_assert_uint_eq(rd(LAPIC_ISR + 0x20), 1u << 0x11);
    /* PPR: the in-service class 5 beats the TPR's 4; sub-class 0. */
    ck_assert_uint_eq(rd(LAPIC_PPR), 0x50);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    /* A vector of the class in service does not interrupt it either. */
    lapic_bus_deliver(&apic, &(struct apic_msg){.mode = APIC_DM_FIXED, .vector = 0x5f});
    ck_assert_int_eq(lapic_pending(&apic), -1);
    wr(LAPIC_EOI, 0);
    ck_assert_uint_eq(rd(LAPIC_PPR), 0x40);
    ck_assert_int_eq(lapic_pending(&apic), 0x5f);
    ck_assert_int_eq(lapic_acknowledge(&apic), 0x5f);
    wr(LAPIC_EOI, 0);
    /* TPR 0x3f: class 3 is blocked, sub-class shows in the PPR. */
    wr(LAPIC_TPR, 0x3f);
    ck_assert_uint_eq(rd(LAPIC_PPR), 0x3f);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    /* Blocked, yet requested: a lower TPR (a guest's MOV to CR8, without
     * an exit) would let it in, so the exit fast path must not run
     * (core/fastpath.c fastpath_arm()). */
    ck_assert(lapic_requested(&apic));
    wr(LAPIC_TPR, 0x2f);
    ck_assert_int_eq(lapic_pending(&apic), 0x31);
    /* Edge-triggered: EOI sends no message to the I/O APIC. */
    lapic_acknowledge(&apic);
    ck_assert(!lapic_requested(&apic));
    wr(LAPIC_EOI, 0);
    ck_assert_int_eq(neoi, 0);
}
END_TEST

START_TEST(nested_eoi_order)
{
    enable();
    lapic_bus_deliver(&apic, &(struct apic_msg){.mode = APIC_DM_FIXED, .vector = 0x40});
    ck_assert_int_eq(lapic_acknowledge(&apic), 0x40);
    /* A higher class interrupts the handler... */
    lapic_bus_deliver(&apic, &(struct apic_msg){.mode = APIC_DM_FIXED, .vector = 0x80});
    ck_assert_int_eq(lapic_acknowledge(&apic), 0x80);
    ck_assert_uint_eq(rd(LAPIC_PPR), 0x80);
    /* ...and EOI ends the highest in service first. */
    wr(LAPIC_EOI, 0);
    ck_assert_uint_eq(rd(LAPIC_ISR + 0x40), 0);
    ck_assert_uint_eq(rd(LAPIC_ISR + 0x20), 1u);
    wr(LAPIC_EOI, 0);
    ck_assert_uint_eq(rd(LAPIC_PPR), 0);
}
END_TEST

START_TEST(software_disable)
{
    enable();
    wr(LAPIC_LVT_ERROR, 0xe0);
    lapic_bus_deliver(&apic, &(struct apic_msg){.mode = APIC_DM_FIXED, .vector = 0x41});
    wr(LAPIC_SVR, 0xff);
    /* Held in IRR, not dispatched; every LVT masked and stays masked. */
    ck_assert_int_eq(lapic_pending(&apic), -1);
    ck_assert_uint_eq(rd(LAPIC_IRR + 0x20), 2u);
    ck_assert_uint_eq(rd(LAPIC_LVT_ERROR), 0x100e0u);
    wr(LAPIC_LVT_ERROR, 0xe0);
    ck_assert_uint_eq(rd(LAPIC_LVT_ERROR), 0x100e0u);
    enable();
    ck_assert_int_eq(lapic_pending(&apic), 0x41);
}
END_TEST

START_TEST(level_eoi_message)
{
    enable();
    lapic_bus_deliver(&apic, &(struct apic_msg){.mode = APIC_DM_FIXED, .vector = 0x61, .level = 1});
    ck_assert_uint_eq(rd(LAPIC_TMR + 0x30), 2u);
    ck_assert_int_eq(lapic_acknowledge(&apic), 0x61);
    wr(LAPIC_EOI, 0);
    ck_assert_int_eq(neoi, 1);
    ck_assert_int_eq(eois[0], 0x61);
}
END_TEST

START_TEST(ipi_destinations)
{
    enable();
    /* Self shorthand. */
    wr(LAPIC_ICR_LO, 0x40000 | 0x33);
    ck_assert_int_eq(lapic_pending(&apic), 0x33);
    lapic_acknowledge(&apic);
    wr(LAPIC_EOI, 0);
    /* All excluding self: nobody. */
    wr(LAPIC_ICR_LO, 0xc0000 | 0x34);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    /* Physical: our ID (0) reaches us, ID 3 does not, 0xff broadcasts. */
    wr(LAPIC_ICR_HI, 3u << 24);
    wr(LAPIC_ICR_LO, 0x35);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    wr(LAPIC_ICR_HI, 0xffu << 24);
    wr(LAPIC_ICR_LO, 0x36);
    ck_assert_int_eq(lapic_pending(&apic), 0x36);
    lapic_acknowledge(&apic);
    wr(LAPIC_EOI, 0);
    /* Logical, flat model: LDR bit 2. */
    wr(LAPIC_LDR, 0x04u << 24);
    wr(LAPIC_ICR_HI, 0x02u << 24);
    wr(LAPIC_ICR_LO, 0x800 | 0x37);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    wr(LAPIC_ICR_HI, 0x06u << 24);
    wr(LAPIC_ICR_LO, 0x800 | 0x38);
    ck_assert_int_eq(lapic_pending(&apic), 0x38);
    lapic_acknowledge(&apic);
    wr(LAPIC_EOI, 0);
    /* Cluster model: cluster 1, member bit 0. */
    wr(LAPIC_DFR, 0x0fffffffu);
    ck_assert_uint_eq(rd(LAPIC_DFR), 0x0fffffffu);
    wr(LAPIC_LDR, 0x11u << 24);
    wr(LAPIC_ICR_HI, 0x21u << 24);
    wr(LAPIC_ICR_LO, 0x800 | 0x39);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    wr(LAPIC_ICR_HI, 0x13u << 24);
    wr(LAPIC_ICR_LO, 0x800 | 0x3a);
    ck_assert_int_eq(lapic_pending(&apic), 0x3a);
    /* Delivery status always reads idle. */
    ck_assert_uint_eq(rd(LAPIC_ICR_LO) & (1u << 12), 0);
}
END_TEST

/* The ICR as a message: what an ICR write hands the core's ipi hook. */
static struct apic_msg ipi_sent;
static int nsent;
static void record_ipi(void *ctx, const struct apic_msg *m)
{
    (void)ctx;
    ipi_sent = *m;
    nsent++;
}

START_TEST(icr_message_to_the_core)
{
    enable();
    apic.ipi = record_ipi;
    nsent = 0;
    /* INIT, level assert, physical APIC ID 2 (SDM vol 3A 11.6.1 "Interrupt Command Register
     * (ICR)"). */
    wr(LAPIC_ICR_HI, 2u << 24);
    wr(LAPIC_ICR_LO, 0x4500);
    ck_assert_int_eq(nsent, 1);
    ck_assert_uint_eq(ipi_sent.mode, APIC_DM_INIT);
    ck_assert_uint_eq(ipi_sent.dest, 2);
    ck_assert(!ipi_sent.deassert && !ipi_sent.logical && ipi_sent.shorthand == APIC_SH_NONE);
    /* INIT level de-assert: level 0, trigger level, all including self. */
    wr(LAPIC_ICR_LO, 0x88500);
    ck_assert(ipi_sent.deassert && ipi_sent.level && ipi_sent.shorthand == APIC_SH_ALL);
    /* STARTUP with vector 0x70. */
    wr(LAPIC_ICR_LO, 0x4670);
    ck_assert_uint_eq(ipi_sent.mode, APIC_DM_STARTUP);
    ck_assert_uint_eq(ipi_sent.vector, 0x70);
    /* Nothing reached this APIC's IRR: the core delivers now. */
    wr(LAPIC_ICR_LO, 0x40000 | 0x44);
    ck_assert_uint_eq(ipi_sent.shorthand, APIC_SH_SELF);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    /* An illegal vector is refused by the sender (ESR bit 5), and the
     * core hears of it to log it. */
    wr(LAPIC_ICR_LO, 0x4003);
    ck_assert_int_eq(nsent, 5);
    wr(LAPIC_ESR, 0);
    ck_assert_uint_eq(rd(LAPIC_ESR) & APIC_ESR_SEND_ILLEGAL_VECTOR, APIC_ESR_SEND_ILLEGAL_VECTOR);
}
END_TEST

/* Four CPUs, APIC IDs 0-3, and who receives what (apic_ipi.c). */
static struct lapic cpus[4];
static struct lapic *cpu_ptrs[4];
static void four_cpus(void)
{
    for (unsigned i = 0; i < 4; i++) {
        lapic_init_state(&cpus[i], i, i == 0, 40, fake_bus, fake_tsc, NULL);
        cpu_ptrs[i] = &cpus[i];
    }
}

START_TEST(ipi_targets)
{
    four_cpus();
    struct apic_msg m = {.mode = APIC_DM_FIXED, .vector = 0x40};
    /* Physical: one ID, the broadcast ID, an ID nobody has. */
    m.dest = 2;
    ck_assert_uint_eq(apic_ipi_targets(cpu_ptrs, 4, 0, &m), 1u << 2);
    m.dest = 0xff;
    ck_assert_uint_eq(apic_ipi_targets(cpu_ptrs, 4, 0, &m), 0xf);
    m.dest = 7;
    ck_assert_uint_eq(apic_ipi_targets(cpu_ptrs, 4, 0, &m), 0);
    /* The shorthands, from CPU 1. */
    m.shorthand = APIC_SH_SELF;
    ck_assert_uint_eq(apic_ipi_targets(cpu_ptrs, 4, 1, &m), 1u << 1);
    m.shorthand = APIC_SH_ALL;
    ck_assert_uint_eq(apic_ipi_targets(cpu_ptrs, 4, 1, &m), 0xf);
    m.shorthand = APIC_SH_ALL_BUT;
    ck_assert_uint_eq(apic_ipi_targets(cpu_ptrs, 4, 1, &m), 0xd);
    /* A globally disabled APIC (IA32_APIC_BASE.EN = 0) takes no part. */
    cpus[3].base_msr &= ~APIC_BASE_EN;
    ck_assert_uint_eq(apic_ipi_targets(cpu_ptrs, 4, 1, &m), 0x5);
    cpus[3].base_msr |= APIC_BASE_EN;
    /* Logical flat: LDR bits of CPUs 1 and 2; lowest priority picks the
     * one with the lower TPR class, the lower ID on a tie. */
    m.shorthand = APIC_SH_NONE;
    m.logical = true;
    cpus[1].ldr = 0x02u << 24;
    cpus[2].ldr = 0x04u << 24;
    m.dest = 0x06;
    ck_assert_uint_eq(apic_ipi_targets(cpu_ptrs, 4, 0, &m), 0x6);
    m.mode = APIC_DM_LOWEST;
    ck_assert_uint_eq(apic_ipi_targets(cpu_ptrs, 4, 0, &m), 1u << 1);
    cpus[1].tpr = 0x20;
    ck_assert_uint_eq(apic_ipi_targets(cpu_ptrs, 4, 0, &m), 1u << 2);
}
END_TEST

/* INIT resets every register but the ID and IA32_APIC_BASE (11.4.7.3). */
START_TEST(init_reset_keeps_id)
{
    four_cpus();
    struct lapic *l = &cpus[2];
    lapic_mmio_write(l, LAPIC_SVR, 4, 0x1ff);
    lapic_mmio_write(l, LAPIC_TPR, 4, 0x30);
    lapic_accept_fixed(l, 0x50, false);
    uint64_t base = l->base_msr;
    lapic_init_reset(l);
    ck_assert_uint_eq(l->id, 2);
    ck_assert_uint_eq(l->base_msr, base);
    ck_assert_uint_eq(l->svr, 0xff);
    ck_assert_uint_eq(l->tpr, 0);
    ck_assert_int_eq(lapic_pending(l), -1);
    ck_assert_uint_eq(l->irr[0x50 / 32], 0);
}
END_TEST

START_TEST(errors_latch_on_esr_write)
{
    enable();
    wr(LAPIC_LVT_ERROR, 0xfe);
    /* An IPI with vector 3: a send-illegal-vector error. */
    wr(LAPIC_ICR_LO, 0x40000 | 3);
    /* Not visible until the ESR is written (11.5.3). */
    ck_assert_uint_eq(rd(LAPIC_ESR), 0);
    wr(LAPIC_ESR, 0);
    ck_assert_uint_eq(rd(LAPIC_ESR), APIC_ESR_SEND_ILLEGAL_VECTOR);
    /* The error LVT raised its vector. */
    ck_assert_int_eq(lapic_pending(&apic), 0xfe);
    /* An illegal register address. */
    wr(0x2a0, 1);
    wr(LAPIC_ESR, 0);
    ck_assert_uint_eq(rd(LAPIC_ESR), APIC_ESR_ILLEGAL_REGISTER);
    wr(LAPIC_ESR, 0);
    ck_assert_uint_eq(rd(LAPIC_ESR), 0);
    /* A fixed vector below 16 from the bus: received illegal vector. */
    lapic_bus_deliver(&apic, &(struct apic_msg){.mode = APIC_DM_FIXED, .vector = 7});
    wr(LAPIC_ESR, 0);
    ck_assert_uint_eq(rd(LAPIC_ESR), APIC_ESR_RECV_ILLEGAL_VECTOR);
    /* Byte accesses do not reach the registers (QEMU: read 0). */
    ck_assert_uint_eq(lapic_mmio_read(&apic, LAPIC_VERSION, 1), 0);
}
END_TEST

START_TEST(timer_one_shot)
{
    enable();
    wr(LAPIC_TIMER_DCR, 0x0); /* divide by 2 */
    wr(LAPIC_LVT_TIMER, 0x42);
    wr(LAPIC_TIMER_ICR, 100);
    ck_assert_uint_eq(rd(LAPIC_TIMER_CCR), 100);
    ck_assert(lapic_timer_armed(&apic));
    bus_time += 199;
    lapic_update_timer(&apic);
    ck_assert_uint_eq(rd(LAPIC_TIMER_CCR), 1);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    bus_time += 1;
    lapic_update_timer(&apic);
    ck_assert_uint_eq(rd(LAPIC_TIMER_CCR), 0);
    ck_assert_int_eq(lapic_acknowledge(&apic), 0x42);
    wr(LAPIC_EOI, 0);
    /* Once only. */
    bus_time += 10000;
    lapic_update_timer(&apic);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    ck_assert(!lapic_timer_armed(&apic));
}
END_TEST

START_TEST(timer_periodic_and_divide)
{
    enable();
    wr(LAPIC_TIMER_DCR, 0xb); /* divide by 1 */
    wr(LAPIC_LVT_TIMER, 0x20000 | 0x43);
    wr(LAPIC_TIMER_ICR, 10);
    /* Three periods and a half: one interrupt (the IRR merges them). */
    bus_time += 35;
    ck_assert_uint_eq(rd(LAPIC_TIMER_CCR), 5);
    ck_assert_int_eq(lapic_acknowledge(&apic), 0x43);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    wr(LAPIC_EOI, 0);
    bus_time += 5;
    lapic_update_timer(&apic);
    ck_assert_int_eq(lapic_acknowledge(&apic), 0x43);
    wr(LAPIC_EOI, 0);
    /* Divide by 16 from now: the count goes on from where it is. */
    bus_time += 3;
    ck_assert_uint_eq(rd(LAPIC_TIMER_CCR), 7);
    wr(LAPIC_TIMER_DCR, 0x3);
    ck_assert_uint_eq(rd(LAPIC_TIMER_CCR), 7);
    bus_time += 16 * 6;
    ck_assert_uint_eq(rd(LAPIC_TIMER_CCR), 1);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    bus_time += 16;
    lapic_update_timer(&apic);
    ck_assert_int_eq(lapic_pending(&apic), 0x43);
    /* Masked: counts on, interrupts nobody. */
    lapic_acknowledge(&apic);
    wr(LAPIC_EOI, 0);
    wr(LAPIC_LVT_TIMER, 0x30000 | 0x43);
    bus_time += 1000;
    lapic_update_timer(&apic);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    ck_assert(!lapic_timer_armed(&apic));
    /* A write of 0 to the initial count stops it. */
    wr(LAPIC_LVT_TIMER, 0x20000 | 0x43);
    wr(LAPIC_TIMER_ICR, 0);
    ck_assert_uint_eq(rd(LAPIC_TIMER_CCR), 0);
    ck_assert(!lapic_timer_armed(&apic));
}
END_TEST

/* The time left until the next expiry, which the scheduler turns into a
 * deadline for the guest's exit (core/irq.c irq_next_event). */
START_TEST(timer_bus_left)
{
    enable();
    /* Stopped: never. */
    ck_assert_uint_eq(lapic_timer_bus_left(&apic), UINT64_MAX);
    wr(LAPIC_TIMER_DCR, 0x0); /* divide by 2 */
    wr(LAPIC_LVT_TIMER, 0x20000 | 0x45);
    wr(LAPIC_TIMER_ICR, 10);
    /* Periodic, 20 bus clocks a period. */
    ck_assert_uint_eq(lapic_timer_bus_left(&apic), 20);
    bus_time += 15;
    ck_assert_uint_eq(lapic_timer_bus_left(&apic), 5);
    /* Due and not yet turned into an interrupt: now. */
    bus_time += 7;
    ck_assert_uint_eq(lapic_timer_bus_left(&apic), 0);
    /* Turned into one: the next period's end. */
    lapic_update_timer(&apic);
    ck_assert_uint_eq(lapic_timer_bus_left(&apic), 18);
    /* One-shot, after it fired: never again. */
    wr(LAPIC_LVT_TIMER, 0x45);
    wr(LAPIC_TIMER_ICR, 4);
    ck_assert_uint_eq(lapic_timer_bus_left(&apic), 8);
    bus_time += 8;
    lapic_update_timer(&apic);
    ck_assert_uint_eq(lapic_timer_bus_left(&apic), UINT64_MAX);
    /* Masked: never. */
    wr(LAPIC_LVT_TIMER, 0x30000 | 0x45);
    wr(LAPIC_TIMER_ICR, 4);
    ck_assert_uint_eq(lapic_timer_bus_left(&apic), UINT64_MAX);
}
END_TEST

START_TEST(timer_tsc_deadline)
{
    uint64_t v;
    enable();
    /* Outside the deadline mode the MSR reads 0 and ignores writes. */
    ck_assert(lapic_msr_write(&apic, MSR_IA32_TSC_DEADLINE, tsc_time + 50));
    ck_assert(lapic_msr_read(&apic, MSR_IA32_TSC_DEADLINE, &v));
    ck_assert_uint_eq(v, 0);
    /* A running one-shot is disarmed by the switch to deadline mode. */
    wr(LAPIC_TIMER_ICR, 1000);
    wr(LAPIC_LVT_TIMER, 0x40000 | 0x44);
    ck_assert_uint_eq(rd(LAPIC_TIMER_ICR), 0);
    ck_assert(!lapic_timer_armed(&apic));
    /* The initial count is ignored, the current count reads 0. */
    wr(LAPIC_TIMER_ICR, 1000);
    ck_assert_uint_eq(rd(LAPIC_TIMER_ICR), 0);
    ck_assert(lapic_msr_write(&apic, MSR_IA32_TSC_DEADLINE, tsc_time + 50));
    ck_assert(lapic_timer_armed(&apic));
    tsc_time += 49;
    lapic_update_timer(&apic);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    tsc_time += 1;
    lapic_update_timer(&apic);
    ck_assert_int_eq(lapic_pending(&apic), 0x44);
    /* Fired: the deadline reads 0 again. */
    ck_assert(lapic_msr_read(&apic, MSR_IA32_TSC_DEADLINE, &v));
    ck_assert_uint_eq(v, 0);
    ck_assert(!lapic_timer_armed(&apic));
}
END_TEST

START_TEST(apic_base_msr)
{
    uint64_t v;
    /* Reserved bits: 7:0, 9, above MAXPHYADDR (40 here). */
    ck_assert(!lapic_msr_write(&apic, MSR_IA32_APIC_BASE, 0xfee00800u | 1));
    ck_assert(!lapic_msr_write(&apic, MSR_IA32_APIC_BASE, 0xfee00800u | 0x200));
    ck_assert(!lapic_msr_write(&apic, MSR_IA32_APIC_BASE, (1ull << 40) | 0xfee00800u));
    /* Relocation; the BSP flag cannot be written. */
    ck_assert(lapic_msr_write(&apic, MSR_IA32_APIC_BASE, 0xfed00800u));
    ck_assert_uint_eq(lapic_base(&apic), 0xfed00000u);
    ck_assert(lapic_msr_read(&apic, MSR_IA32_APIC_BASE, &v));
    ck_assert_uint_eq(v, 0xfed00900u);
    /* Disabling resets the registers and hides the page. */
    enable();
    wr(LAPIC_TPR, 0x20);
    ck_assert(lapic_msr_write(&apic, MSR_IA32_APIC_BASE, 0xfee00000u));
    ck_assert(!lapic_mmio_enabled(&apic));
    ck_assert(lapic_extint_open(&apic));
    /* Disabled straight to x2APIC, and EXTD without EN: #GP. */
    ck_assert(!lapic_msr_write(&apic, MSR_IA32_APIC_BASE, 0xfee00c00u));
    ck_assert(!lapic_msr_write(&apic, MSR_IA32_APIC_BASE, 0xfee00400u));
    ck_assert(lapic_msr_write(&apic, MSR_IA32_APIC_BASE, 0xfee00800u));
    ck_assert_uint_eq(rd(LAPIC_TPR), 0);
    ck_assert_uint_eq(rd(LAPIC_SVR), 0xff);
}
END_TEST

START_TEST(x2apic_mode)
{
    uint64_t v;
    lapic_init_state(&apic, 0x25, true, 40, fake_bus, fake_tsc, NULL);
    /* Not in x2APIC mode yet: the MSRs #GP. */
    ck_assert(!lapic_msr_read(&apic, 0x802, &v));
    ck_assert(lapic_msr_write(&apic, MSR_IA32_APIC_BASE, 0xfee00c00u));
    ck_assert(lapic_x2apic(&apic));
    ck_assert(!lapic_mmio_enabled(&apic));
    ck_assert(lapic_msr_read(&apic, 0x802, &v));
    ck_assert_uint_eq(v, 0x25);
    /* Logical ID derived: cluster 2, member bit 5. */
    ck_assert(lapic_msr_read(&apic, 0x80d, &v));
    ck_assert_uint_eq(v, (2u << 16) | (1u << 5));
    /* No DFR, no separate ICR high; read-only registers #GP on writes. */
    ck_assert(!lapic_msr_read(&apic, 0x80e, &v));
    ck_assert(!lapic_msr_read(&apic, 0x831, &v));
    ck_assert(!lapic_msr_write(&apic, 0x802, 0));
    ck_assert(!lapic_msr_write(&apic, 0x80d, 0));
    /* EOI and ESR take only 0; EOI cannot be read. */
    ck_assert(!lapic_msr_write(&apic, 0x80b, 1));
    ck_assert(!lapic_msr_read(&apic, 0x80b, &v));
    /* Reserved bits in a write: #GP. */
    ck_assert(!lapic_msr_write(&apic, 0x808, 0x100));
    ck_assert(!lapic_msr_write(&apic, 0x80f, 0x1ffull | (1ull << 32)));
    ck_assert(lapic_msr_write(&apic, 0x80f, 0x1ff));
    /* SELF IPI. */
    ck_assert(lapic_msr_write(&apic, 0x83f, 0x55));
    ck_assert_int_eq(lapic_pending(&apic), 0x55);
    ck_assert(lapic_msr_read(&apic, 0x822, &v)); /* IRR bits 95:64 */
    ck_assert_uint_eq(v, 1u << (0x55 - 64));
    ck_assert(lapic_msr_write(&apic, 0x80b, 0) && lapic_acknowledge(&apic) == 0x55);
    ck_assert(lapic_msr_write(&apic, 0x80b, 0));
    /* ICR as one 64-bit MSR: destination in bits 63:32. */
    ck_assert(lapic_msr_write(&apic, 0x830, (0x25ull << 32) | 0x56));
    ck_assert(lapic_msr_read(&apic, 0x830, &v));
    ck_assert_uint_eq(v, (0x25ull << 32) | 0x56);
    ck_assert_int_eq(lapic_pending(&apic), 0x56);
    /* x2APIC straight back to xAPIC: #GP; through disabled: fine. */
    ck_assert(!lapic_msr_write(&apic, MSR_IA32_APIC_BASE, 0xfee00800u));
    ck_assert(lapic_msr_write(&apic, MSR_IA32_APIC_BASE, 0xfee00000u));
    ck_assert(lapic_msr_write(&apic, MSR_IA32_APIC_BASE, 0xfee00800u));
    ck_assert(lapic_mmio_enabled(&apic));
}
END_TEST

START_TEST(lint_pins)
{
    enable();
    /* LINT1 as a fixed, level-triggered source. */
    wr(LAPIC_LVT_LINT1, 0x8000 | 0x70);
    lapic_set_lint(&apic, 1, true);
    ck_assert_int_eq(lapic_acknowledge(&apic), 0x70);
    wr(LAPIC_EOI, 0);
    ck_assert_int_eq(neoi, 1);
    /* Masked: nothing. */
    wr(LAPIC_LVT_LINT0, APIC_LVT_MASKED | 0x71);
    lapic_set_lint(&apic, 0, true);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    /* ExtINT opens the 8259's path instead of raising a vector. */
    wr(LAPIC_LVT_LINT0, 0x700);
    ck_assert(lapic_extint_open(&apic));
    lapic_set_lint(&apic, 0, true);
    ck_assert_int_eq(lapic_pending(&apic), -1);
}
END_TEST

/* ---- I/O APIC, wired to the local APIC as hv wires them ---- */

static struct ioapic io;
static int sent; /* messages the I/O APIC sent */

static void to_lapic(void *ctx, const struct apic_msg *m)
{
    (void)ctx;
    sent++;
    lapic_bus_deliver(&apic, m);
}

static void io_setup(void)
{
    setup();
    sent = 0;
    ioapic_init_state(&io, to_lapic, NULL);
    apic.eoi = ioapic_eoi;
    apic.eoi_ctx = &io;
    enable();
}

static uint32_t io_rd(uint32_t reg)
{
    ioapic_mmio_write(&io, IOAPIC_IOREGSEL, 4, reg);
    return (uint32_t)ioapic_mmio_read(&io, IOAPIC_IOWIN, 4);
}

static void io_wr(uint32_t reg, uint32_t v)
{
    ioapic_mmio_write(&io, IOAPIC_IOREGSEL, 4, reg);
    ioapic_mmio_write(&io, IOAPIC_IOWIN, 4, v);
}

/* Entry `pin`: low half `lo`, destination `dest`. */
static void route(unsigned pin, uint32_t lo, uint8_t dest)
{
    io_wr(IOAPIC_REG_REDTBL + 2 * pin + 1, (uint32_t)dest << 24);
    io_wr(IOAPIC_REG_REDTBL + 2 * pin, lo);
}

START_TEST(ioapic_registers)
{
    /* QEMU's I/O APIC: version 0x20, 24 entries, all masked. */
    ck_assert_uint_eq(io_rd(IOAPIC_REG_VER), 0x00170020u);
    ck_assert_uint_eq(io_rd(IOAPIC_REG_ID), 0);
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        ck_assert_uint_eq(io_rd(IOAPIC_REG_REDTBL + 2 * pin), 0x10000u);
        ck_assert_uint_eq(io_rd(IOAPIC_REG_REDTBL + 2 * pin + 1), 0);
    }
    io_wr(IOAPIC_REG_ID, 0x0f000000u | 0x123);
    ck_assert_uint_eq(io_rd(IOAPIC_REG_ID), 0x0f000000u);
    ck_assert_uint_eq(io_rd(IOAPIC_REG_ARB), 0x0f000000u);
    /* The version is read-only; the read-only entry bits stay 0. */
    io_wr(IOAPIC_REG_VER, 0);
    ck_assert_uint_eq(io_rd(IOAPIC_REG_VER), 0x00170020u);
    io_wr(IOAPIC_REG_REDTBL + 4, 0xffffffffu);
    ck_assert_uint_eq(io_rd(IOAPIC_REG_REDTBL + 4), 0x1afffu);
    io_wr(IOAPIC_REG_REDTBL + 5, 0xffffffffu);
    ck_assert_uint_eq(io_rd(IOAPIC_REG_REDTBL + 5), 0xff000000u);
    /* IOREGSEL reads back; entries past 23 read 0. */
    ck_assert_uint_eq(io_rd(0x40), 0);
    ck_assert_uint_eq(ioapic_mmio_read(&io, IOAPIC_IOREGSEL, 4), 0x40);
}
END_TEST

START_TEST(ioapic_edge)
{
    /* Pin 2 (the PIT on a PC) edge-triggered to vector 0x30, APIC 0. */
    route(2, 0x30, 0);
    ioapic_set_irq(&io, 2, true);
    ioapic_set_irq(&io, 2, false);
    ck_assert_int_eq(sent, 1);
    ck_assert_int_eq(lapic_acknowledge(&apic), 0x30);
    /* Edge: no Remote IRR, no EOI message. */
    ck_assert_uint_eq(io_rd(IOAPIC_REG_REDTBL + 4) & (1u << 14), 0);
    wr(LAPIC_EOI, 0);
    ck_assert_int_eq(neoi, 0);
    /* A masked pin loses its edges. */
    route(2, 0x10030, 0);
    ioapic_set_irq(&io, 2, true);
    ioapic_set_irq(&io, 2, false);
    route(2, 0x30, 0);
    ck_assert_int_eq(sent, 1);
    ck_assert_int_eq(lapic_pending(&apic), -1);
    /* Another APIC's ID: sent, not accepted here. */
    route(2, 0x30, 5);
    ioapic_set_irq(&io, 2, true);
    ck_assert_int_eq(sent, 2);
    ck_assert_int_eq(lapic_pending(&apic), -1);
}
END_TEST

START_TEST(ioapic_level_remote_irr)
{
    /* Pin 4 (the UART) level-triggered, vector 0x41. */
    route(4, 0x8000 | 0x41, 0);
    ioapic_set_irq(&io, 4, true);
    ck_assert_int_eq(sent, 1);
    ck_assert_uint_eq(io_rd(IOAPIC_REG_REDTBL + 8) & (1u << 14), 1u << 14);
    ck_assert_uint_eq(rd(LAPIC_TMR + 0x20), 2u);
    ck_assert_int_eq(lapic_acknowledge(&apic), 0x41);
    /* Still asserted: nothing more until the EOI. */
    ioapic_set_irq(&io, 4, true);
    ck_assert_int_eq(sent, 1);
    /* EOI while the line is still high: Remote IRR clears and the
     * interrupt comes again. */
    wr(LAPIC_EOI, 0);
    ck_assert_int_eq(sent, 2);
    ck_assert_int_eq(lapic_acknowledge(&apic), 0x41);
    /* The device drops its line; EOI: Remote IRR clear, nothing sent. */
    ioapic_set_irq(&io, 4, false);
    wr(LAPIC_EOI, 0);
    ck_assert_int_eq(sent, 2);
    ck_assert_uint_eq(io_rd(IOAPIC_REG_REDTBL + 8) & (1u << 14), 0);
    /* A level request held by the mask goes out when unmasked. */
    route(4, 0x18000 | 0x41, 0);
    ioapic_set_irq(&io, 4, true);
    ck_assert_int_eq(sent, 2);
    route(4, 0x8000 | 0x41, 0);
    ck_assert_int_eq(sent, 3);
    /* The EOI register (version 0x20) clears Remote IRR by vector. */
    lapic_acknowledge(&apic);
    ioapic_set_irq(&io, 4, false);
    ioapic_mmio_write(&io, IOAPIC_EOI, 4, 0x41);
    ck_assert_uint_eq(io_rd(IOAPIC_REG_REDTBL + 8) & (1u << 14), 0);
}
END_TEST

START_TEST(ioapic_logical_destination)
{
    /* Flat logical mode: LDR bit 0, entry destination 0x01. */
    wr(LAPIC_LDR, 0x01u << 24);
    route(1, 0x800 | 0x51, 0x01);
    ioapic_set_irq(&io, 1, true);
    ck_assert_int_eq(lapic_pending(&apic), 0x51);
    /* Lowest priority to destination 0xff (all): ours. */
    lapic_acknowledge(&apic);
    wr(LAPIC_EOI, 0);
    route(3, 0x100 | 0x52, 0xff);
    ioapic_set_irq(&io, 3, true);
    ck_assert_int_eq(lapic_pending(&apic), 0x52);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hv_apic");
    TCase *tc = tcase_create("lapic");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, power_on_state);
    tcase_add_test(tc, priority_classes);
    tcase_add_test(tc, nested_eoi_order);
    tcase_add_test(tc, software_disable);
    tcase_add_test(tc, level_eoi_message);
    tcase_add_test(tc, ipi_destinations);
    tcase_add_test(tc, icr_message_to_the_core);
    tcase_add_test(tc, ipi_targets);
    tcase_add_test(tc, init_reset_keeps_id);
    tcase_add_test(tc, errors_latch_on_esr_write);
    tcase_add_test(tc, timer_one_shot);
    tcase_add_test(tc, timer_bus_left);
    tcase_add_test(tc, timer_periodic_and_divide);
    tcase_add_test(tc, timer_tsc_deadline);
    tcase_add_test(tc, apic_base_msr);
    tcase_add_test(tc, x2apic_mode);
    tcase_add_test(tc, lint_pins);
    suite_add_tcase(s, tc);
    tc = tcase_create("ioapic");
    tcase_add_checked_fixture(tc, io_setup, NULL);
    tcase_add_test(tc, ioapic_registers);
    tcase_add_test(tc, ioapic_edge);
    tcase_add_test(tc, ioapic_level_remote_irr);
    tcase_add_test(tc, ioapic_logical_destination);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_main(suite());
}
