/*
 * smp: a multiprocessor guest.  It finds the CPUs in the ACPI MADT,
 * starts every application processor (AP) with INIT, STARTUP, STARTUP and
 * a real-mode trampoline below 1 MiB (guestkit/smp.h; SDM vol 3A 9.4.4
 * "MP Initialization Example"), lets each AP say it is up in 64-bit mode,
 * has every CPU add to a shared counter with a locked instruction (SDM
 * vol 3A 9.1.2.2 "Software Controlled Bus Locking"), and exchanges a fixed
 * IPI with each AP (11.6.1 "Interrupt Command Register (ICR)"), and
 * checks that each CPU kept its own x87 registers throughout.  At the
 * end the APs spin with interrupts off, so that the BSP finishes only if
 * the machine (or hv's scheduler) gives it its share of time.
 *
 * The steps are sequenced by the BSP, one AP at a time, so the output is
 * the same on every run and on plain QEMU (-smp N) and hv (smp=N):
 * tests/integration/smp.sh compares them line by line.
 *
 * `smp wait` ends in a halt instead of exiting, for a monitor to look at
 * the CPUs (`info cpus`, `cpu N`).
 *
 * `smp hostile` (hv only: plain QEMU would reset its CPU on the INIT to
 * itself) first sends what a confused guest might: a STARTUP to an APIC ID
 * no CPU has, an INIT to itself, a fixed IPI with the illegal vector 3 and
 * an NMI; hv logs each and goes on, and the normal run follows.
 */
#include "guestkit/guestkit.h"
#include "guestkit/ioapic.h"
#include "guestkit/pic.h"
#include "guestkit/smp.h"

/* The increments each CPU makes. */
#define INCREMENTS 100000u
/* The BSP's IPI to an AP, and the AP's answer. */
#define VEC_TO_AP  0x40
#define VEC_TO_BSP 0x41

static uint8_t ids[SMP_MAX_CPUS];
static int ncpus;
static uint32_t bsp_id;

/* Shared between the CPUs; every change is a locked instruction. */
static volatile uint32_t counter;
static volatile int aps_up, aps_done, go;
static volatile int ipi_seen[SMP_MAX_CPUS];
static volatile int bsp_ipis;

/* Each CPU's x87 registers are its own: each CPU puts a value of its own
 * on its x87 stack early and reads it back at the end (SDM vol 1 8.1.2
 * "x87 FPU Data Registers"); a hypervisor that let its vCPUs share the
 * CPU's x87 state would hand one CPU another's value. */
static volatile int fpu_ok[SMP_MAX_CPUS];

static void fpu_push(int value)
{
    __asm__ volatile("fninit; fildl %0" : : "m"(value));
}

static int fpu_pop(void)
{
    int value;
    __asm__ volatile("fistpl %0" : "=m"(value));
    return value;
}

/* Each CPU's CPUID names its own APIC ID: the initial APIC ID in leaf 1
 * EBX bits 31:24 and, where the CPU has leaf 0BH, the x2APIC ID in its
 * EDX (SDM vol 2A "CPUID"), both the local APIC's ID. */
static volatile int cpuid_ok[SMP_MAX_CPUS];

static bool cpuid_names_me(void)
{
    uint32_t id = lapic_id();
    if (cpuid(1).ebx >> 24 != id)
        return false;
    return cpuid(0).eax < 0xb || cpuid_count(0xb, 0).edx == id;
}

static void locked_inc(volatile int *p)
{
    __atomic_fetch_add(p, 1, __ATOMIC_SEQ_CST);
}

/* The index (0 = BSP) of the CPU running this, by its APIC ID. */
static int my_index(void)
{
    uint32_t id = lapic_id();
    for (int i = 0; i < ncpus; i++)
        if (ids[i] == id)
            return i;
    return 0;
}

static void ap_got_ipi(int vector)
{
    (void)vector;
    ipi_seen[my_index()] = 1;
    lapic_eoi();
}

static void bsp_got_ipi(int vector)
{
    (void)vector;
    locked_inc(&bsp_ipis);
    lapic_eoi();
}

/* Wait (bounded by about `ms` of PIT time) until *v reaches want. */
static bool wait_for(volatile int *v, int want, unsigned ms)
{
    for (unsigned t = 0; t < ms && *v < want; t += 10)
        smp_delay_us(10000);
    return *v >= want;
}

/* Add INCREMENTS to the counter, each with a LOCK ADD: atomic even while
 * the other CPUs do the same (a plain ADD would lose updates). */
static void add_to_counter(void)
{
    for (uint32_t i = 0; i < INCREMENTS; i++)
        __asm__ volatile("lock addl $1, %0" : "+m"(counter) : : "memory");
}

/* What every AP runs, in 64-bit mode with the BSP's GDT and IDT. */
static void ap_main(void *arg)
{
    int k = (int)(uintptr_t)arg;
    /* The INIT that started it left its APIC software-disabled. */
    lapic_enable();
    fpu_push(1000 + k);
    cpuid_ok[k] = cpuid_names_me();
    printf("smp: CPU %d (APIC ID %u) is up in 64-bit mode\n", k, lapic_id());
    locked_inc(&aps_up);
    while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST))
        __asm__ volatile("pause");
    add_to_counter();
    locked_inc(&aps_done);
    /* Sleep until the BSP's IPI arrives. */
    while (!ipi_seen[k])
        safe_halt();
    cli();
    fpu_ok[k] = fpu_pop() == 1000 + k;
    printf("smp: CPU %d got IPI %#x from the BSP\n", k, VEC_TO_AP);
    lapic_send_ipi(bsp_id, ICR_FIXED(VEC_TO_BSP));
    /* Keep the CPU busy for good, interrupts off: the BSP must still get
     * its time to finish. */
    for (;;)
        __asm__ volatile("pause");
}

/* hv only: IPIs a guest should not send; each gets an "[hv]" line. */
static void hostile(void)
{
    lapic_send_ipi(0x7e, ICR_STARTUP(SMP_TRAMP_BASE >> 12));
    lapic_send_ipi(bsp_id, ICR_INIT);
    lapic_send_ipi(bsp_id, ICR_FIXED(3));
    report_info("ESR after the illegal vector: %#x", lapic_esr());
    if (ncpus > 1)
        lapic_send_ipi(ids[1], ICR_NMI);
    report(true, "hostile IPIs sent, the BSP runs on");
}

int main(int argc, char **argv)
{
    bool hostile_mode = argc > 1 && strcmp(argv[1], "hostile") == 0;
    /* The BIOS's timer and PIC set-up out of the way: the PIT serves the
     * start sequence's waits, and its IRQ 0 must reach nobody. */
    pit_stop();
    pic_init();
    ncpus = acpi_cpus(ids, SMP_MAX_CPUS);
    bsp_id = lapic_id();
    printf("smp: the MADT lists %d CPU(s), APIC IDs", ncpus);
    for (int i = 0; i < ncpus; i++)
        printf(" %u", ids[i]);
    printf("; the BSP is APIC ID %u\n", bsp_id);
    report(ncpus >= 1 && ids[0] == bsp_id, "the MADT lists the BSP first");
    lapic_enable();
    set_vector_handler(VEC_TO_AP, ap_got_ipi);
    set_vector_handler(VEC_TO_BSP, bsp_got_ipi);
    if (hostile_mode) {
        if (!under_hvkit())
            report_skip("hostile IPIs sent, the BSP runs on: not under hvkit");
        else
            hostile();
    }

    fpu_push(1000);
    /* Start the APs one at a time, in the MADT's order. */
    int started = 0;
    for (int k = 1; k < ncpus; k++) {
        if (!smp_start_ap(ids[k], (unsigned)k, ap_main, (void *)(uintptr_t)k)) {
            printf("smp: CPU %d (APIC ID %u) did not start\n", k, ids[k]);
            continue;
        }
        wait_for(&aps_up, k, 3000);
        printf("smp: CPU %d started\n", k);
        started++;
    }
    report(started == ncpus - 1, "every CPU of the MADT started");

    /* Every CPU adds to the counter at once. */
    __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
    add_to_counter();
    wait_for(&aps_done, started, 10000);
    uint32_t want = (uint32_t)(started + 1) * INCREMENTS;
    printf("smp: shared counter %u (expected %u)\n", counter, want);
    report(counter == want, "locked increments from every CPU add up");

    /* A fixed IPI to each AP, which answers with one to the BSP. */
    sti();
    for (int k = 1; k <= started; k++) {
        lapic_send_ipi(ids[k], ICR_FIXED(VEC_TO_AP));
        if (!wait_for(&bsp_ipis, k, 3000))
            break;
        printf("smp: the BSP got IPI %#x from CPU %d\n", VEC_TO_BSP, k);
    }
    cli();
    report(bsp_ipis == started, "an IPI to every AP and one back from each");
    bool own = fpu_pop() == 1000;
    for (int k = 1; k <= started; k++)
        own = own && fpu_ok[k];
    report(own, "every CPU kept its own x87 registers");
    bool ids = cpuid_names_me();
    for (int k = 1; k <= started; k++)
        ids = ids && cpuid_ok[k];
    report(ids, "every CPU's CPUID names its own APIC ID");
    if (argc > 1 && strcmp(argv[1], "wait") == 0) {
        /* For a monitor to look at the CPUs: the BSP halts for good, the
         * APs spin. */
        printf("smp: waiting for the monitor\n");
        for (;;)
            safe_halt();
    }
    return report_summary();
}
